/**
 * Lookup: postcode -> constituency (2024 boundaries) -> MP (and candidates when an election is
 * configured).
 *
 * Rules:
 * - Input is normalised by the `postcode` package; anything else is `postcode_malformed`.
 * - Crown dependencies (JE, GY, IM) have postcodes but no Westminster MP: answered before any I/O,
 *   as are well-formed postcodes of no place anyone lives (GIR 0AA) and the overseas territories'.
 * - The local postcodes table (ONS NSPL) answers first; postcodes.io only for what it lacks, and
 *   remote answers are cached. A remote outage therefore never breaks a postcode we hold.
 * - A vacant seat is an answer, not an error: the constituency and candidates are still useful.
 *   Writing to a vacant seat is refused elsewhere with `seat_vacant`.
 * - People type what they know: an outward code alone ("SW1A") lists the seats it spans in our
 *   postcode table to choose from; a terminated postcode says which seat it was in (when our
 *   table knows), and the supporter may confirm they still live there (`seat`) and carry on.
 * - An MP without an official email address is shown, not contactable, with a link to their
 *   official contact page on parliament.uk.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { prepared } from "../../db/prepared";
import * as schema from "../../db/schema";
import { candidates, constituencies, lookupCache, members } from "../../db/schema";
import type { Deps, RemotePostcode, RemoteSeat } from "../../deps";
import { AppError, isAppError } from "../../lib/errors";
import { CROWN_DEPENDENCY_AREAS, noMpPostcode, parseOutcode, parsePostcode } from "../../lib/postcode";
import { type DevolvedView, devolvedForSeat } from "../devolved/devolved.lookup";
import { type SeatPledgeView, seatPledgeStatus } from "../pledges/pledges.status";
import { freeOtherSeat, VACANT_SEAT } from "./lookup.import";
import { SEARCH_MAX } from "./lookup.schemas";

export type LookupSource = "local" | "cache" | "postcodes.io";

export type MpView = {
  parliamentId: number | null;
  name: string;
  party: string | null;
  /** We hold an official email address for them, so letters can be sent. */
  contactable: boolean;
  /** Their official contact page on parliament.uk (for MPs we can't send letters to, too). */
  contactUrl: string | null;
};

/** The MP's page of contact details on parliament.uk, by Members API id (real ids are positive). */
export const officialContactUrl = (parliamentId: number | null) =>
  parliamentId !== null && parliamentId > 0
    ? `https://members.parliament.uk/member/${parliamentId}/contact`
    : null;

export type CandidateView = { personId: number; name: string; party: string | null; contactable: boolean };

export type ConstituencyView = {
  code: string;
  name: string;
  nation: string;
  region: string;
};

export type SeatView = {
  constituency: ConstituencyView;
  seat: "sitting" | "vacant" | "unknown";
  mp: MpView | null;
  election: { id: string; candidates: CandidateView[] } | null;
  notice?: { code: "seat_vacant" | "mp_unknown"; detail: string };
  /** Whether the MP / each candidate has signed the #SpeakUpForBabies pledge (verified only). */
  pledge?: SeatPledgeView;
};

export type LookupResult = SeatView & {
  postcode: string;
  source: LookupSource;
  /** The postcode has closed; the supporter confirmed (`seat`) they still live in this seat. */
  terminated?: true;
  /**
   * Scotland, Wales, Northern Ireland: the devolved parliament's members for this postcode (null
   * in England and the test seat). See modules/devolved/devolved.lookup.ts.
   */
  devolved: DevolvedView | null;
};

/** An outward code alone: the seats its postcodes fall in (in our table), most postcodes first. */
export type OutcodeResult = { outcode: string; seats: SeatView[] };

/** A "not found" from upstream is cached briefly: a new-build postcode may appear in days. */
const NEGATIVE_CACHE_MS = 60 * 60 * 1000;

type SeatRow = {
  code: string;
  name: string;
  nation: string;
  region: string;
  status: "sitting" | "vacant" | null;
  parliamentId: number | null;
  mpName: string | null;
  party: string | null;
  email: string | null;
};

const seatColumns = {
  code: constituencies.onsCode,
  name: constituencies.name,
  nation: constituencies.nation,
  region: constituencies.regionName,
  status: members.status,
  parliamentId: members.parliamentId,
  mpName: members.name,
  party: members.party,
  email: members.email,
};

/** One indexed join answers a local postcode: postcode -> constituency -> member. */
const localPostcodeStmt = (deps: Deps) =>
  prepared(deps.db, "lookup.localPostcode", (db) =>
    db
      .select({ ...seatColumns, terminated: schema.postcodes.terminated })
      .from(schema.postcodes)
      .leftJoin(constituencies, eq(constituencies.onsCode, schema.postcodes.constituencyCode))
      .leftJoin(members, eq(members.constituencyCode, constituencies.onsCode))
      .where(eq(schema.postcodes.postcode, sql.placeholder("postcode")))
      .prepare(),
  );

const seatByCodeStmt = (deps: Deps) =>
  prepared(deps.db, "lookup.seatByCode", (db) =>
    db
      .select(seatColumns)
      .from(constituencies)
      .leftJoin(members, eq(members.constituencyCode, constituencies.onsCode))
      .where(eq(constituencies.onsCode, sql.placeholder("code")))
      .prepare(),
  );

const candidatesStmt = (deps: Deps) =>
  prepared(deps.db, "lookup.candidates", (db) =>
    db
      .select({
        personId: candidates.personId,
        name: candidates.name,
        party: candidates.party,
        email: candidates.email,
      })
      .from(candidates)
      .where(
        and(
          eq(candidates.electionId, sql.placeholder("electionId")),
          eq(candidates.constituencyCode, sql.placeholder("code")),
        ),
      )
      .orderBy(asc(candidates.name))
      .prepare(),
  );

export async function lookupPostcode(
  deps: Deps,
  input: {
    postcode: string;
    seat?: string;
    area?: string;
    /** false: the Westminster seat only (a pledge, a letter to the MP), no devolved lookup. */
    devolved?: boolean;
  },
): Promise<LookupResult> {
  const devolvedFor = (args: Parameters<typeof devolvedForSeat>[1]) =>
    input.devolved === false ? Promise.resolve(null) : devolvedForSeat(deps, args);
  const noMp = noMpPostcode(input.postcode);
  if (noMp)
    throw new AppError(
      "postcode_no_westminster_mp",
      `${noMp.postcode} is ${noMp.place}: there is no MP for this postcode. Please enter the postcode of your home address.`,
      { postcode: noMp.postcode },
    );
  const parsed = parsePostcode(input.postcode);
  if (!parsed) {
    const outcode = parseOutcode(input.postcode);
    if (outcode) throw incomplete(outcode);
    throw new AppError(
      "postcode_malformed",
      "Please enter a full UK postcode, for example SW1A 1AA. You can also search by constituency name.",
    );
  }
  const crown = CROWN_DEPENDENCY_AREAS[parsed.area];
  if (crown) {
    throw new AppError(
      "postcode_no_westminster_mp",
      `${parsed.postcode} is in ${crown}, which has its own parliament and no MP at Westminster.`,
      { territory: crown },
    );
  }
  const pc = parsed.postcode;

  const local = (await localPostcodeStmt(deps).get({ postcode: pc })) as
    | (SeatRow & { terminated: boolean })
    | undefined;
  if (local) {
    if (local.terminated) {
      // "Yes, I still live there": the seat the closed postcode was in, confirmed by the supporter.
      if (local.code !== null && input.seat === local.code)
        return {
          postcode: pc,
          source: "local",
          terminated: true,
          ...(await seatView(deps, local)),
          devolved: await devolvedFor({ postcode: pc, westminster: local, area: input.area }),
        };
      throw terminated(pc, local.code === null ? null : local);
    }
    if (local.code === null) throw notFound(pc);
    return {
      postcode: pc,
      source: "local",
      ...(await seatView(deps, local)),
      devolved: await devolvedFor({ postcode: pc, westminster: local, area: input.area }),
    };
  }

  const { answer, source } = await remotePostcode(deps, pc);
  if (answer.kind === "terminated") throw terminated(pc, null);
  if (answer.kind === "not_found" || !answer.constituencyCode) throw notFound(pc);
  const row = (await seatByCodeStmt(deps).get({ code: answer.constituencyCode })) as SeatRow | undefined;
  if (!row) {
    deps.logger.warn("postcodes.io returned a constituency we don't hold", { code: answer.constituencyCode });
    throw new AppError("constituency_not_found", "We don't have that constituency on record yet.");
  }
  return {
    postcode: pc,
    source,
    ...(await seatView(deps, row)),
    devolved: await devolvedFor({
      postcode: pc,
      westminster: row,
      area: input.area,
      remoteSenedd: answer.seneddName ?? null,
    }),
  };
}

/**
 * A closed postcode. When our table knows the seat it was in, the problem names it
 * (`constituency`) so a page can ask "is that still where you live?" and carry on with `seat`.
 */
function terminated(pc: string, seat: { code: string; name: string; nation: string; region: string } | null) {
  if (!seat)
    return new AppError(
      "postcode_terminated",
      `${pc} is no longer in use by Royal Mail. Please use your current postcode, or search by constituency name.`,
    );
  return new AppError(
    "postcode_terminated",
    `${pc} is no longer in use by Royal Mail. It was in ${seat.name}: if that is still where you live, you can carry on with ${seat.name}. Otherwise, please use your current postcode.`,
    { constituency: { code: seat.code, name: seat.name, nation: seat.nation, region: seat.region } },
  );
}

function incomplete(outcode: string) {
  return new AppError(
    "postcode_incomplete",
    `${outcode} is the first half of a postcode. Please enter all of it, for example ${outcode} 1AA, so we can find your MP.`,
    { outcode },
  );
}

function notFound(pc: string) {
  return new AppError(
    "postcode_not_found",
    `${pc} looks right but we couldn't find it. Check it, or search by constituency name.`,
  );
}

async function remotePostcode(
  deps: Deps,
  pc: string,
): Promise<{ answer: RemotePostcode; source: LookupSource }> {
  const key = `postcode:${pc}`;
  const now = deps.clock.now();
  const [hit] = await deps.db.select().from(lookupCache).where(eq(lookupCache.key, key)).limit(1);
  if (hit && hit.expiresAt > now) return { answer: hit.value as RemotePostcode, source: "cache" };
  if (!deps.config.REMOTE_LOOKUP) return { answer: { kind: "not_found", postcode: pc }, source: "local" };

  const answer = await deps.postcodeSource.lookup(pc);
  const ttl =
    answer.kind === "not_found" ? NEGATIVE_CACHE_MS : deps.config.LOOKUP_CACHE_TTL_HOURS * 3_600_000;
  try {
    await deps.db
      .insert(lookupCache)
      .values({ key, value: answer, expiresAt: now + ttl })
      .onConflictDoUpdate({ target: lookupCache.key, set: { value: answer, expiresAt: now + ttl } });
  } catch (e) {
    // The answer is good even when caching it isn't possible (database locked or full).
    if (!isAppError(e) || e.code !== "database_unavailable") throw e;
  }
  return { answer, source: "postcodes.io" };
}

/** The answer for one seat: constituency, MP (asking the Members API if we hold no row), candidates. */
async function seatView(deps: Deps, row: SeatRow, opts = { askRemote: true }): Promise<SeatView> {
  const constituency = { code: row.code, name: row.name, nation: row.nation, region: row.region };
  let status = row.status;
  let mp: MpView | null =
    row.status === "sitting" && row.mpName
      ? {
          parliamentId: row.parliamentId,
          name: row.mpName,
          party: row.party,
          contactable: row.email !== null,
          contactUrl: officialContactUrl(row.parliamentId),
        }
      : null;

  if (status === null && opts.askRemote && deps.config.REMOTE_LOOKUP) {
    const remote = await remoteSeat(deps, row.name);
    if (remote.kind !== "unknown") {
      await saveRemoteSeat(deps, row.code, remote);
      status = remote.kind;
      mp =
        remote.kind === "sitting"
          ? {
              parliamentId: remote.member.parliamentId,
              name: remote.member.name,
              party: remote.member.party,
              contactable: false,
              contactUrl: officialContactUrl(remote.member.parliamentId),
            }
          : null;
    }
  }

  const view: SeatView = {
    constituency,
    seat: status ?? "unknown",
    mp,
    election: await electionView(deps, row.code),
  };
  if (status === "vacant") {
    view.notice = {
      code: "seat_vacant",
      detail: `${row.name} has no MP at the moment. You can still pledge, and write to candidates when a by-election is called.`,
    };
  } else if (status === null) {
    view.notice = { code: "mp_unknown", detail: `We don't know who the MP for ${row.name} is yet.` };
  }
  view.pledge = await seatPledgeStatus(deps, {
    code: row.code,
    mpPersonId: mp?.parliamentId ?? null,
    candidatePersonIds: view.election?.candidates.map((c) => c.personId) ?? [],
  });
  return view;
}

/**
 * The Members API's answer for a seat we hold no MP row for. If it is down, the seat is shown as
 * "MP unknown" rather than failing the lookup: the constituency came from our own data, and
 * local answers must keep working through an upstream outage.
 */
async function remoteSeat(deps: Deps, constituencyName: string): Promise<RemoteSeat> {
  try {
    return await deps.memberSource.seatFor(constituencyName);
  } catch (e) {
    if (!isAppError(e) || e.code !== "upstream_unavailable") throw e;
    deps.logger.warn("members API unavailable; answering without the MP", { detail: e.detail });
    return { kind: "unknown" };
  }
}

/** Save the Members API's answer so the next lookup of this seat is local. */
async function saveRemoteSeat(deps: Deps, code: string, seat: Exclude<RemoteSeat, { kind: "unknown" }>) {
  const values =
    seat.kind === "sitting"
      ? {
          status: "sitting" as const,
          parliamentId: seat.member.parliamentId,
          name: seat.member.name,
          party: seat.member.party,
          partyAbbreviation: seat.member.partyAbbreviation,
          email: null,
        }
      : VACANT_SEAT;
  const updatedAt = deps.clock.now();
  const upsert = deps.db
    .insert(members)
    .values({ constituencyCode: code, ...values, updatedAt })
    .onConflictDoUpdate({ target: members.constituencyCode, set: { ...values, updatedAt } });
  // The live API always carries ids; a null id (snapshot data) has no earlier row to free.
  if (seat.kind === "vacant" || seat.member.parliamentId === null) return void (await deps.atomic([upsert]));
  // Our members table may still hold this person on their previous seat: free that row first,
  // as the full import does, instead of failing the lookup.
  await deps.atomic([freeOtherSeat(deps, seat.member.parliamentId, code, updatedAt), upsert]);
}

async function electionView(deps: Deps, code: string): Promise<SeatView["election"]> {
  const electionId = deps.config.ELECTION_ID;
  if (!electionId) return null;
  const rows = (await candidatesStmt(deps).all({ electionId, code })) as {
    personId: number;
    name: string;
    party: string | null;
    email: string | null;
  }[];
  return {
    id: electionId,
    candidates: rows.map((r) => ({
      personId: r.personId,
      name: r.name,
      party: r.party,
      contactable: !!r.email,
    })),
  };
}

/** Seats (at most this many) listed for an outward code. The most any outcode spans is far fewer. */
const OUTCODE_SEATS = 12;

/**
 * An outward code alone ("SW1A", "ab10"): the seats its live postcodes fall in, from our postcode
 * table only (the supporter chooses; nothing is asked upstream), most postcodes first. An
 * outcode we hold no postcodes for is `postcode_incomplete`: we need the full postcode.
 */
export async function lookupOutcode(deps: Deps, input: { outcode: string }): Promise<OutcodeResult> {
  const outcode = parseOutcode(input.outcode);
  if (!outcode) throw new AppError("postcode_malformed", "Please enter a UK postcode, for example SW1A 1AA.");
  const crown = CROWN_DEPENDENCY_AREAS[outcode.replace(/\d.*$/, "")];
  if (crown)
    throw new AppError(
      "postcode_no_westminster_mp",
      `${outcode} is in ${crown}, which has its own parliament and no MP at Westminster.`,
      { territory: crown },
    );
  // Postcodes of the outcode sort between "SW1A " and "SW1A!" ("!" follows " "): a range on
  // the primary key, not a scan.
  const codes = await deps.db
    .select({ code: schema.postcodes.constituencyCode, n: sql<number>`count(*)` })
    .from(schema.postcodes)
    .where(
      and(
        sql`${schema.postcodes.postcode} >= ${`${outcode} `} and ${schema.postcodes.postcode} < ${`${outcode}!`}`,
        eq(schema.postcodes.terminated, false),
        sql`${schema.postcodes.constituencyCode} is not null`,
      ),
    )
    .groupBy(schema.postcodes.constituencyCode)
    .orderBy(sql`2 desc`, asc(schema.postcodes.constituencyCode))
    .limit(OUTCODE_SEATS);
  const seats: SeatView[] = [];
  for (const { code } of codes) {
    const row = (await seatByCodeStmt(deps).get({ code })) as SeatRow | undefined;
    // Local data only: listing seats must never cost one upstream call each.
    if (row) seats.push(await seatView(deps, row, { askRemote: false }));
  }
  if (!seats.length) throw incomplete(outcode);
  return { outcode, seats };
}

/** Case, accents and punctuation folded away: "glyndwr" finds "Montgomeryshire and Glyndŵr". */
export const searchKey = (s: string) =>
  s
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

const SEARCH_RESULTS = 20;

/**
 * Constituencies whose name contains the query (for people who don't know their postcode).
 * The query is capped (SEARCH_MAX) and matched in code on folded names: no LIKE pattern is
 * built from what people type (D1 refuses patterns over 50 bytes), and accents don't matter.
 */
export async function searchConstituencies(deps: Deps, input: { q: string }): Promise<SeatView[]> {
  const q = input.q.trim();
  if (q.length > SEARCH_MAX)
    throw new AppError("validation_failed", `A constituency name is at most ${SEARCH_MAX} characters.`);
  const key = searchKey(q);
  if (!key) return [];
  // 650 short names: one small read, then a substring match in code.
  const names = await deps.db
    .select({ code: constituencies.onsCode, name: constituencies.name })
    .from(constituencies)
    .where(eq(constituencies.isTest, false));
  const codes = names
    .filter((n) => ` ${searchKey(n.name)} `.includes(key))
    .sort((a, b) => a.name.localeCompare(b.name, "en-GB"))
    .slice(0, SEARCH_RESULTS)
    .map((n) => n.code);
  if (!codes.length) return [];
  const rows = (await deps.db
    .select(seatColumns)
    .from(constituencies)
    .leftJoin(members, eq(members.constituencyCode, constituencies.onsCode))
    .where(inArray(constituencies.onsCode, codes))
    .orderBy(asc(constituencies.name))) as SeatRow[];
  // Search lists many seats at once: answer from local data only, never one upstream call per row.
  return Promise.all(rows.map((r) => seatView(deps, r, { askRemote: false })));
}

/** One constituency by ONS code. */
export async function getSeat(deps: Deps, input: { code: string }): Promise<SeatView> {
  const row = (await seatByCodeStmt(deps).get({ code: input.code })) as SeatRow | undefined;
  if (!row) throw new AppError("constituency_not_found", `There is no constituency with code ${input.code}.`);
  return seatView(deps, row);
}
