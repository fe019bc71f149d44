/**
 * Names shared by wrangler.toml and the Worker (kept out of worker.ts, whose every export
 * workerd would take for an entry point). tests/workers check they match wrangler.toml.
 */
import type { LimitGroup } from "../../http/rate-limit";

/** wrangler.toml [triggers]: this one runs retention (hourly); every other cron drains the outbox. */
export const RETENTION_CRON = "17 * * * *";
/** wrangler.toml [triggers]: the daily members sync of every parliament (05:23 UTC, clear of the hourly job). */
export const MEMBERS_SYNC_CRON = "23 5 * * *";
/** wrangler.toml [[queues.consumers]]: the dead-letter queue of the delivery queue. */
export const DEAD_LETTER_QUEUE = "speakup-outbox-dlq";
/**
 * wrangler.toml [[ratelimits]]: the binding for each per-address route group. They count per
 * minute (RATE_LIMIT_PERIOD_S), at Cloudflare's edge, across every isolate.
 */
export const RATE_LIMIT_BINDINGS: Record<LimitGroup, string> = {
  lookup: "RATE_LIMIT_LOOKUP",
  preview: "RATE_LIMIT_PREVIEW",
  submit: "RATE_LIMIT_SUBMIT",
  resend: "RATE_LIMIT_RESEND",
  pledge: "RATE_LIMIT_PLEDGE",
  privacy: "RATE_LIMIT_PRIVACY",
  signin: "RATE_LIMIT_SIGNIN",
};
export const RATE_LIMIT_PERIOD_S = 60;
