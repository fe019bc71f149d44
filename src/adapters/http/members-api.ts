/**
 * UK Parliament Members API client (members-api.parliament.uk). The same response parser
 * serves the live API and a saved JSON file (`npm run cli -- import:members file.json`).
 *
 * Shapes (checked against the API's published schema and stored real answers):
 * - `GET /api/Members/Search?House=1&IsCurrentMember=true&skip=&take=` ->
 *   `{ items: [{ value: Member, links }], totalResults, resultContext, skip, take, links }`, where
 *   Member is `{ id, nameListAs, nameDisplayAs, nameFullTitle, nameAddressAs, latestParty{…},
 *   gender, latestHouseMembership{ membershipFrom, membershipFromId, house, membershipStartDate,
 *   membershipEndDate, membershipEndReason…, membershipStatus{ statusIsActive, … } }, thumbnailUrl }`.
 * - `GET /api/Members/{id}/Contact` -> `{ value: [{ type, typeDescription, typeId, isPreferred,
 *   isWebAddress, notes, line1..line5, postcode, phone, fax, email }], links }`.
 */
import { z } from "zod";
import type { MemberSource, RemoteMember, RemoteSeat } from "../../deps";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry, readJson } from "./fetch-json";

const SERVICE = "the UK Parliament Members API";
/** The API's own page size limit. */
const PAGE_SIZE = 20;
const HOUSE_OF_COMMONS = 1;
/** The Commons has 650 seats; a walk past this many results is a paging fault, not a bigger House. */
const MAX_MEMBERS = 2000;

export const MemberValue = z.object({
  // Always set by the live API; null only in saved files made without ids (the project's old
  // election-day snapshot had none).
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
      membershipStartDate: z.string().nullable().optional(),
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
  const start = v.latestHouseMembership.membershipStartDate;
  return {
    parliamentId: v.id,
    name: v.nameDisplayAs,
    party: v.latestParty?.name ?? null,
    partyAbbreviation: v.latestParty?.abbreviation ?? null,
    constituencyName: v.latestHouseMembership.membershipFrom,
    since: start && /^\d{4}-\d{2}-\d{2}/.test(start) ? start.slice(0, 10) : null,
  };
}

/**
 * Whether a search item is a sitting MP. A membership with an end date has ended. Without one,
 * the member holds the seat even when `statusIsActive` is false: that flag is also false for a
 * suspended MP, who is still the constituency's MP and still answers letters.
 */
function isSittingMp(v: MemberValue): boolean {
  const m = v.latestHouseMembership;
  return m.house === HOUSE_OF_COMMONS && !m.membershipEndDate;
}

/** Current Commons members from a Members API search page (or a saved file of one or more pages). */
export function parseMembersSearch(json: unknown): RemoteMember[] {
  return parseMembersSearchPages(json).members;
}

/** As parseMembersSearch, with the `totalResults` the (first) page announced. */
export function parseMembersSearchPages(json: unknown): { members: RemoteMember[]; totalResults: number } {
  const pages = Array.isArray(json) ? json : [json];
  const members: RemoteMember[] = [];
  let totalResults = 0;
  for (const [i, page] of pages.entries()) {
    const parsed = MembersSearchResponse.parse(page);
    if (i === 0) totalResults = parsed.totalResults;
    for (const { value } of parsed.items) if (isSittingMp(value)) members.push(toRemoteMember(value));
  }
  return { members, totalResults };
}

/**
 * The one address to write to, as the Department for Education's MP lookup (the source of
 * data/mps.csv) picks it: the member's `…mp@parliament.uk` mailbox first, then any other
 * parliament.uk address, then the entry the member marks preferred, then the first listed. The
 * same rule on both sides keeps a sync from "changing" addresses that are only chosen
 * differently.
 */
export function pickContactEmail(entries: { email?: string | null; isPreferred?: boolean }[]): string | null {
  const emails = entries
    .map((c) => ({ email: (c.email ?? "").trim(), preferred: !!c.isPreferred }))
    .filter((c) => z.email().safeParse(c.email).success);
  const parliament = (c: { email: string }) => /@parliament\.uk$/i.test(c.email);
  return (
    (
      emails.find((c) => /\.mp@parliament\.uk$/i.test(c.email)) ??
      emails.find(parliament) ??
      emails.find((c) => c.preferred) ??
      emails[0]
    )?.email ?? null
  );
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

    /**
     * Every page until `totalResults` (as the first page announced it). An empty page before
     * then ends the walk and the answer is refused as partial: missing MPs must never be read
     * as vacancies.
     */
    async allCurrent() {
      const members: RemoteMember[] = [];
      let totalResults = 0;
      let itemsRead = 0;
      for (let skip = 0; skip < MAX_MEMBERS; skip += PAGE_SIZE) {
        const q = new URLSearchParams({
          House: String(HOUSE_OF_COMMONS),
          IsCurrentMember: "true",
          skip: String(skip),
          take: String(PAGE_SIZE),
        });
        const parsed = MembersSearchResponse.safeParse(await getJson(`/api/Members/Search?${q}`));
        if (!parsed.success) throw unexpected();
        if (skip === 0) totalResults = parsed.data.totalResults;
        itemsRead += parsed.data.items.length;
        for (const { value } of parsed.data.items)
          if (isSittingMp(value)) members.push(toRemoteMember(value));
        if (parsed.data.items.length === 0 || skip + PAGE_SIZE >= totalResults) break;
      }
      if (itemsRead < totalResults)
        throw new AppError(
          "upstream_unavailable",
          `${SERVICE} sent a partial list: ${itemsRead} of the ${totalResults} members it announced.`,
          { retryAfter: 3600 },
        );
      return members;
    },

    async emailFor(parliamentId) {
      const parsed = ContactResponse.safeParse(await getJson(`/api/Members/${parliamentId}/Contact`));
      if (!parsed.success) throw unexpected();
      return pickContactEmail(parsed.data.value);
    },
  };
}
