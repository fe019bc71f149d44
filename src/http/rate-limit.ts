/**
 * Per-client-address limits for the routes people could flood, counted through deps.rateLimiter.
 *
 * Rules:
 * - One group per kind of work, each with its hourly allowance from config. They are sized so
 *   that 100 people behind one address (a school, an office, a phone network's NAT) can all look
 *   up, preview, write and pledge in an afternoon; the limits that stop a real abuser are per
 *   email address, per recipient and per day, in the services.
 * - Keys are the client's limit key (IPv4 address or IPv6 /64, see client.ts) under a keyed
 *   pseudonym, so the counters hold no addresses.
 * - JSON routes answer 429 problem+json with Retry-After. Form routes are registered with
 *   `{ inForm: true }`: the refusal is handed to the handler (`withinLimit(c)`), which shows it
 *   inside the form with everything the supporter typed.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { RateRule } from "../deps";
import type { Config } from "../env";
import { AppError } from "../lib/errors";
import { pseudonym } from "../lib/tokens";
import { clientOf } from "./client";
import type { AppEnv } from "./types";

export type LimitGroup = "lookup" | "preview" | "submit" | "resend" | "pledge" | "privacy" | "signin";

const HOUR = 3600;

export function limitRule(config: Config, group: LimitGroup): RateRule {
  const perHour: Record<LimitGroup, number> = {
    lookup: config.LOOKUP_LIMIT_PER_IP_HOUR,
    preview: config.PREVIEW_LIMIT_PER_IP_HOUR,
    submit: config.LETTER_LIMIT_PER_IP_HOUR,
    resend: config.RESEND_LIMIT_PER_IP_HOUR,
    pledge: config.PLEDGE_LIMIT_PER_IP_HOUR,
    privacy: config.PRIVACY_LIMIT_PER_IP_HOUR,
    signin: config.SIGNIN_LIMIT_PER_IP_HOUR,
  };
  return { name: `ip-${group}`, limit: perHour[group], windowSeconds: HOUR };
}

const WHAT: Record<LimitGroup, string> = {
  lookup: "postcode lookups",
  preview: "letter previews",
  submit: "letters",
  resend: "requests for links",
  pledge: "pledges",
  privacy: "privacy requests",
  signin: "sign-in attempts",
};

/** Count this request against the client's allowance for `group`; the refusal, if refused. */
export async function checkLimit(c: Context<AppEnv>, group: LimitGroup): Promise<AppError | undefined> {
  const deps = c.var.deps;
  const key = await limitKeyOf(deps.config.TOKEN_SECRET, clientOf(c).key);
  const decision = await deps.rateLimiter.consume(limitRule(deps.config, group), key);
  if (decision.allowed) return undefined;
  noteRefusal(deps.logger, group);
  return new AppError(
    "rate_limited",
    `Too many ${WHAT[group]} from your network in the last hour. Please try again in ${minutes(decision.retryAfterSeconds)}.`,
    { retryAfter: decision.retryAfterSeconds },
  );
}

/** Client key -> pseudonym, so the HMAC (~40 µs) runs once per client, not once per request. */
const pseudonyms = new Map<string, string>();
const PSEUDONYM_CACHE = 10_000;

async function limitKeyOf(secret: string, clientKey: string): Promise<string> {
  const cacheKey = `${secret.length}:${secret}\u0000${clientKey}`;
  let key = pseudonyms.get(cacheKey);
  if (!key) {
    key = await pseudonym(secret, clientKey);
    if (pseudonyms.size >= PSEUDONYM_CACHE) pseudonyms.clear();
    pseudonyms.set(cacheKey, key);
  }
  return key;
}

/** Refusals are logged at most once a minute per group, with a count: a flood must not flood the log. */
const refusals = new Map<LimitGroup, { since: number; count: number }>();
function noteRefusal(
  logger: { warn(msg: string, fields?: Record<string, unknown>): void },
  group: LimitGroup,
) {
  const now = Date.now();
  const r = refusals.get(group) ?? { since: 0, count: 0 };
  r.count++;
  if (now - r.since >= 60_000) {
    logger.warn("rate limited", { group, refusedSinceLastLine: r.count });
    r.since = now;
    r.count = 0;
  }
  refusals.set(group, r);
}

const minutes = (s: number) => (s < 90 ? `${s} seconds` : `${Math.ceil(s / 60)} minutes`);

/**
 * Limit a route. `inForm`: the handler shows a refusal inside its form, so it must call
 * `withinLimit(c)` before doing any work (the route tests check that every one does).
 */
export const limit =
  (group: LimitGroup, opts: { inForm?: boolean } = {}): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const refusal = await checkLimit(c, group);
    if (refusal && !opts.inForm) throw refusal;
    if (refusal) c.set("limitRefusal", refusal);
    await next();
    if (refusal) c.header("retry-after", String(refusal.extra.retryAfter));
  };

/** In a form handler's try block: throws the refusal `limit(..., { inForm: true })` recorded. */
export function withinLimit(c: Context<AppEnv>): void {
  const refusal = c.get("limitRefusal");
  if (refusal) throw refusal;
}
