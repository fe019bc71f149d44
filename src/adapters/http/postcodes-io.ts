/**
 * postcodes.io client. Uses the 2024-boundary constituency field
 * (`codes.parliamentary_constituency_2024`). A 404 from /postcodes is ambiguous (never existed
 * or terminated), so it asks /terminated_postcodes before answering "not found".
 */
import { z } from "zod";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry, readJson } from "./fetch-json";
import type { PostcodeSource, RemotePostcode } from "./types";

const SERVICE = "postcodes.io";

export const PostcodesIoResult = z.object({
  status: z.literal(200),
  result: z.object({
    postcode: z.string(),
    parliamentary_constituency_2024: z.string().nullable().optional(),
    codes: z.object({ parliamentary_constituency_2024: z.string().nullable().optional() }).loose(),
  }),
});

export function postcodesIo(baseUrl: string, opts: Omit<FetchOptions, "service">): PostcodeSource {
  const base = baseUrl.replace(/\/$/, "");
  const get = (path: string) => fetchWithRetry(`${base}${path}`, { ...opts, service: SERVICE });

  return {
    async lookup(postcode): Promise<RemotePostcode> {
      const pc = encodeURIComponent(postcode);
      const res = await get(`/postcodes/${pc}`);
      if (res.status === 200) {
        const parsed = PostcodesIoResult.safeParse(await readJson(res, SERVICE));
        if (!parsed.success) {
          throw new AppError("upstream_unavailable", `${SERVICE} sent an answer in an unexpected shape.`, {
            retryAfter: 60,
          });
        }
        const r = parsed.data.result;
        return {
          kind: "found",
          postcode: r.postcode,
          constituencyCode: r.codes.parliamentary_constituency_2024 ?? null,
          constituencyName: r.parliamentary_constituency_2024 ?? null,
        };
      }
      discardBody(res);
      if (res.status !== 404) {
        throw new AppError("upstream_unavailable", `${SERVICE} answered HTTP ${res.status}.`, {
          retryAfter: 60,
        });
      }
      const term = await get(`/terminated_postcodes/${pc}`);
      discardBody(term);
      if (term.status === 200) return { kind: "terminated", postcode };
      if (term.status === 404) return { kind: "not_found", postcode };
      throw new AppError("upstream_unavailable", `${SERVICE} answered HTTP ${term.status}.`, {
        retryAfter: 60,
      });
    },
  };
}
