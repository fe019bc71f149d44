/**
 * Letter tallies for the dashboard.
 *
 * Rules:
 * - A letter is counted once, when its writer has confirmed it (confirmed_at set). Every bump is
 *   an INSERT ... SELECT guarded by "confirmed and not yet in letter_counted", and the last
 *   statement records it in letter_counted, all in one atomic write: calling this twice, or
 *   from two places at once, counts the letter once.
 * - Letters are counted by `letterTallyStatements`, inside the letters module's confirm write
 *   (exact and immediate, on Node and Workers alike). `tallyLetters` is a repair tool
 *   (`npm run cli -- tally`), e.g. after restoring rows from a backup: a catch-up over letters'
 *   rowid whose cursor only moves past letters whose confirmation is settled.
 * - A test-seat letter is marked counted but adds to no tally (admin.counts.ts: what counts).
 */
import { and, asc, eq, gt, isNotNull, notExists, type SQL, sql } from "drizzle-orm";
import { constituencies, letterCounted, letters, letterTallies, tallyCursors } from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { countsInFigures } from "./admin.counts";

const CURSOR = "letters";
const BATCH = 2000;

/** Statements that add one confirmed letter to the tallies (no-ops if unconfirmed or counted). */
export function letterTallyStatements(deps: Pick<Deps, "db">, letterId: string): Statement[] {
  const db = deps.db;
  const uncounted = and(
    eq(letters.id, letterId),
    isNotNull(letters.confirmedAt),
    notExists(db.select({ x: sql`1` }).from(letterCounted).where(eq(letterCounted.letterId, letters.id))),
  );
  const counts = and(uncounted, countsInFigures(letters.constituencyCode));
  const bump = (
    dimension: "day" | "constituency" | "partner" | "recipient" | "partner_day" | "partner_nation",
    key: ReturnType<typeof sql>,
    only?: SQL,
  ) =>
    db
      .insert(letterTallies)
      .select(
        db
          .select({
            campaignId: letters.campaignId,
            dimension: sql`${dimension}`.as("dimension"),
            key: key.as("key"),
            n: sql`1`.as("n"),
          })
          .from(letters)
          .where(and(counts, only)),
      )
      .onConflictDoUpdate({
        target: [letterTallies.campaignId, letterTallies.dimension, letterTallies.key],
        set: { n: sql`${letterTallies.n} + 1` },
      });
  return [
    bump("day", sql`strftime('%Y-%m-%d', ${letters.confirmedAt} / 1000, 'unixepoch')`),
    bump("constituency", sql`${letters.constituencyCode}`),
    bump("partner", sql`coalesce(${letters.partnerKey}, '')`),
    // "kind|place|name": the place is the Westminster seat (MPs, candidates) or the devolved
    // constituency or region (MSPs, MSs, MLAs), so counts by parliament and nation follow from it.
    bump(
      "recipient",
      sql`${letters.recipientKind} || '|' || coalesce(${letters.areaCode}, ${letters.constituencyCode}) || '|' || ${letters.recipientName}`,
    ),
    // A partner's own page: its letters by day and by the writer's nation (partners.service.ts).
    bump(
      "partner_day",
      sql`${letters.partnerKey} || '|' || strftime('%Y-%m-%d', ${letters.confirmedAt} / 1000, 'unixepoch')`,
      isNotNull(letters.partnerKey),
    ),
    bump(
      "partner_nation",
      sql`${letters.partnerKey} || '|' || (select ${constituencies.nation} from ${constituencies} where ${constituencies.onsCode} = ${letters.constituencyCode})`,
      isNotNull(letters.partnerKey),
    ),
    db
      .insert(letterCounted)
      .select(
        db
          .select({ letterId: letters.id })
          .from(letters)
          .where(and(eq(letters.id, letterId), isNotNull(letters.confirmedAt))),
      )
      .onConflictDoNothing(),
  ];
}

/** Background catch-up: count confirmed letters the confirm write did not count. */
export async function tallyLetters(
  deps: Deps,
  opts: { maxBatches?: number } = {},
): Promise<{ counted: number }> {
  const [cur] = await deps.db.select().from(tallyCursors).where(eq(tallyCursors.name, CURSOR));
  let position = cur?.position ?? 0;
  let settledUpTo = position;
  let blocked = false;
  let counted = 0;
  // Past its confirm window (plus a day's grace) an unconfirmed letter can no longer be confirmed.
  const stillConfirmable = deps.clock.now() - (deps.config.LETTER_CONFIRM_TTL_DAYS + 1) * 86_400_000;
  for (let b = 0; b < (opts.maxBatches ?? 1000); b++) {
    const rows = await deps.db
      .select({
        rowid: sql<number>`${letters}.rowid`,
        id: letters.id,
        confirmedAt: letters.confirmedAt,
        status: letters.status,
        createdAt: letters.createdAt,
        counted: sql<
          number | null
        >`(select 1 from ${letterCounted} where ${letterCounted.letterId} = ${letters.id})`,
      })
      .from(letters)
      .where(gt(sql`${letters}.rowid`, position))
      .orderBy(asc(sql`${letters}.rowid`))
      .limit(BATCH);
    if (rows.length === 0) break;
    const todo = rows.filter((r) => r.confirmedAt !== null && !r.counted).map((r) => r.id);
    for (let i = 0; i < todo.length; i += 100)
      await deps.atomic(todo.slice(i, i + 100).flatMap((id) => letterTallyStatements(deps, id)));
    counted += todo.length;
    for (const r of rows) {
      // A letter still awaiting confirmation may yet be confirmed: the cursor waits for it.
      if (r.status === "awaiting_confirmation" && r.createdAt > stillConfirmable) blocked = true;
      if (!blocked) settledUpTo = r.rowid;
    }
    position = rows[rows.length - 1]?.rowid ?? position;
    if (rows.length < BATCH) break;
  }
  await deps.db
    .insert(tallyCursors)
    .values({ name: CURSOR, position: settledUpTo })
    .onConflictDoUpdate({ target: tallyCursors.name, set: { position: settledUpTo } });
  if (counted) deps.logger.info("letters tallied", { counted });
  return { counted };
}
