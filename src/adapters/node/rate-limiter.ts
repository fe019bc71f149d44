/**
 * The Node rate limiter: rate-limiter-flexible's SQLite store over the app's own better-sqlite3
 * connection (table `rate_limits`, created by the migrations), so counts survive a restart and
 * are shared by every process on the database.
 *
 * A limiter must never be why a request stalls or fails: when the store can't be written (another
 * process holds the write lock, disk full), the library falls back to an in-memory "insurance"
 * limiter with the same rule, and the request goes on. The connection's busy timeout is short
 * (db.ts), so that fallback takes milliseconds, not seconds.
 */
import type Database from "better-sqlite3";
import { RateLimiterMemory, RateLimiterSQLite } from "rate-limiter-flexible";
import type { Logger, RateLimiter } from "../../deps";
import { flexibleRateLimiter } from "../../lib/rate-limit";

const TABLE = "rate_limits";
/** Expired counters are deleted this often (the library's own timer can't report errors). */
const CLEANUP_MS = 5 * 60_000;

export function sqliteRateLimiter(
  sqlite: Database.Database,
  logger?: Logger,
): RateLimiter & { stop(): void } {
  const limiter = flexibleRateLimiter((rule) => {
    const opts = { keyPrefix: rule.name, points: rule.limit, duration: rule.windowSeconds };
    return new RateLimiterSQLite({
      ...opts,
      storeClient: sqlite,
      storeType: "better-sqlite3",
      tableName: TABLE,
      tableCreated: true,
      insuranceLimiter: new RateLimiterMemory(opts),
    });
  });
  const timer = setInterval(() => {
    try {
      if (sqlite.open) sqlite.prepare(`DELETE FROM ${TABLE} WHERE expire < ?`).run(Date.now());
    } catch (e) {
      logger?.warn("rate limit cleanup skipped", { error: e instanceof Error ? e.message : String(e) });
    }
  }, CLEANUP_MS);
  timer.unref();
  return { ...limiter, stop: () => clearInterval(timer) };
}
