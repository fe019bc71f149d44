/**
 * The Node rate limiter: fixed-window counters kept in the app's own SQLite database (table
 * `rate_limits`, created by the migrations), so counts survive a restart and are shared by every
 * process on the database.
 *
 * Rules:
 * - Counting is in memory and written behind: every FLUSH_MS the counts added since the last
 *   flush go to SQLite in one transaction, each as an atomic `points = points + delta` UPSERT
 *   whose RETURNING gives the total across all processes. A decision is that total plus what this
 *   process has counted since. Writing a row per request cost ~60% more server CPU per lookup
 *   (one WAL commit each); this costs a map update.
 * - What that gives up, knowingly: a restart after a crash loses at most FLUSH_MS of counts, and
 *   two processes see each other's counts up to FLUSH_MS late. Neither matters to limits sized in
 *   hundreds per hour. A clean shutdown flushes (stop()).
 * - The first request of a key in a window reads its row (a read never waits in WAL mode).
 * - A limiter must never be why a request stalls or fails: a flush that can't write (another
 *   process holds the lock, disk full) keeps its counts and tries again at the next flush.
 */
import type Database from "better-sqlite3";
import { dbFault } from "../../db/guard";
import type { Logger, RateLimiter } from "../../deps";
import { safeErrorText } from "../../lib/safe-error";

/** How often counts are written to SQLite. */
export const FLUSH_MS = 1000;
/** Expired rows are deleted this often. */
const CLEANUP_MS = 5 * 60_000;

type Counter = { base: number; pending: number; windowEnd: number; windowMs: number };

export function sqliteRateLimiter(
  sqlite: Database.Database,
  logger?: Logger,
): RateLimiter & { flush(): void; stop(): void } {
  const read = sqlite.prepare<[string], { points: number; expire: number }>(
    "SELECT points, expire FROM rate_limits WHERE key = ?",
  );
  const add = sqlite.prepare<
    { key: string; delta: number; expire: number; now: number },
    { points: number; expire: number }
  >(
    `INSERT INTO rate_limits (key, points, expire) VALUES (@key, @delta, @expire)
     ON CONFLICT (key) DO UPDATE SET
       points = CASE WHEN rate_limits.expire > @now THEN rate_limits.points + @delta ELSE @delta END,
       expire = CASE WHEN rate_limits.expire > @now THEN rate_limits.expire ELSE excluded.expire END
     RETURNING points, expire`,
  );
  const remove = sqlite.prepare("DELETE FROM rate_limits WHERE key = ?");
  const counters = new Map<string, Counter>();
  let warnedAt = 0;

  function counterFor(key: string, windowMs: number, now: number): Counter {
    const known = counters.get(key);
    if (known && known.windowEnd > now) return known;
    // A new window for this process: start from what the database says (other processes, or
    // this one before a restart). Counts of an ended window are simply dropped.
    let row: { points: number; expire: number } | undefined;
    try {
      row = read.get(key);
    } catch (e) {
      if (!dbFault(e)) throw e;
    }
    const c: Counter =
      row && row.expire > now
        ? { base: row.points, pending: 0, windowEnd: row.expire, windowMs }
        : { base: 0, pending: 0, windowEnd: now + windowMs, windowMs };
    counters.set(key, c);
    return c;
  }

  /** Write the counts added since the last flush; on failure keep them for the next one. */
  function flush() {
    const now = Date.now();
    const due = [...counters].filter(([, c]) => c.pending > 0 && c.windowEnd > now);
    if (due.length && sqlite.open) {
      let totals: ({ points: number; expire: number } | undefined)[];
      try {
        totals = sqlite.transaction(() =>
          due.map(([key, c]) => add.get({ key, delta: c.pending, expire: c.windowEnd, now })),
        )();
      } catch (e) {
        const fault = dbFault(e);
        if (!fault) throw e;
        if (now - warnedAt > 60_000) {
          warnedAt = now;
          logger?.warn("rate limits not saved yet: database unavailable", { fault });
        }
        return;
      }
      due.forEach(([, c], i) => {
        const row = totals[i];
        c.pending = 0;
        if (row) {
          c.base = row.points;
          c.windowEnd = row.expire;
        }
      });
    }
    for (const [key, c] of counters) if (c.windowEnd <= now) counters.delete(key);
  }

  const flusher = setInterval(() => {
    try {
      flush();
    } catch (e) {
      logger?.warn("rate limit flush failed", { error: safeErrorText(e) });
    }
  }, FLUSH_MS);
  flusher.unref();
  const cleaner = setInterval(() => {
    try {
      if (sqlite.open) sqlite.prepare("DELETE FROM rate_limits WHERE expire < ?").run(Date.now());
    } catch (e) {
      logger?.warn("rate limit cleanup skipped", { error: safeErrorText(e) });
    }
  }, CLEANUP_MS);
  cleaner.unref();

  return {
    async consume(rule, key) {
      const now = Date.now();
      const c = counterFor(`${rule.name}:${key}`, rule.windowSeconds * 1000, now);
      c.pending++;
      const total = c.base + c.pending;
      const allowed = total <= rule.limit;
      return {
        allowed,
        remaining: Math.max(0, rule.limit - total),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((c.windowEnd - now) / 1000)),
      };
    },
    async reset(rule, key) {
      const full = `${rule.name}:${key}`;
      counters.delete(full);
      remove.run(full);
    },
    flush,
    stop() {
      clearInterval(flusher);
      clearInterval(cleaner);
      if (sqlite.open) flush();
    },
  };
}
