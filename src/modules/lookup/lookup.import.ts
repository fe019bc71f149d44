/**
 * Importers behind the CLI and the start-up seed: constituencies, ONS postcodes and Democracy
 * Club candidates (MPs: modules/members/members.sync.ts). Each writes its rows atomically (all of a batch or none) and is
 * idempotent, so an interrupted import can simply be run again.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { chunks } from "../../db/limits";
import { candidates, constituencies, members, postcodes } from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { type PostcodeCountry, TEST_POSTCODE } from "../../lib/postcode";
import type { CandidateRow, ConstituencyRow } from "./lookup.schemas";

/**
 * Rows per INSERT of the Node importer: 3 columns x 2000 rows stays far below SQLite's 32,766
 * bound variables. (D1 allows 100: the D1 load is SQL text, scripts/d1-postcodes-sql.ts.)
 */
export const POSTCODE_ROWS_PER_INSERT = 2000;

export const TEST_SEAT = {
  onsCode: "Z00000001",
  name: "Test Constituency (ZZ9 9ZZ)",
  mpName: "Test MP (letters come back to you)",
  /**
   * Reserved member id, so MP pledges (keyed by Parliament member id) can be tried end to end on
   * the test seat. The Members API's ids are positive integers, so -1 never collides with a
   * real MP. Pledges in the test seat stay out of public counts and the wall (is_test).
   */
  parliamentId: -1,
  /** Reserved .invalid domain: even a misconfigured live mode cannot deliver here. */
  email: "test-mp@speakup.invalid",
} as const;

/** Seat names compared without accents, case, punctuation or "and"/"&" differences. */
export const nameKey = (name: string) =>
  name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/&/g, "and")
    .replace(/[^a-z0-9]+/g, " ")
    .trim();

async function codesByName(deps: Deps): Promise<Map<string, string>> {
  const rows = await deps.db
    .select({ code: constituencies.onsCode, name: constituencies.name })
    .from(constituencies);
  return new Map(rows.map((r) => [nameKey(r.name), r.code]));
}

export async function importConstituencies(
  deps: Deps,
  rows: ConstituencyRow[],
): Promise<{ upserted: number }> {
  const statements: Statement[] = rows.map((r) => {
    const values = {
      name: r.name,
      nation: r.nation,
      regionCode: r.region_code,
      regionName: r.region_name,
      hexQ: r.hex_q ?? null,
      hexR: r.hex_r ?? null,
    };
    return deps.db
      .insert(constituencies)
      .values({ onsCode: r.ons_code, ...values })
      .onConflictDoUpdate({ target: constituencies.onsCode, set: values });
  });
  await deps.atomic(statements);
  return { upserted: rows.length };
}

/** A members row with nobody in the seat. */
export const VACANT_SEAT = {
  status: "vacant" as const,
  parliamentId: null,
  name: null,
  party: null,
  partyAbbreviation: null,
  email: null,
};

/**
 * Parliament ids are unique, so a member now sitting for `code` must first leave any other
 * seat we still hold them on (a boundary change or a by-election elsewhere). Used by the
 * lookup's Members API fallback; the members sync (members.sync.ts) empties seats itself.
 */
export function freeOtherSeat(
  deps: Pick<Deps, "db">,
  parliamentId: number,
  code: string,
  now: number,
): Statement {
  return deps.db
    .update(members)
    .set({ ...VACANT_SEAT, updatedAt: now })
    .where(and(eq(members.parliamentId, parliamentId), sql`${members.constituencyCode} <> ${code}`));
}

export type PostcodeRecord = { postcode: string; constituencyCode: string | null; terminated: boolean };

/** Our seats' nations by ONS code, for checking a postcode file against them. */
export async function seatNations(deps: Deps): Promise<Map<string, string>> {
  const rows = await deps.db
    .select({ code: constituencies.onsCode, nation: constituencies.nation })
    .from(constituencies)
    .where(eq(constituencies.isTest, false));
  return new Map(rows.map((r) => [r.code, r.nation]));
}

export type PostcodeRejection = "unknown_seat" | "wrong_nation";

/**
 * Why a postcode row can't be trusted, or null if it can. Around the 2024 boundary change,
 * services that loaded a postcode file without checking it sent people to abolished seats (a
 * 2010-boundary code in the column they read) or to a seat in another nation (a shifted
 * column). So: the code must be one of our 2024 seats, and the seat's nation must be the
 * postcode's (from the file's `ctry` column, or the postcode area when it lies in one nation).
 */
export function checkPostcodeRow(
  seats: ReadonlyMap<string, string>,
  row: { constituencyCode: string | null; country: PostcodeCountry | null },
): PostcodeRejection | null {
  if (row.constituencyCode === null) return null;
  const nation = seats.get(row.constituencyCode);
  if (!nation) return "unknown_seat";
  if (row.country && row.country !== nation) return "wrong_nation";
  return null;
}

/** Upsert one batch of postcodes in one transaction. */
export async function importPostcodeBatch(deps: Deps, rows: PostcodeRecord[]): Promise<void> {
  const statements: Statement[] = [];
  for (const batch of chunks(rows, POSTCODE_ROWS_PER_INSERT)) {
    statements.push(
      deps.db
        .insert(postcodes)
        .values(batch)
        .onConflictDoUpdate({
          target: postcodes.postcode,
          set: { constituencyCode: sql`excluded.constituency_code`, terminated: sql`excluded.terminated` },
        }),
    );
  }
  if (statements.length) await deps.atomic(statements);
}

export type CandidatesImportReport = { imported: number; skipped: number; unmatched: string[] };

/**
 * Load one election's candidates from Democracy Club rows, replacing what we held for that
 * election. Rows for cancelled polls are skipped; seats are matched by name.
 */
export async function importCandidates(
  deps: Deps,
  input: { electionId: string; rows: CandidateRow[] },
): Promise<CandidatesImportReport> {
  const byName = await codesByName(deps);
  const now = deps.clock.now();
  const unmatched = new Set<string>();
  let skipped = 0;
  const keep: number[] = [];
  const statements: Statement[] = [];
  for (const r of input.rows) {
    if (r.election_id !== input.electionId || r.cancelled_poll === "t" || r.cancelled_poll === "True") {
      skipped++;
      continue;
    }
    const code = byName.get(nameKey(r.post_label));
    if (!code) {
      unmatched.add(r.post_label);
      skipped++;
      continue;
    }
    keep.push(r.person_id);
    const values = {
      constituencyCode: code,
      name: r.person_name,
      party: r.party_name || null,
      email: r.email || null,
      updatedAt: now,
    };
    statements.push(
      deps.db
        .insert(candidates)
        .values({ electionId: input.electionId, personId: r.person_id, ...values })
        .onConflictDoUpdate({ target: [candidates.electionId, candidates.personId], set: values }),
    );
  }
  // Candidates who withdrew (no longer in the file) leave the list: by id, in chunks (a NOT IN
  // of every kept candidate would bind thousands of values, and D1 allows 100).
  const kept = new Set(keep);
  const withdrawn = (
    await deps.db
      .select({ personId: candidates.personId })
      .from(candidates)
      .where(eq(candidates.electionId, input.electionId))
  )
    .map((c) => c.personId)
    .filter((id) => !kept.has(id));
  for (const ids of chunks(withdrawn))
    statements.push(
      deps.db
        .delete(candidates)
        .where(and(eq(candidates.electionId, input.electionId), inArray(candidates.personId, ids))),
    );
  await deps.atomic(statements);
  return { imported: keep.length, skipped, unmatched: [...unmatched] };
}

/** The ZZ9 9ZZ seat and its MP, whose mail always comes back to the sender. */
export async function ensureTestSeat(deps: Deps): Promise<void> {
  const now = deps.clock.now();
  await deps.atomic([
    deps.db
      .insert(constituencies)
      .values({
        onsCode: TEST_SEAT.onsCode,
        name: TEST_SEAT.name,
        nation: "Test",
        regionCode: TEST_SEAT.onsCode,
        regionName: "Test",
        isTest: true,
      })
      .onConflictDoNothing(),
    deps.db
      .insert(members)
      .values({
        constituencyCode: TEST_SEAT.onsCode,
        status: "sitting",
        name: TEST_SEAT.mpName,
        party: "Test",
        parliamentId: TEST_SEAT.parliamentId,
        email: TEST_SEAT.email,
        reflectsToSender: true,
        updatedAt: now,
      })
      // A database seeded before the test MP had an id gets it here; the conflict target is
      // the test seat's own row, so no real MP is touched.
      .onConflictDoUpdate({
        target: members.constituencyCode,
        set: { parliamentId: TEST_SEAT.parliamentId },
        setWhere: and(
          eq(members.constituencyCode, TEST_SEAT.onsCode),
          isNull(members.parliamentId),
          eq(members.status, "sitting"),
        ),
      }),
    deps.db
      .insert(postcodes)
      .values({ postcode: TEST_POSTCODE, constituencyCode: TEST_SEAT.onsCode, terminated: false })
      .onConflictDoNothing(),
  ]);
}

export async function countRows(deps: Deps) {
  const count = async (table: typeof constituencies | typeof members | typeof postcodes) =>
    (await deps.db.select({ n: sql<number>`count(*)` }).from(table))[0]?.n ?? 0;
  return {
    constituencies: await count(constituencies),
    members: await count(members),
    postcodes: await count(postcodes),
  };
}
