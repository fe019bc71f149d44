/**
 * The Node server's members sync timer: every MEMBERS_SYNC_INTERVAL_HOURS (daily by default;
 * 0 turns it off) for each parliament in MEMBERS_SYNC_BODIES (the MPs from the Members API, the
 * MSPs, MSs and MLAs from their parliaments' data), each counted from the last time its source
 * was asked (as recorded in the database), so a restart does not sync again early and a server
 * that was down past its time syncs soon after it starts.
 *
 * One run at a time (each run schedules the next when it ends). A failure is recorded by the
 * sync itself (member_syncs, shown on the dashboard); nothing here can stop the server.
 */
import type { Deps } from "../../deps";
import { describeError } from "../../lib/safe-error";
import { syncDueBodies, untilDue } from "../../modules/members/members.schedule";

/**
 * A server that has never synced (or is overdue) waits this long after start-up: the app is
 * answering by then, and a restart loop never hammers Parliament's API.
 */
export const FIRST_SYNC_DELAY_MS = 60_000;
/** setTimeout's ceiling (~24.8 days); a longer wait is taken in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function startMemberSync(deps: Deps, opts: { firstDelayMs?: number } = {}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = deps.config.MEMBERS_SYNC_INTERVAL_HOURS === 0;

  /** The soonest any body is due (null: nothing scheduled). */
  const nextWait = async () => {
    const waits = [...(await untilDue(deps)).values()];
    return waits.length ? Math.min(...waits) : null;
  };
  const schedule = (ms: number | null) => {
    if (stopped || ms === null) return;
    timer = setTimeout(tick, Math.min(Math.max(ms, 0), MAX_TIMER_MS));
    timer.unref();
  };
  async function tick() {
    if (stopped) return;
    const wait = await nextWait();
    if (wait === null) return;
    if (wait > 0) return schedule(wait);
    running = syncDueBodies(deps, { trigger: "schedule" }).catch((e) =>
      deps.logger.error("members sync crashed", { error: describeError(e) }),
    );
    await running;
    running = undefined;
    schedule(await nextWait());
  }

  if (!stopped)
    void nextWait().then(
      (wait) => schedule(wait === null ? null : Math.max(wait, opts.firstDelayMs ?? FIRST_SYNC_DELAY_MS)),
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
