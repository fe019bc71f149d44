/**
 * The Northern Ireland Assembly's open data (data.niassembly.gov.uk, AIMS), its `_JSON` methods:
 *
 * - `members.asmx/GetAllCurrentMembers_JSON` ->
 *   `{ AllMembersList: { Member: [{ PersonId: "5797", AffiliationId, MemberName: "Aiken, Steve OBE",
 *   MemberFirstName: "Steve", MemberLastName: "Aiken", MemberFullDisplayName: "Dr Steve Aiken OBE",
 *   MemberTitle: "MLA - South Antrim", MemberPrefix, PartyName, PartyOrganisationId,
 *   ConstituencyName: "South Antrim", ConstituencyId, MemberImgUrl }] } }`
 * - `members.asmx/GetAllMemberContactDetails_JSON` -> `{ AllMembersList: { Member: [{ PersonId,
 *   AddressType: "NIA Constituency Address" | …, EmaiAddress, … }] } }`, one row per address; the
 *   email field really is spelt `EmaiAddress`.
 *
 * Ids are strings of digits. Like every AIMS method, a list of one comes back as a bare object
 * rather than a list, so both are read. Contact details are optional: if that method fails the
 * members still sync and keep the addresses we hold.
 */
import { z } from "zod";
import type { DevolvedMemberSource, Logger, RemoteDevolvedMember } from "../../deps";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry, readJson } from "./fetch-json";

const SERVICE = "the Northern Ireland Assembly's open data";

const Id = z.union([z.string(), z.number()]).transform((v) => String(v).trim());
const Str = z.string().nullable().optional();
const AimsMember = z
  .object({
    PersonId: Id,
    MemberName: Str,
    MemberFirstName: Str,
    MemberLastName: Str,
    MemberFullDisplayName: Str,
    PartyName: Str,
    ConstituencyName: Str,
  })
  .loose();
const AimsContact = z.object({ PersonId: Id, AddressType: Str, EmaiAddress: Str, EmailAddress: Str }).loose();

/** `{ AllMembersList: { Member: [...] | {...} } }` -> rows. */
const listOf = <T extends z.ZodType>(row: T) =>
  z.object({
    AllMembersList: z
      .union([z.object({ Member: z.union([z.array(row), row]).optional() }).loose(), z.literal(""), z.null()])
      .transform((v) => {
        const rows = typeof v === "object" && v !== null ? v.Member : undefined;
        if (!rows) return [] as z.infer<T>[];
        return (Array.isArray(rows) ? rows : [rows]) as z.infer<T>[];
      }),
  });

export const AimsMembersResponse = listOf(AimsMember);
export const AimsContactsResponse = listOf(AimsContact);

/** "Steve" + "Aiken" (the display name keeps titles and honours: "Dr Steve Aiken OBE"). */
export function mlaName(m: z.infer<typeof AimsMember>): string {
  const first = m.MemberFirstName?.trim();
  const last = m.MemberLastName?.trim();
  if (first && last) return `${first} ${last}`.replace(/\s+/g, " ");
  return (m.MemberFullDisplayName ?? m.MemberName ?? "").replace(/\s+/g, " ").trim();
}

const emailOk = (s: string | null | undefined) => !!s && z.email().safeParse(s.trim()).success;

/**
 * The one address to write to: the member's own Assembly mailbox (@mla.niassembly.gov.uk) first,
 * then any other Assembly address (their constituency office's), then any other listed.
 */
export function pickMlaEmail(rows: z.infer<typeof AimsContact>[]): string | null {
  const emails = rows.map((r) => (r.EmaiAddress ?? r.EmailAddress ?? "").trim()).filter(emailOk);
  return (
    emails.find((e) => /@mla\.niassembly\.gov\.uk$/i.test(e)) ??
    emails.find((e) => /niassembly\.gov\.uk$/i.test(e)) ??
    emails[0] ??
    null
  );
}

export const aimsContactUrl = (personId: number) =>
  `https://aims.niassembly.gov.uk/mlas/details.aspx?per=${personId}&sel=1&ind=0&prv=0`;

/** Current MLAs, with addresses when the contact list was read (else `email` is left undefined). */
export function currentMlas(
  members: z.infer<typeof AimsMember>[],
  contacts: z.infer<typeof AimsContact>[] | null,
): RemoteDevolvedMember[] {
  const byPerson = new Map<string, z.infer<typeof AimsContact>[]>();
  for (const c of contacts ?? []) byPerson.set(c.PersonId, [...(byPerson.get(c.PersonId) ?? []), c]);
  const out: RemoteDevolvedMember[] = [];
  const seen = new Set<number>();
  for (const m of members) {
    const id = Number.parseInt(m.PersonId, 10);
    const area = (m.ConstituencyName ?? "").trim();
    const name = mlaName(m);
    if (!Number.isSafeInteger(id) || id <= 0 || !area || !name || seen.has(id)) continue;
    seen.add(id);
    out.push({
      sourceId: id,
      name,
      party: m.PartyName?.trim() || null,
      areaName: area,
      areaKind: "constituency",
      email: contacts === null ? undefined : pickMlaEmail(byPerson.get(m.PersonId) ?? []),
      contactUrl: aimsContactUrl(id),
    });
  }
  return out;
}

export function niAssemblyApi(
  baseUrl: string,
  opts: Omit<FetchOptions, "service"> & { logger?: Logger },
): DevolvedMemberSource {
  const base = baseUrl.replace(/\/$/, "");
  async function get(path: string): Promise<unknown> {
    const res = await fetchWithRetry(`${base}/${path}`, { ...opts, service: SERVICE });
    if (res.status !== 200) {
      discardBody(res);
      throw new AppError("upstream_unavailable", `${SERVICE} answered HTTP ${res.status} for ${path}.`, {
        retryAfter: 300,
      });
    }
    return readJson(res, SERVICE);
  }
  return {
    async allCurrent() {
      const parsed = AimsMembersResponse.safeParse(await get("members.asmx/GetAllCurrentMembers_JSON"));
      if (!parsed.success)
        throw new AppError("upstream_unavailable", `${SERVICE} sent the members in an unexpected shape.`, {
          retryAfter: 300,
        });
      if (parsed.data.AllMembersList.length === 0)
        throw new AppError("upstream_unavailable", `${SERVICE} listed no current MLAs.`, {
          retryAfter: 3600,
        });
      let contacts: z.infer<typeof AimsContact>[] | null = null;
      try {
        const c = AimsContactsResponse.safeParse(await get("members.asmx/GetAllMemberContactDetails_JSON"));
        if (c.success) contacts = c.data.AllMembersList;
        else opts.logger?.warn("NI Assembly contact details in an unexpected shape; addresses kept", {});
      } catch (e) {
        opts.logger?.warn("NI Assembly contact details unavailable; addresses kept", {
          detail: e instanceof Error ? e.message : String(e),
        });
      }
      return currentMlas(parsed.data.AllMembersList, contacts);
    },
  };
}
