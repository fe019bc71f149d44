/**
 * What counts: the one definition every figure uses (dashboard, front page, public counter,
 * exports, digests' totals).
 *
 * Rules:
 * - A supporter pledge counts once confirmed; a letter once its writer confirmed it (whatever
 *   happens to it later: held, sent, bounced). Both are counted in their tallies in the same
 *   atomic write as the confirmation (admin.tallies.ts, pledges.service.ts).
 * - Nothing from the ZZ9 9ZZ test seat counts, anywhere: the tallies never receive it (the test
 *   is made when counting, by `countsInFigures`), so no reader has to remember to leave it out,
 *   and figures by day, partner, seat, nation, party and parliament add up to the same totals.
 * - A representative's pledge counts once verified, and never the test MP's (pledges.service.ts
 *   `publicRepPledge`).
 * - Totals are read from the tallies (a few hundred rows), never by scanning letters or pledges.
 */
import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import { constituencies, letterTallies, pledgeTallies } from "../../db/schema";
import type { Deps } from "../../deps";
import { countPublicRepPledges, repPledgeCounts } from "../pledges/pledges.service";

/** The seat in `seatColumn` is a real one (not the test seat): the condition for being counted. */
export const countsInFigures = (seatColumn: AnySQLiteColumn | SQL): SQL =>
  sql`${seatColumn} not in (select ${constituencies.onsCode} from ${constituencies} where ${constituencies.isTest} = 1)`;

export type CampaignTotals = {
  /** Letters confirmed by their writers (to MPs, candidates and devolved members). */
  letters: number;
  /** Confirmed supporter pledges. */
  pledges: number;
  /** Verified representatives' pledges, all kinds. */
  repPledges: number;
  /** The same by kind: MPs, candidates, and MSPs, MSs and MLAs together. */
  repPledgesByKind: { mp: number; candidate: number; devolved: number };
};

/**
 * The campaign's headline figures, from the tallies' seat rows (the test seat is never in them,
 * but the join to real seats keeps a row from a deleted seat out too): what the dashboard's
 * tiles, the front page and the public counter all show.
 */
export async function campaignTotals(deps: Pick<Deps, "db" | "config">): Promise<CampaignTotals> {
  const campaignId = deps.config.CAMPAIGN_ID;
  const realSeats = deps.db
    .select({ code: constituencies.onsCode })
    .from(constituencies)
    .where(eq(constituencies.isTest, false));
  const [[pledges], [letters], reps, byKind] = await Promise.all([
    deps.db
      .select({ n: sql<number>`coalesce(sum(${pledgeTallies.n}), 0)` })
      .from(pledgeTallies)
      .where(
        and(
          eq(pledgeTallies.campaignId, campaignId),
          eq(pledgeTallies.dimension, "constituency"),
          inArray(pledgeTallies.key, realSeats),
        ),
      ),
    // Letters of every campaign file are counted together (as the dashboard always has).
    deps.db
      .select({ n: sql<number>`coalesce(sum(${letterTallies.n}), 0)` })
      .from(letterTallies)
      .where(and(eq(letterTallies.dimension, "constituency"), inArray(letterTallies.key, realSeats))),
    countPublicRepPledges(deps as Deps),
    repPledgeCounts(deps as Deps),
  ]);
  const repPledgesByKind = { mp: 0, candidate: 0, devolved: 0 };
  for (const r of byKind)
    repPledgesByKind[r.kind === "mp" || r.kind === "candidate" ? r.kind : "devolved"] += r.n;
  return {
    letters: Number(letters?.n ?? 0),
    pledges: Number(pledges?.n ?? 0),
    repPledges: reps,
    repPledgesByKind,
  };
}
