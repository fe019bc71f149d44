/**
 * Pledge status of the representatives in one seat, for the lookup answer. Kept apart from
 * pledges.service (which uses the lookup) so the lookup can import it without a cycle.
 * One indexed query per seat: rep_pledges by constituency.
 */
import { and, eq, sql } from "drizzle-orm";
import { prepared } from "../../db/prepared";
import { repPledges } from "../../db/schema";
import type { Deps } from "../../deps";

export type RepPledgeStatus = "pledged" | "not_pledged";
export type SeatPledgeView = {
  /** null when the seat has no sitting MP. */
  mp: RepPledgeStatus | null;
  /** By Democracy Club person id; empty when no election is configured. */
  candidates: Record<string, RepPledgeStatus>;
};

/**
 * Runs on every lookup, so it is prepared once per database: building and preparing it on each
 * call took ~200 µs of server CPU per HTTP lookup, half the total (bench/REPORT.md, ## Lookup).
 */
const verifiedInSeatStmt = (deps: Deps) =>
  prepared(deps.db, "pledges.verifiedInSeat", (db) =>
    db
      .select({ kind: repPledges.kind, personId: repPledges.personId })
      .from(repPledges)
      .where(
        and(
          eq(repPledges.constituencyCode, sql.placeholder("code")),
          eq(repPledges.campaignId, sql.placeholder("campaignId")),
          eq(repPledges.status, "verified"),
        ),
      )
      .prepare(),
  );

export async function seatPledgeStatus(
  deps: Deps,
  input: { code: string; mpPersonId: number | null; candidatePersonIds: number[] },
): Promise<SeatPledgeView> {
  const rows = (await verifiedInSeatStmt(deps).all({
    code: input.code,
    campaignId: deps.config.CAMPAIGN_ID,
  })) as { kind: string; personId: number }[];
  const has = (kind: string, id: number) => rows.some((r) => r.kind === kind && r.personId === id);
  const candidates: Record<string, RepPledgeStatus> = {};
  for (const id of input.candidatePersonIds)
    candidates[String(id)] = has("candidate", id) ? "pledged" : "not_pledged";
  return {
    mp: input.mpPersonId === null ? null : has("mp", input.mpPersonId) ? "pledged" : "not_pledged",
    candidates,
  };
}
