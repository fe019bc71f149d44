/**
 * Abuse limits that must survive a restart.
 *
 * - `rate_limits`: fixed-window request counters of the Node rate limiter
 *   (adapters/node/rate-limiter.ts; the column layout of rate-limiter-flexible's SQLite store).
 *   Keys are "<rule>:<pseudonym>" (lib/tokens.ts), never raw addresses; rows expire with their
 *   window.
 * - `signin_throttle`: campaign leads' sign-in attempts per account, per client address and per
 *   trusted browser, for the progressive delay in modules/admin/admin.auth.ts. One conditional
 *   UPSERT claims an attempt, so parallel guesses can't all slip past the count.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const rateLimits = sqliteTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    points: integer("points").notNull().default(0),
    /** Window end, ms since the epoch. */
    expire: integer("expire"),
  },
  (t) => [index("rate_limits_expire_ix").on(t.expire)],
);

export const signinThrottle = sqliteTable(
  "signin_throttle",
  {
    /** "acct:<pseudonym>", "ip:<pseudonym>" or "dev:<pseudonym>". */
    key: text("key").primaryKey(),
    /** Attempts since the last success (or since the counter went stale). */
    attempts: integer("attempts").notNull(),
    /** No further attempt is accepted before this time (ms). */
    nextAt: integer("next_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("signin_throttle_updated_ix").on(t.updatedAt)],
);
