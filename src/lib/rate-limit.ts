/**
 * The RateLimiter port over rate-limiter-flexible's limiters: the in-memory one on Workers (until
 * the Rate Limiting binding replaces it) and as the Node limiter's fallback while its SQLite table
 * can't be written. Turns the library's resolve/reject protocol into a plain decision and keeps
 * one limiter object per rule.
 *
 * Fixed windows per key: a burst at a window's edge can reach twice the limit, which is fine for
 * what these guard (floods, not single requests). A refusal still counts, so hammering a refused
 * key keeps it refused until the window ends.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RateDecision, RateLimiter, RateRule } from "../deps";

/** What the library's limiters (memory, SQLite, ...) have in common for our purposes. */
export type FlexibleLimiter = {
  consume(key: string, points?: number): Promise<RateLimiterRes>;
  delete(key: string): Promise<boolean>;
};

export function flexibleRateLimiter(make: (rule: RateRule) => FlexibleLimiter): RateLimiter {
  const byRule = new Map<string, FlexibleLimiter>();
  const limiterFor = (rule: RateRule) => {
    const id = `${rule.name}|${rule.limit}|${rule.windowSeconds}`;
    let l = byRule.get(id);
    if (!l) {
      l = make(rule);
      byRule.set(id, l);
    }
    return l;
  };
  return {
    async consume(rule, key): Promise<RateDecision> {
      try {
        const res = await limiterFor(rule).consume(key);
        return { allowed: true, remaining: res.remainingPoints, retryAfterSeconds: 0 };
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        return {
          allowed: false,
          remaining: 0,
          retryAfterSeconds: Math.max(1, Math.ceil(e.msBeforeNext / 1000)),
        };
      }
    },
    async reset(rule, key) {
      await limiterFor(rule).delete(key);
    },
  };
}

/** Counts in process memory: lost on restart, per isolate on Workers. */
export const memoryRateLimiter = (): RateLimiter =>
  flexibleRateLimiter(
    (rule) =>
      new RateLimiterMemory({ keyPrefix: rule.name, points: rule.limit, duration: rule.windowSeconds }),
  );
