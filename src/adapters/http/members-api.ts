/**
 * UK Parliament Members API client (members-api.parliament.uk). The same response parser
 * serves the live API and a saved JSON file (`npm run cli -- import:members file.json`).
 */
import { z } from "zod";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry, readJson } from "./fetch-json";
import type { MemberSource, RemoteMember, RemoteSeat } from "./types";

const SERVICE = "the UK Parliament Members API";
/** The API's own page size limit. */
const PAGE_SIZE = 20;
const HOUSE_OF_COMMONS = 1;

export const MemberValue = z.object({
  // Always set by the live API; null only in our election-day snapshot (data/members.json), where
  // the source had no Parliament ids. `sync:members` fills them in.
  id: z.number().int().nullable(),
  nameDisplayAs: z.string(),
  latestParty: z
    .object({ name: z.string(), abbreviation: z.string().nullable().optional() })
    .loose()
    .nullable(),
  latestHouseMembership: z
    .object({
      membershipFrom: z.string(),
      house: z.number().int(),
      membershipEndDate: z.string().nullable().optional(),
      membershipStatus: z.object({ statusIsActive: z.boolean() }).loose().nullable().optional(),
    })
    .loose(),
});
export type MemberValue = z.infer<typeof MemberValue>;

export const MembersSearchResponse = z.object({
  items: z.array(z.object({ value: MemberValue }).loose()),
  totalResults: z.number().int(),
  skip: z.number().int().optional(),
  take: z.number().int().optional(),
});

const ConstituencySearchResponse = z.object({
  items: z.array(
    z
      .object({
        value: z
          .object({
            id: z.number().int(),
            name: z.string(),
            endDate: z.string().nullable().optional(),
            currentRepresentation: z
              .object({ member: z.object({ value: MemberValue }).loose() })
              .loose()
              .nullable()
              .optional(),
          })
          .loose(),
      })
      .loose(),
  ),
});

const ContactResponse = z.object({
  value: z.array(
    z.object({ email: z.string().nullable().optional(), isPreferred: z.boolean().optional() }).loose(),
  ),
});

export function toRemoteMember(v: MemberValue): RemoteMember {
  return {
    parliamentId: v.id,
    name: v.nameDisplayAs,
    party: v.latestParty?.name ?? null,
    partyAbbreviation: v.latestParty?.abbreviation ?? null,
    constituencyName: v.latestHouseMembership.membershipFrom,
  };
}

/** Current Commons members from a Members API search page (or a saved file of one or more pages). */
export function parseMembersSearch(json: unknown): RemoteMember[] {
  const pages = Array.isArray(json) ? json : [json];
  const out: RemoteMember[] = [];
  for (const page of pages) {
    const parsed = MembersSearchResponse.parse(page);
    for (const { value } of parsed.items) {
      const m = value.latestHouseMembership;
      const active = m.membershipStatus?.statusIsActive ?? !m.membershipEndDate;
      if (m.house === HOUSE_OF_COMMONS && active) out.push(toRemoteMember(value));
    }
  }
  return out;
}

function unexpected(): AppError {
  return new AppError("upstream_unavailable", `${SERVICE} sent an answer in an unexpected shape.`, {
    retryAfter: 60,
  });
}

export function membersApi(baseUrl: string, opts: Omit<FetchOptions, "service">): MemberSource {
  const base = baseUrl.replace(/\/$/, "");
  const getJson = async (path: string): Promise<unknown> => {
    const res = await fetchWithRetry(`${base}${path}`, { ...opts, service: SERVICE });
    if (res.status !== 200) {
      discardBody(res);
      throw new AppError("upstream_unavailable", `${SERVICE} answered HTTP ${res.status}.`, {
        retryAfter: 60,
      });
    }
    return readJson(res, SERVICE);
  };

  return {
    async seatFor(constituencyName): Promise<RemoteSeat> {
      const q = new URLSearchParams({ searchText: constituencyName, skip: "0", take: String(PAGE_SIZE) });
      const parsed = ConstituencySearchResponse.safeParse(
        await getJson(`/api/Location/Constituency/Search?${q}`),
      );
      if (!parsed.success) throw unexpected();
      const wanted = constituencyName.toLocaleLowerCase("en-GB");
      const seat = parsed.data.items
        .map((i) => i.value)
        .find((v) => v.name.toLocaleLowerCase("en-GB") === wanted && !v.endDate);
      if (!seat) return { kind: "unknown" };
      const member = seat.currentRepresentation?.member.value;
      return member ? { kind: "sitting", member: toRemoteMember(member) } : { kind: "vacant" };
    },

    async allCurrent() {
      const out: RemoteMember[] = [];
      for (let skip = 0; ; skip += PAGE_SIZE) {
        const q = new URLSearchParams({
          House: String(HOUSE_OF_COMMONS),
          IsCurrentMember: "true",
          skip: String(skip),
          take: String(PAGE_SIZE),
        });
        const json = await getJson(`/api/Members/Search?${q}`);
        const parsed = MembersSearchResponse.safeParse(json);
        if (!parsed.success) throw unexpected();
        out.push(...parseMembersSearch(json));
        if (parsed.data.items.length === 0 || skip + PAGE_SIZE >= parsed.data.totalResults) return out;
      }
    },

    async emailFor(parliamentId) {
      const parsed = ContactResponse.safeParse(await getJson(`/api/Members/${parliamentId}/Contact`));
      if (!parsed.success) throw unexpected();
      const withEmail = parsed.data.value.filter((c) => c.email);
      return (withEmail.find((c) => c.isPreferred) ?? withEmail[0])?.email ?? null;
    },
  };
}
