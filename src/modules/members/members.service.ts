/**
 * What the dashboard shows about the MPs: when they were last synced (and whether that sync
 * was refused or failed), how many seats are held, vacant or without an address, and the
 * latest changes from the change log. The test seat is left out.
 */
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { constituencies, members } from "../../db/schema";
import { memberChanges, memberSyncs } from "../../db/schema.members";
import type { Deps } from "../../deps";

/** Change-log rows on the dashboard. */
export const RECENT_CHANGES = 20;

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

export async function membersStatus(deps: Deps) {
  const syncs = await deps.db.select().from(memberSyncs).orderBy(desc(memberSyncs.finishedAt)).limit(10);
  const view = (s: (typeof syncs)[number]) => ({ ...s, finished: when(s.finishedAt) });
  const latest = syncs[0];
  const lastApplied = syncs.find((s) => s.status === "applied");
  const lastFromApi = syncs.find((s) => s.source === "members-api" && s.status === "applied");
  const [counts] = await deps.db
    .select({
      sitting: sql<number>`sum(case when ${members.status} = 'sitting' then 1 else 0 end)`,
      vacant: sql<number>`sum(case when ${members.status} = 'vacant' then 1 else 0 end)`,
      noEmail: sql<number>`sum(case when ${members.status} = 'sitting' and ${members.email} is null then 1 else 0 end)`,
    })
    .from(members)
    .innerJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
    .where(eq(constituencies.isTest, false));
  const noEmail = await deps.db
    .select({ name: members.name, constituency: constituencies.name, parliamentId: members.parliamentId })
    .from(members)
    .innerJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
    .where(and(eq(constituencies.isTest, false), eq(members.status, "sitting"), isNull(members.email)))
    .orderBy(constituencies.name)
    .limit(50);
  const changes = await deps.db
    .select({
      kind: memberChanges.kind,
      constituency: constituencies.name,
      memberName: memberChanges.memberName,
      before: memberChanges.before,
      after: memberChanges.after,
      effectiveOn: memberChanges.effectiveOn,
      recordedAt: memberChanges.recordedAt,
    })
    .from(memberChanges)
    .innerJoin(constituencies, eq(constituencies.onsCode, memberChanges.constituencyCode))
    .orderBy(desc(memberChanges.recordedAt), desc(memberChanges.id))
    .limit(RECENT_CHANGES);
  return {
    latest: latest ? view(latest) : null,
    /** The latest attempt wrote nothing: the dashboard says why. */
    problem: latest && latest.status !== "applied" ? view(latest) : null,
    lastApplied: lastApplied ? view(lastApplied) : null,
    lastFromApi: lastFromApi ? view(lastFromApi) : null,
    recentSyncs: syncs.map(view),
    seats: {
      sitting: Number(counts?.sitting ?? 0),
      vacant: Number(counts?.vacant ?? 0),
      noEmail: Number(counts?.noEmail ?? 0),
    },
    noEmail,
    changes: changes.map((c) => ({ ...c, recorded: when(c.recordedAt) })),
  };
}
