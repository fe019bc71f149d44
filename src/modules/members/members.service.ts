/**
 * What the dashboard shows about each parliament's members (the MPs, and the MSPs, MSs and MLAs):
 * when they were last synced from their official source (and whether that sync was refused or
 * failed), how many seats are held, vacant or without an address, and the latest changes from
 * the change log. The test seat is left out.
 */
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { constituencies, members } from "../../db/schema";
import { type Body, devolvedAreas, devolvedMembers } from "../../db/schema.devolved";
import { memberChanges, memberSyncs } from "../../db/schema.members";
import type { Deps } from "../../deps";
import { BODY_INFO } from "../devolved/devolved.bodies";

/** Change-log rows on the dashboard. */
export const RECENT_CHANGES = 20;

const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

async function seatCounts(deps: Deps, body: Body) {
  if (body === "uk_parliament") {
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
      .select({ name: members.name, constituency: constituencies.name })
      .from(members)
      .innerJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
      .where(and(eq(constituencies.isTest, false), eq(members.status, "sitting"), isNull(members.email)))
      .orderBy(constituencies.name)
      .limit(50);
    return {
      seats: {
        sitting: Number(counts?.sitting ?? 0),
        vacant: Number(counts?.vacant ?? 0),
        noEmail: Number(counts?.noEmail ?? 0),
      },
      noEmail,
    };
  }
  const [seats] = await deps.db
    .select({ total: sql<number>`coalesce(sum(${devolvedAreas.seats}), 0)` })
    .from(devolvedAreas)
    .where(eq(devolvedAreas.body, body));
  const [held] = await deps.db
    .select({
      sitting: sql<number>`count(*)`,
      noEmail: sql<number>`coalesce(sum(case when ${devolvedMembers.email} is null then 1 else 0 end), 0)`,
    })
    .from(devolvedMembers)
    .where(eq(devolvedMembers.body, body));
  const noEmail = await deps.db
    .select({ name: devolvedMembers.name, constituency: devolvedAreas.name })
    .from(devolvedMembers)
    .innerJoin(devolvedAreas, eq(devolvedAreas.code, devolvedMembers.areaCode))
    .where(and(eq(devolvedMembers.body, body), isNull(devolvedMembers.email)))
    .orderBy(devolvedAreas.name, devolvedMembers.name)
    .limit(50);
  const sitting = Number(held?.sitting ?? 0);
  return {
    seats: {
      sitting,
      vacant: Math.max(0, Number(seats?.total ?? 0) - sitting),
      noEmail: Number(held?.noEmail ?? 0),
    },
    noEmail,
  };
}

export async function membersStatus(deps: Deps, body: Body = "uk_parliament") {
  const info = BODY_INFO[body];
  const syncs = await deps.db
    .select()
    .from(memberSyncs)
    .where(eq(memberSyncs.body, body))
    .orderBy(desc(memberSyncs.finishedAt))
    .limit(10);
  const view = (s: (typeof syncs)[number]) => ({ ...s, finished: when(s.finishedAt) });
  const latest = syncs[0];
  const lastApplied = syncs.find((s) => s.status === "applied");
  const lastFromApi = syncs.find((s) => s.source === info.syncSource && s.status === "applied");
  const { seats, noEmail } = await seatCounts(deps, body);
  const changes = await deps.db
    .select({
      kind: memberChanges.kind,
      constituency: sql<string>`coalesce(${constituencies.name}, ${devolvedAreas.name})`,
      memberName: memberChanges.memberName,
      before: memberChanges.before,
      after: memberChanges.after,
      effectiveOn: memberChanges.effectiveOn,
      recordedAt: memberChanges.recordedAt,
    })
    .from(memberChanges)
    .leftJoin(constituencies, eq(constituencies.onsCode, memberChanges.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, memberChanges.areaCode))
    .where(eq(memberChanges.body, body))
    .orderBy(desc(memberChanges.recordedAt), desc(memberChanges.id))
    .limit(RECENT_CHANGES);
  return {
    body,
    /** MPs, MSPs, MSs, MLAs. */
    title: `${info.role}s`,
    role: info.role,
    bodyName: info.shortName,
    /** The official source, in words. */
    sourceName:
      body === "uk_parliament"
        ? "the UK Parliament Members API"
        : body === "scottish_parliament"
          ? "the Scottish Parliament's open data"
          : body === "senedd"
            ? "the Senedd's members service"
            : "the NI Assembly's open data",
    scheduled: deps.config.MEMBERS_SYNC_BODIES.includes(body) && deps.config.MEMBERS_SYNC_INTERVAL_HOURS > 0,
    latest: latest ? view(latest) : null,
    /** The latest attempt wrote nothing: the dashboard says why. */
    problem: latest && latest.status !== "applied" ? view(latest) : null,
    lastApplied: lastApplied ? view(lastApplied) : null,
    lastFromApi: lastFromApi ? view(lastFromApi) : null,
    recentSyncs: syncs.map(view),
    seats,
    noEmail,
    changes: changes.map((c) => ({ ...c, recorded: when(c.recordedAt) })),
  };
}
