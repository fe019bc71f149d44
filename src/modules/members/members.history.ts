/**
 * The change log's starting point. data/mps.csv is a snapshot: loading it into a new database
 * is a baseline (nothing "changed"), but the seats that changed hands at by-elections since the
 * general election did change, and data/mps-former.csv names who left them. Recording those
 * lets the dashboard (and anyone reading member_changes) see them from the first start.
 */
import { and, eq, gt } from "drizzle-orm";
import { constituencies, members } from "../../db/schema";
import { memberChanges, memberSyncs } from "../../db/schema.members";
import type { Deps, Statement } from "../../deps";
import type { FormerMemberCsvRow } from "./members.schemas";
import type { MemberChange } from "./members.sync";

/** Polling day of the 2024 general election: members since a later date won a by-election. */
export const GENERAL_ELECTION_2024 = "2024-07-04";

export async function recordByElections(
  deps: Deps,
  input: { syncId: string; formers: FormerMemberCsvRow[] },
): Promise<{ changes: number }> {
  const winners = await deps.db
    .select({
      code: members.constituencyCode,
      parliamentId: members.parliamentId,
      name: members.name,
      since: members.since,
    })
    .from(members)
    .innerJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
    .where(
      and(
        eq(constituencies.isTest, false),
        eq(members.status, "sitting"),
        gt(members.since, GENERAL_ELECTION_2024),
      ),
    );
  const byCode = new Map(winners.map((w) => [w.code, w]));
  const changes: MemberChange[] = [];
  for (const f of input.formers) {
    const winner = byCode.get(f.ons_code);
    changes.push({
      constituencyCode: f.ons_code,
      kind: "left",
      parliamentId: f.members_api_id,
      memberName: f.name,
      before: f.name,
      after: winner?.name ?? null,
      // The file says who left, not when; the by-election that filled the seat is the date known.
      effectiveOn: winner?.since ?? null,
    });
  }
  const formerBy = new Map(input.formers.map((f) => [f.ons_code, f]));
  for (const w of winners)
    changes.push({
      constituencyCode: w.code,
      kind: "gained",
      parliamentId: w.parliamentId,
      memberName: w.name,
      before: formerBy.get(w.code)?.name ?? null,
      after: w.name,
      effectiveOn: w.since,
    });
  if (!changes.length) return { changes: 0 };
  const now = deps.clock.now();
  const statements: Statement[] = changes.map((c) =>
    deps.db.insert(memberChanges).values({ ...c, syncId: input.syncId, recordedAt: now }),
  );
  statements.push(
    deps.db.update(memberSyncs).set({ changes: changes.length }).where(eq(memberSyncs.id, input.syncId)),
  );
  await deps.atomic(statements);
  return { changes: changes.length };
}
