/**
 * One schedule for every parliament's members: the MPs (Members API) and the MSPs, MSs and MLAs
 * (their parliaments' own data) are synced on the same interval (MEMBERS_SYNC_INTERVAL_HOURS),
 * each counted from its own last attempt, by the Node timer, the Workers cron and the CLI alike.
 * Which bodies take part: MEMBERS_SYNC_BODIES.
 */
import { and, desc, eq } from "drizzle-orm";
import { BODIES, type Body } from "../../db/schema.devolved";
import { type MemberSyncTrigger, memberSyncs } from "../../db/schema.members";
import type { Deps } from "../../deps";
import { BODY_INFO } from "../devolved/devolved.bodies";
import { syncDevolved } from "../devolved/devolved.sync";
import { type SyncOutcome, syncMembers } from "./members.sync";

export type BodySyncOutcome = SyncOutcome & { body: Body };

/** Sync one body's members now. Records its outcome (applied, refused, failed); throws only for a bug. */
export async function syncBody(
  deps: Deps,
  body: Body,
  opts: { trigger: MemberSyncTrigger; force?: boolean; allContacts?: boolean },
): Promise<BodySyncOutcome> {
  const outcome =
    body === "uk_parliament"
      ? await syncMembers(deps, { trigger: opts.trigger, force: opts.force, allContacts: opts.allContacts })
      : await syncDevolved(deps, { body, trigger: opts.trigger, force: opts.force });
  return { ...outcome, body };
}

/** When a body's official source was last asked (whatever the outcome); file loads don't count. */
export async function lastAttemptAt(deps: Deps, body: Body): Promise<number | null> {
  const [row] = await deps.db
    .select({ at: memberSyncs.finishedAt })
    .from(memberSyncs)
    .where(and(eq(memberSyncs.body, body), eq(memberSyncs.source, BODY_INFO[body].syncSource)))
    .orderBy(desc(memberSyncs.finishedAt))
    .limit(1);
  return row?.at ?? null;
}

/** The bodies MEMBERS_SYNC_BODIES names, in a fixed order (the Commons first). */
export const scheduledBodies = (deps: Pick<Deps, "config">): Body[] =>
  BODIES.filter((b) => deps.config.MEMBERS_SYNC_BODIES.includes(b));

/** Milliseconds until each scheduled body is due (<= 0: due now). Empty when syncing is off. */
export async function untilDue(deps: Deps): Promise<Map<Body, number>> {
  const out = new Map<Body, number>();
  const interval = deps.config.MEMBERS_SYNC_INTERVAL_HOURS * 3_600_000;
  if (interval === 0) return out;
  for (const body of scheduledBodies(deps)) {
    const last = await lastAttemptAt(deps, body);
    out.set(body, last === null ? 0 : last + interval - deps.clock.now());
  }
  return out;
}

/**
 * The cron's (and timer's) pass: sync every scheduled body that is due, one after another (the
 * sources are different services; one failing doesn't hold up the others).
 */
export async function syncDueBodies(
  deps: Deps,
  opts: { trigger: MemberSyncTrigger; all?: boolean },
): Promise<BodySyncOutcome[]> {
  const due = await untilDue(deps);
  const outcomes: BodySyncOutcome[] = [];
  for (const [body, wait] of due) {
    if (!opts.all && wait > 0) continue;
    try {
      outcomes.push(await syncBody(deps, body, { trigger: opts.trigger }));
    } catch (e) {
      deps.logger.error("members sync crashed", { body, error: e instanceof Error ? e.stack : String(e) });
    }
  }
  return outcomes;
}
