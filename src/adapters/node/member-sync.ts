/**
 * The Node server's members sync timer: every MEMBERS_SYNC_INTERVAL_HOURS (daily by default;
 * 0 turns it off), counted from the last time the Members API was asked (as recorded in the
 * database), so a restart does not sync again early and a server that was down past its time
 * syncs soon after it starts.
 *
 * One run at a time (each run schedules the next when it ends). A failure is recorded by the
 * sync itself (member_syncs, shown on the dashboard); nothing here can stop the server.
 */
import { desc, eq } from "drizzle-orm";
import { memberSyncs } from "../../db/schema.members";
import type { Deps } from "../../deps";
import { syncMembers } from "../../modules/members/members.sync";

/**
 * A server that has never synced (or is overdue) waits this long after start-up: the app is
 * answering by then, and a restart loop never hammers Parliament's API.
 */
export const FIRST_SYNC_DELAY_MS = 60_000;
/** setTimeout's ceiling (~24.8 days); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When the API was last asked, whatever the outcome; the seed's load of data/mps.csv does not count. */
async function lastApiAttemptAt(deps: Deps): Promise<number | null> {
  const [row] = await deps.db
    .select({ at: memberSyncs.finishedAt })
    .from(memberSyncs)
    .where(eq(memberSyncs.source, "members-api"))
    .orderBy(desc(memberSyncs.finishedAt))
    .limit(1);
  return row?.at ?? null;
}

export function startMemberSync(deps: Deps, opts: { firstDelayMs?: number } = {}) {
  const intervalMs = deps.config.MEMBERS_SYNC_INTERVAL_HOURS * 3_600_000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = intervalMs === 0;

  const untilDue = async () => {
    const last = await lastApiAttemptAt(deps);
    return last === null ? 0 : last + intervalMs - deps.clock.now();
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(tick, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    timer.unref();
  };
  async function tick() {
    if (stopped) return;
    const wait = await untilDue();
    if (wait > 0) return schedule(wait);
    running = syncMembers(deps, { trigger: "schedule" }).catch((e) =>
      deps.logger.error("members sync crashed", { error: e instanceof Error ? e.stack : String(e) }),
    );
    await running;
    running = undefined;
    schedule(intervalMs);
  }

  if (!stopped)
    void untilDue().then(
      (wait) => schedule(Math.max(wait, opts.firstDelayMs ?? FIRST_SYNC_DELAY_MS)),
      (e) => deps.logger.error("members sync timer could not start", { error: String(e) }),
    );

  return {
    /** Stop the timer; resolves when a run in progress has finished. */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
