/**
 * postcodes.io client. Uses the 2024-boundary constituency field
 * (`codes.parliamentary_constituency_2024`).
 *
 * A 404 from /postcodes/{pc} is `{ status: 404, error: "Postcode not found" }`. Since
 * postcodes.io 17.7.0 (December 2025) the body also carries
 * `terminated: { postcode, year_terminated, month_terminated, longitude, latitude }` when the
 * postcode was once in use, and leaves the key out when it never was. An older copy (a
 * self-hosted mirror that has not been upgraded) sends the bare body in both cases, so the only
 * way to tell "terminated" from "never existed" there is a second request to
 * /terminated_postcodes/{pc}. The client skips that request once it knows the service is new
 * enough: the public service is, and any other base URL proves it with its first 404 that
 * carries `terminated`.
 */
import { z } from "zod";
import type { PostcodeSource, RemoteHolyroodAreas, RemotePostcode } from "../../deps";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry, readJson } from "./fetch-json";

const SERVICE = "postcodes.io";
/** The public service runs a version whose 404 says whether a postcode was terminated. */
const PUBLIC_HOST = "api.postcodes.io";

export const PostcodesIoResult = z.object({
  status: z.literal(200),
  result: z.object({
    postcode: z.string(),
    parliamentary_constituency_2024: z.string().nullable().optional(),
    /** 2026 Senedd constituency, by name (postcodes.io 18.x on; null outside Wales). */
    senedd_constituency: z.string().nullable().optional(),
    codes: z.object({ parliamentary_constituency_2024: z.string().nullable().optional() }).loose(),
  }),
});

/**
 * /scotland/postcodes/{pc}: the Scottish Postcode Directory. Since the 2026 directory the
 * unsuffixed fields are the 2026 Holyrood constituency and region (`…_2021` the previous ones),
 * codes under `codes` (some copies flatten them to `…_code`). Older copies answer only a 2014
 * constituency and no region at all, which must not be read as a 2026 one.
 */
export const ScottishPostcodeResult = z.object({
  status: z.literal(200),
  result: z
    .object({
      postcode: z.string(),
      scottish_parliamentary_constituency: z.string().nullable().optional(),
      scottish_parliamentary_region: z.string().nullable().optional(),
      scottish_parliamentary_constituency_code: z.string().nullable().optional(),
      scottish_parliamentary_region_code: z.string().nullable().optional(),
      codes: z
        .object({
          scottish_parliamentary_constituency: z.string().nullable().optional(),
          scottish_parliamentary_region: z.string().nullable().optional(),
        })
        .loose()
        .nullable()
        .optional(),
    })
    .loose(),
});

/** The 404 body; `terminated` only from postcodes.io 17.7.0 on, and only for a closed postcode. */
export const PostcodesIoNotFound = z
  .object({
    status: z.literal(404).optional(),
    error: z.string().optional(),
    terminated: z
      .object({
        postcode: z.string(),
        year_terminated: z.number().int().nullable().optional(),
        month_terminated: z.number().int().nullable().optional(),
      })
      .loose()
      .nullable()
      .optional(),
  })
  .loose();

function unavailable(detail: string) {
  return new AppError("upstream_unavailable", detail, { retryAfter: 60 });
}

export function postcodesIo(baseUrl: string, opts: Omit<FetchOptions, "service">): PostcodeSource {
  const base = baseUrl.replace(/\/$/, "");
  const get = (path: string) => fetchWithRetry(`${base}${path}`, { ...opts, service: SERVICE });
  // Learned, not configured: see the header. Never reset to false, so a new service is asked once.
  let reportsTerminatedIn404 = new URL(base).hostname === PUBLIC_HOST;

  return {
    async lookup(postcode): Promise<RemotePostcode> {
      const pc = encodeURIComponent(postcode);
      const res = await get(`/postcodes/${pc}`);
      if (res.status === 200) {
        const parsed = PostcodesIoResult.safeParse(await readJson(res, SERVICE));
        if (!parsed.success) throw unavailable(`${SERVICE} sent an answer in an unexpected shape.`);
        const r = parsed.data.result;
        return {
          kind: "found",
          postcode: r.postcode,
          constituencyCode: r.codes.parliamentary_constituency_2024 ?? null,
          constituencyName: r.parliamentary_constituency_2024 ?? null,
          seneddName: r.senedd_constituency ?? null,
        };
      }
      if (res.status !== 404) {
        discardBody(res);
        throw unavailable(`${SERVICE} answered HTTP ${res.status}.`);
      }
      // A 404 whose body can't be read is still a 404; only the terminated detail is lost.
      const body = PostcodesIoNotFound.safeParse(await readJson(res, SERVICE).catch(() => ({})));
      const terminated = body.success ? body.data.terminated : undefined;
      if (terminated) {
        reportsTerminatedIn404 = true;
        return { kind: "terminated", postcode };
      }
      if (reportsTerminatedIn404) return { kind: "not_found", postcode };

      // An older copy of postcodes.io: only /terminated_postcodes can tell.
      const term = await get(`/terminated_postcodes/${pc}`);
      discardBody(term);
      if (term.status === 200) return { kind: "terminated", postcode };
      if (term.status === 404) return { kind: "not_found", postcode };
      throw unavailable(`${SERVICE} answered HTTP ${term.status}.`);
    },

    async holyrood(postcode): Promise<RemoteHolyroodAreas> {
      const res = await get(`/scotland/postcodes/${encodeURIComponent(postcode)}`);
      // 404: not in the Scottish Postcode Directory (or "exists in ONSPD but not in SPD").
      if (res.status === 404) {
        discardBody(res);
        return { kind: "not_found" };
      }
      if (res.status !== 200) {
        discardBody(res);
        throw unavailable(`${SERVICE} answered HTTP ${res.status}.`);
      }
      const parsed = ScottishPostcodeResult.safeParse(await readJson(res, SERVICE));
      if (!parsed.success) throw unavailable(`${SERVICE} sent an answer in an unexpected shape.`);
      const r = parsed.data.result;
      // No region field at all: a directory from before 2026, whose constituency is a 2014 one.
      if (!("scottish_parliamentary_region" in r)) return { kind: "not_found" };
      return {
        kind: "found",
        constituencyCode:
          r.codes?.scottish_parliamentary_constituency ?? r.scottish_parliamentary_constituency_code ?? null,
        constituencyName: r.scottish_parliamentary_constituency ?? null,
        regionCode: r.codes?.scottish_parliamentary_region ?? r.scottish_parliamentary_region_code ?? null,
        regionName: r.scottish_parliamentary_region ?? null,
      };
    },
  };
}
