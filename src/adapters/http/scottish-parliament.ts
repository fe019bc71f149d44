/**
 * The Scottish Parliament's open data (data.parliament.scot/api): the current MSPs, their seats,
 * parties and official email addresses. Each dataset is one JSON array, unpaged:
 *
 * - `members`: `[{ PersonID, PhotoURL, Notes, BirthDate, BirthDateIsProtected,
 *   ParliamentaryName: "Gray, Neil", PreferredName: "Neil", GenderTypeID, IsCurrent }]`
 * - `constituencies`: `[{ ID, Name, RegionID, ValidFromDate, ValidUntilDate }]` and `regions`:
 *   `[{ ID, Name, StartDate, EndDate }]`: every constituency and region since 1999; the 2026
 *   ones are those valid today. The API shortens one region's name ("Central Scot and Lothians
 *   West").
 * - `MemberElectionConstituencyStatuses` / `MemberElectionregionStatuses`: `[{ PersonID,
 *   ConstituencyID | RegionID, ValidFromDate, ValidUntilDate }]`. A member of an abolished region
 *   can still have an open status row, so a seat counts only when its area is current too.
 * - `memberparties`: `[{ PersonID, PartyID, ValidFromDate, ValidUntilDate }]`, `parties`: `[{ ID,
 *   PreferredName, ActualName, ValidFromDate, ValidUntilDate }]`.
 * - `emailaddresses`: `[{ PersonID, Address, IsDefault }]`; `websites`: `[{ PersonID, WebURL,
 *   IsDefault }]` (optional here: a member without one links to the Parliament's list of MSPs).
 *
 * Dates are "2026-05-07T00:00:00" (no zone): compared as calendar days.
 */
import { z } from "zod";
import type { Clock, DevolvedMemberSource, RemoteDevolvedMember } from "../../deps";
import { AppError } from "../../lib/errors";
import { discardBody, type FetchOptions, fetchWithRetry, readJson } from "./fetch-json";

const SERVICE = "the Scottish Parliament's open data";

const Day = z.string().nullable().optional();
const Dated = { ValidFromDate: Day, ValidUntilDate: Day };

const Member = z
  .object({
    PersonID: z.number().int(),
    ParliamentaryName: z.string(),
    PreferredName: z.string().nullable().optional(),
    IsCurrent: z.boolean().nullable().optional(),
  })
  .loose();
const Constituency = z
  .object({
    ID: z.number().int(),
    Name: z.string(),
    RegionID: z.number().int().nullable().optional(),
    ...Dated,
  })
  .loose();
const Region = z.object({ ID: z.number().int(), Name: z.string(), StartDate: Day, EndDate: Day }).loose();
const ConstituencyStatus = z
  .object({ PersonID: z.number().int(), ConstituencyID: z.number().int(), ...Dated })
  .loose();
const RegionStatus = z.object({ PersonID: z.number().int(), RegionID: z.number().int(), ...Dated }).loose();
const MemberParty = z.object({ PersonID: z.number().int(), PartyID: z.number().int(), ...Dated }).loose();
const Party = z
  .object({
    ID: z.number().int(),
    PreferredName: z.string().nullable().optional(),
    ActualName: z.string().nullable().optional(),
    ...Dated,
  })
  .loose();
const EmailAddress = z
  .object({
    PersonID: z.number().int(),
    Address: z.string().nullable(),
    IsDefault: z.boolean().nullable().optional(),
  })
  .loose();
const Website = z
  .object({
    PersonID: z.number().int(),
    WebURL: z.string().nullable(),
    IsDefault: z.boolean().nullable().optional(),
  })
  .loose();

export type ScottishParliamentData = {
  members: z.infer<typeof Member>[];
  constituencies: z.infer<typeof Constituency>[];
  regions: z.infer<typeof Region>[];
  constituencyStatuses: z.infer<typeof ConstituencyStatus>[];
  regionStatuses: z.infer<typeof RegionStatus>[];
  memberParties: z.infer<typeof MemberParty>[];
  parties: z.infer<typeof Party>[];
  emailAddresses: z.infer<typeof EmailAddress>[];
  websites: z.infer<typeof Website>[];
};

/** Dataset path and row schema. */
const DATASETS = {
  members: ["members", Member],
  constituencies: ["constituencies", Constituency],
  regions: ["regions", Region],
  constituencyStatuses: ["MemberElectionConstituencyStatuses", ConstituencyStatus],
  regionStatuses: ["MemberElectionregionStatuses", RegionStatus],
  memberParties: ["memberparties", MemberParty],
  parties: ["parties", Party],
  emailAddresses: ["emailaddresses", EmailAddress],
  websites: ["websites", Website],
} as const;

const day = (v: string | null | undefined) => (v && /^\d{4}-\d{2}-\d{2}/.test(v) ? v.slice(0, 10) : null);
/** Valid on `today` (YYYY-MM-DD): started on or before it, not ended before it. */
const activeOn = (today: string, from: string | null | undefined, until: string | null | undefined) => {
  const f = day(from);
  const u = day(until);
  return f !== null && f <= today && (u === null || u >= today);
};

/** "Gray, Neil" + "Neil" -> "Neil Gray" (the name the Parliament uses on its own pages). */
export function mspDisplayName(parliamentaryName: string, preferredName?: string | null): string {
  const comma = parliamentaryName.indexOf(",");
  if (comma < 0) return parliamentaryName.trim().replace(/\s+/g, " ");
  const surname = parliamentaryName.slice(0, comma).trim();
  const given = parliamentaryName.slice(comma + 1).trim();
  return `${preferredName?.trim() || given} ${surname}`.replace(/\s+/g, " ").trim();
}

const validEmail = (s: string | null | undefined) => !!s && z.email().safeParse(s.trim()).success;

/**
 * The current MSPs from a snapshot of the datasets: each with their seat (constituency or
 * region, by name), party, default email address and official page. Pure, so saved files can be
 * read the same way as the live API.
 */
export function currentMsps(data: ScottishParliamentData, today: string): RemoteDevolvedMember[] {
  const currentConstituencies = new Map(
    data.constituencies
      .filter((c) => activeOn(today, c.ValidFromDate, c.ValidUntilDate))
      .map((c) => [c.ID, c]),
  );
  const currentRegions = new Map(
    data.regions.filter((r) => activeOn(today, r.StartDate, r.EndDate)).map((r) => [r.ID, r]),
  );
  const members = new Map(data.members.filter((m) => m.IsCurrent !== false).map((m) => [m.PersonID, m]));
  const latest = <
    T extends { PersonID: number; ValidFromDate?: string | null; ValidUntilDate?: string | null },
  >(
    rows: T[],
    personId: number,
  ) =>
    rows
      .filter((r) => r.PersonID === personId && activeOn(today, r.ValidFromDate, r.ValidUntilDate))
      .sort((a, b) => (day(b.ValidFromDate) ?? "").localeCompare(day(a.ValidFromDate) ?? ""))[0];
  const partyName = (personId: number) => {
    const membership = latest(data.memberParties, personId);
    if (!membership) return null;
    const party = data.parties.find((p) => p.ID === membership.PartyID);
    return party?.PreferredName?.trim() || party?.ActualName?.trim() || null;
  };
  const email = (personId: number) => {
    const mine = data.emailAddresses.filter((e) => e.PersonID === personId && validEmail(e.Address));
    const chosen = mine.find((e) => e.IsDefault) ?? mine[0];
    return chosen?.Address?.trim() ?? null;
  };
  const website = (personId: number) => {
    const mine = data.websites.filter(
      (w) => w.PersonID === personId && /^https:\/\/www\.parliament\.scot\/msps\//i.test(w.WebURL ?? ""),
    );
    return (mine.find((w) => w.IsDefault) ?? mine[0])?.WebURL ?? null;
  };

  const out: RemoteDevolvedMember[] = [];
  const seen = new Set<number>();
  const seats: {
    personId: number;
    areaName: string;
    areaKind: "constituency" | "region";
    since: string | null;
  }[] = [];
  for (const s of data.constituencyStatuses) {
    const area = currentConstituencies.get(s.ConstituencyID);
    if (area && activeOn(today, s.ValidFromDate, s.ValidUntilDate))
      seats.push({
        personId: s.PersonID,
        areaName: area.Name,
        areaKind: "constituency",
        since: day(s.ValidFromDate),
      });
  }
  for (const s of data.regionStatuses) {
    const area = currentRegions.get(s.RegionID);
    if (area && activeOn(today, s.ValidFromDate, s.ValidUntilDate))
      seats.push({
        personId: s.PersonID,
        areaName: area.Name,
        areaKind: "region",
        since: day(s.ValidFromDate),
      });
  }
  // Latest seat first: a member who moved (rare) is placed where they sit now.
  seats.sort((a, b) => (b.since ?? "").localeCompare(a.since ?? ""));
  for (const seat of seats) {
    const m = members.get(seat.personId);
    if (!m || seen.has(m.PersonID)) continue;
    seen.add(m.PersonID);
    out.push({
      sourceId: m.PersonID,
      name: mspDisplayName(m.ParliamentaryName, m.PreferredName),
      party: partyName(m.PersonID),
      areaName: seat.areaName,
      areaKind: seat.areaKind,
      email: email(m.PersonID),
      contactUrl: website(m.PersonID),
      since: seat.since,
    });
  }
  return out;
}

function unexpected(what: string) {
  return new AppError("upstream_unavailable", `${SERVICE} sent ${what} in an unexpected shape.`, {
    retryAfter: 300,
  });
}

export function scottishParliamentApi(
  baseUrl: string,
  opts: Omit<FetchOptions, "service"> & { clock: Clock },
): DevolvedMemberSource {
  const base = baseUrl.replace(/\/$/, "");
  async function dataset<T>(path: string, schema: z.ZodType<T>): Promise<T[]> {
    const res = await fetchWithRetry(`${base}/${path}`, { ...opts, service: SERVICE });
    if (res.status !== 200) {
      discardBody(res);
      throw new AppError("upstream_unavailable", `${SERVICE} answered HTTP ${res.status} for ${path}.`, {
        retryAfter: 300,
      });
    }
    const parsed = z.array(schema).safeParse(await readJson(res, SERVICE));
    if (!parsed.success) throw unexpected(path);
    return parsed.data;
  }
  return {
    async allCurrent() {
      const entries = Object.entries(DATASETS) as [
        keyof ScottishParliamentData,
        readonly [string, z.ZodType],
      ][];
      const loaded = await Promise.all(
        entries.map(async ([key, [path, schema]]) => {
          // A member without a web page still gets a letter: websites are optional.
          if (key === "websites") return [key, await dataset(path, schema).catch(() => [])] as const;
          return [key, await dataset(path, schema)] as const;
        }),
      );
      const data = Object.fromEntries(loaded) as unknown as ScottishParliamentData;
      const today = new Date(opts.clock.now()).toISOString().slice(0, 10);
      const msps = currentMsps(data, today);
      if (msps.length === 0)
        throw new AppError("upstream_unavailable", `${SERVICE} listed no current MSPs.`, {
          retryAfter: 3600,
        });
      return msps;
    },
  };
}
