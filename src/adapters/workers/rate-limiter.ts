/**
 * The RateLimiter port on Workers, where requests are answered by many isolates at once:
 *
 * - Per-request flood limits (per client address, per route group) go to Cloudflare's Rate
 *   Limiting binding (wrangler.toml [[ratelimits]], one per group): counted at Cloudflare's
 *   edge for every isolate in a location, without a database write per request. The binding
 *   counts per 10 or 60 seconds, so on Workers these limits are per minute, set in wrangler.toml
 *   (the *_LIMIT_PER_IP_HOUR settings are the Node build's; see docs/cloudflare.md).
 * - Hard caps (`rule.hard`: letters per email per day, per representative per day) and any rule
 *   without a binding are D1 counters: one atomic UPSERT ... RETURNING per decision, so the
 *   count is exact however many isolates answer (D1 runs writes one at a time).
 */
import { eq, sql } from "drizzle-orm";
import { rateLimits } from "../../db/schema";
import type { Clock, Db, RateDecision, RateLimiter } from "../../deps";

/** Cloudflare's Rate Limiting binding (`env.X.limit({ key })`). */
export type RateLimitBinding = { limit(options: { key: string }): Promise<{ success: boolean }> };

export function workersRateLimiter(opts: {
  db: Db;
  clock: Clock;
  /** Rule name -> its binding and that binding's period in seconds (10 or 60). */
  bindings: Record<string, { binding: RateLimitBinding; periodSeconds: number } | undefined>;
}): RateLimiter {
  return {
    async consume(rule, key): Promise<RateDecision> {
      const edge = rule.hard ? undefined : opts.bindings[rule.name];
      if (edge) {
        const { success } = await edge.binding.limit({ key });
        return success
          ? { allowed: true, remaining: 1, retryAfterSeconds: 0 }
          : { allowed: false, remaining: 0, retryAfterSeconds: edge.periodSeconds };
      }
      const now = opts.clock.now();
      const live = sql`${rateLimits.expire} > ${now}`;
      const [row] = await opts.db
        .insert(rateLimits)
        .values({ key: `${rule.name}:${key}`, points: 1, expire: now + rule.windowSeconds * 1000 })
        .onConflictDoUpdate({
          target: rateLimits.key,
          set: {
            points: sql`case when ${live} then ${rateLimits.points} + 1 else 1 end`,
            expire: sql`case when ${live} then ${rateLimits.expire} else excluded.expire end`,
          },
        })
        .returning({ points: rateLimits.points, expire: rateLimits.expire });
      const points = row?.points ?? 1;
      const allowed = points <= rule.limit;
      return {
        allowed,
        remaining: Math.max(0, rule.limit - points),
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil(((row?.expire ?? now) - now) / 1000)),
      };
    },
    async reset(rule, key) {
      // The edge binding can't be reset; its window is a minute.
      await opts.db.delete(rateLimits).where(eq(rateLimits.key, `${rule.name}:${key}`));
    },
  };
}
