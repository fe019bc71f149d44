/**
 * Cloudflare Workers entry point: the same app as the Node build, with deps built from the
 * Worker's bindings.
 *
 * Rules:
 * - Configuration comes from bindings ([vars] and secrets) through the same `parseEnv` as Node.
 * - D1 through drizzle's D1 driver; `atomic` is `db.batch` (D1 runs a batch as one transaction,
 *   and has no interactive transactions, which is why domain code never needs one).
 * - Templates were precompiled at build time (scripts/precompile-templates.ts): Workers forbid
 *   eval, which Handlebars.compile needs.
 * - Deps are built once per isolate and per bindings object, not per request.
 * - The module exports only the handler: workerd treats every export as an entry point.
 */
import type { D1Database, ExecutionContext, ScheduledController } from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import { createApp } from "../../app";
import { guardDb, withDbRetry } from "../../db/guard";
import * as schema from "../../db/schema";
import type { Db, Deps, Statement } from "../../deps";
import { ConfigError, isLoopbackHost, isPlaceholderSecret, parseEnv } from "../../env";
import { cloudflarePeer } from "../../http/client";
import { memoryRateLimiter } from "../../lib/rate-limit";
import { templatesFromPrecompiled } from "../../lib/templates";
import { captureMailer } from "../../modules/delivery/delivery.mail";
import { drainOutbox } from "../../modules/delivery/delivery.service";
import { syncDueBodies } from "../../modules/members/members.schedule";
import { runRetention } from "../../modules/privacy/privacy.service";
import { breakerOptions, memberSourceBreaker, postcodeSourceBreaker } from "../http/circuit-breaker";
import { devolvedSources } from "../http/devolved-sources";
import { mailApiMailer } from "../http/mail-api";
import { membersApi } from "../http/members-api";
import { postcodesIo } from "../http/postcodes-io";
import precompiled from "./generated/templates.js";
import { consoleLogger } from "./logger";
import { legacyPasswordHasher } from "./passwords";

/** Bindings from wrangler.toml: the D1 database plus [vars] and secrets as strings. */
export type Bindings = { DB: D1Database } & Record<string, unknown>;

const templates = templatesFromPrecompiled(precompiled);
/** A mail API answers in well under a second; 10 s leaves room for a slow one within the cron run. */
const MAIL_API_TIMEOUT_MS = 10_000;
/** Batches per cron run: 20 x OUTBOX_BATCH (50) = 1000 messages a minute before the next run takes over. */
const MAX_PASSES_PER_RUN = 20;
/** wrangler.toml [triggers]: this one runs retention (hourly); every other cron drains the outbox. */
const RETENTION_CRON = "17 * * * *";
/** wrangler.toml [triggers]: the daily members sync of every parliament (05:23 UTC, clear of the hourly job). */
const MEMBERS_SYNC_CRON = "23 5 * * *";
const depsByEnv = new WeakMap<object, Deps>();

function buildWorkerDeps(env: Bindings): Deps {
  const cached = depsByEnv.get(env);
  if (cached) return cached;
  const config = parseEnv(env);
  // A Worker answers the internet: a published or placeholder secret is only for local dev.
  if (isPlaceholderSecret(config.TOKEN_SECRET) && !isLoopbackHost(new URL(config.PUBLIC_URL).hostname))
    throw new ConfigError(
      `Invalid configuration:\n  TOKEN_SECRET: set a real secret (wrangler secret put TOKEN_SECRET) when PUBLIC_URL=${config.PUBLIC_URL}`,
    );
  const d1 = drizzle(env.DB, { schema });
  const upstream = { timeoutMs: config.UPSTREAM_TIMEOUT_MS, retries: config.UPSTREAM_RETRIES };
  if (config.MAIL_MODE !== "capture" && !config.MAIL_API_URL)
    throw new ConfigError(
      `Invalid configuration:\n  MAIL_API_URL: required on Workers when MAIL_MODE=${config.MAIL_MODE}`,
    );
  const clock = { now: () => Date.now() };
  const logger = consoleLogger(config.LOG_LEVEL);
  const breaker = breakerOptions(config, clock, logger);
  // D1 queues writers itself: no retrying here, but its faults still become 503s, not 500s.
  const guard = { busyWaitMs: 0, logger };
  const db = guardDb(d1 as unknown as Db, guard);
  const deps: Deps = {
    db,
    async atomic(statements: Statement[]) {
      const [first, ...rest] = statements;
      if (!first) return [];
      const results = (await withDbRetry(() => d1.batch([first, ...rest]), guard)) as unknown[];
      // A statement without RETURNING gives D1's result (meta.changes); one with RETURNING, rows.
      return results.map((r) =>
        Array.isArray(r) ? r.length : ((r as { meta?: { changes?: number } })?.meta?.changes ?? 0),
      );
    },
    clock,
    ids: { uuid: () => crypto.randomUUID() },
    logger,
    config,
    postcodeSource: postcodeSourceBreaker(postcodesIo(config.POSTCODES_IO_URL, upstream), breaker),
    memberSource: memberSourceBreaker(membersApi(config.MEMBERS_API_URL, upstream), breaker),
    devolvedSources: devolvedSources(config, upstream, { clock, logger }),
    templates,
    network: { peerAddress: cloudflarePeer, loopbackListener: false },
    // Per isolate, in memory, until the Workers issue moves it to the Rate Limiting binding.
    rateLimiter: memoryRateLimiter(),
    passwords: legacyPasswordHasher(logger),
    // Capture mode never sends: mail is stored in D1 (captured_mail), as on Node.
    mailer:
      config.MAIL_MODE === "capture" || !config.MAIL_API_URL
        ? captureMailer(db, clock)
        : mailApiMailer({
            url: config.MAIL_API_URL,
            apiKey: config.MAIL_API_KEY,
            timeoutMs: MAIL_API_TIMEOUT_MS,
          }),
  };
  depsByEnv.set(env, deps);
  return deps;
}

const app = createApp((env) => buildWorkerDeps(env as Bindings));

/**
 * A Worker has no start-up to fail, so a bad setting fails every request instead: loudly in the
 * log (naming the setting), and with a plain 500 that names nothing to the visitor.
 */
function misconfigured(env: Bindings): Response | undefined {
  try {
    buildWorkerDeps(env);
    return undefined;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    return new Response("This service is not configured correctly yet.\n", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}

export default {
  fetch: (request: Request, env: Bindings, ctx: ExecutionContext) =>
    misconfigured(env) ?? app.fetch(request, env, ctx),
  /**
   * Cron triggers (wrangler.toml [triggers]): every minute the outbox is drained (leases make
   * overlapping runs safe); hourly, retention scrubs old letters (RETENTION_INTERVAL_MINUTES=0
   * turns it off, as on Node); daily, the members of every parliament are synced (MPs, MSPs, MSs, MLAs).
   */
  async scheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext) {
    const deps = buildWorkerDeps(env);
    if (controller.cron === RETENTION_CRON) {
      if (deps.config.RETENTION_INTERVAL_MINUTES > 0) await runRetention(deps);
      return;
    }
    if (controller.cron === MEMBERS_SYNC_CRON) {
      // MEMBERS_SYNC_INTERVAL_HOURS=0 turns the sync off here as on Node; MEMBERS_SYNC_BODIES
      // picks the parliaments (MPs, MSPs, MSs, MLAs). Each outcome (applied, refused by the
      // guard, failed) is recorded in D1 and shown on the dashboard.
      if (deps.config.MEMBERS_SYNC_INTERVAL_HOURS > 0)
        await syncDueBodies(deps, { trigger: "cron", all: true });
      return;
    }
    const report = await drainOutbox(deps, { maxPasses: MAX_PASSES_PER_RUN });
    if (report.claimed || report.reclaimed || report.expired || report.reminded)
      deps.logger.info("outbox drained", report);
  },
};
