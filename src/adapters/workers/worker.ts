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
import type {
  D1Database,
  ExecutionContext,
  MessageBatch,
  Queue,
  ScheduledController,
} from "@cloudflare/workers-types";
import { drizzle } from "drizzle-orm/d1";
import { createApp } from "../../app";
import { guardDb, withDbRetry } from "../../db/guard";
import * as schema from "../../db/schema";
import type { Db, Deps, Logger, Statement } from "../../deps";
import { type Config, ConfigError, isLoopbackHost, isPlaceholderSecret, parseEnv } from "../../env";
import { cloudflarePeer } from "../../http/client";
import { type QueryBudget, queryBudget } from "../../lib/budget";
import { argon2Params } from "../../lib/passwords";
import { templatesFromPrecompiled, withSite } from "../../lib/templates";
import { captureMailer } from "../../modules/delivery/delivery.mail";
import { consumeDeadLetters, consumeOutboxBatch, sweepOutbox } from "../../modules/delivery/delivery.queue";
import type { OutboxQueueMessage } from "../../modules/delivery/delivery.schemas";
import { drainOutbox } from "../../modules/delivery/delivery.service";
import { runDigests } from "../../modules/digest/digest.service";
import { type CampaignAssets, siteOf } from "../../modules/letters/letters.campaign";
import { syncDueBodies } from "../../modules/members/members.schedule";
import { runRetention } from "../../modules/privacy/privacy.service";
import { breakerOptions, memberSourceBreaker, postcodeSourceBreaker } from "../http/circuit-breaker";
import { devolvedSources } from "../http/devolved-sources";
import { mailApiMailer } from "../http/mail-api";
import { membersApi } from "../http/members-api";
import { postcodesIo } from "../http/postcodes-io";
import { fetchWebhookTransport } from "../http/webhooks-fetch";
import { countedD1 } from "./d1-budget";
import bundledAssets from "./generated/campaign-assets.js";
import precompiled from "./generated/templates.js";
import { consoleLogger } from "./logger";
import {
  DEAD_LETTER_QUEUE,
  MEMBERS_SYNC_CRON,
  RATE_LIMIT_BINDINGS,
  RATE_LIMIT_PERIOD_S,
  RETENTION_CRON,
} from "./names";
import { wasmPasswordHasher } from "./passwords";
import { cloudflareOutboxQueue } from "./queue";
import { type RateLimitBinding, workersRateLimiter } from "./rate-limiter";

/**
 * Bindings from wrangler.toml: the D1 database, the delivery queue, the rate limiters, plus
 * [vars] and secrets as strings.
 */
export type Bindings = {
  DB: D1Database;
  /** [[queues.producers]]: outbox ids ready to send. Without it, the cron drains the outbox. */
  OUTBOX_QUEUE?: Queue<OutboxQueueMessage>;
} & Record<string, unknown>;

const templates = templatesFromPrecompiled(precompiled);
/** The campaign's pictures (logo, hero image), bundled at build time: a Worker has no file system. */
const assets: CampaignAssets = Object.fromEntries(
  Object.entries(bundledAssets).map(([name, a]) => [
    name,
    { type: a.type, body: Uint8Array.from(atob(a.base64), (ch) => ch.charCodeAt(0)) },
  ]),
);
/** A mail API answers in well under a second; 10 s leaves room for a slow one within the cron run. */
const MAIL_API_TIMEOUT_MS = 10_000;
/** Without a queue: batches per cron run, 20 x OUTBOX_BATCH (50) = 1000 messages a minute. */
const MAX_PASSES_PER_RUN = 20;
const depsByEnv = new WeakMap<object, Deps>();

/** drizzle over a D1 binding, guarded (faults become 503s), with `atomic` as a D1 batch. */
function d1Ports(binding: D1Database, logger: Logger): Pick<Deps, "db" | "atomic"> {
  const d1 = drizzle(binding, { schema });
  // D1 queues writers itself: no retrying here, but its faults still become 503s, not 500s.
  const guard = { busyWaitMs: 0, logger };
  return {
    db: guardDb(d1 as unknown as Db, guard),
    async atomic(statements: Statement[]) {
      const [first, ...rest] = statements;
      if (!first) return [];
      const results = (await withDbRetry(() => d1.batch([first, ...rest]), guard)) as unknown[];
      // A statement without RETURNING gives D1's result (meta.changes); one with RETURNING, rows.
      return results.map((r) =>
        Array.isArray(r) ? r.length : ((r as { meta?: { changes?: number } })?.meta?.changes ?? 0),
      );
    },
  };
}

function checkConfig(env: Bindings): Config {
  const config = parseEnv(env, undefined, assets);
  // A Worker answers the internet: a published or placeholder secret is only for local dev.
  if (isPlaceholderSecret(config.TOKEN_SECRET) && !isLoopbackHost(new URL(config.PUBLIC_URL).hostname))
    throw new ConfigError(
      `Invalid configuration:\n  TOKEN_SECRET: set a real secret (wrangler secret put TOKEN_SECRET) when PUBLIC_URL=${config.PUBLIC_URL}`,
    );
  if (config.MAIL_MODE !== "capture" && !config.MAIL_API_URL)
    throw new ConfigError(
      `Invalid configuration:\n  MAIL_API_URL: required on Workers when MAIL_MODE=${config.MAIL_MODE}`,
    );
  return config;
}

function buildWorkerDeps(env: Bindings): Deps {
  const cached = depsByEnv.get(env);
  if (cached) return cached;
  const config = checkConfig(env);
  const upstream = { timeoutMs: config.UPSTREAM_TIMEOUT_MS, retries: config.UPSTREAM_RETRIES };
  const clock = { now: () => Date.now() };
  const logger = consoleLogger(config.LOG_LEVEL);
  const breaker = breakerOptions(config, clock, logger);
  const { db, atomic } = d1Ports(env.DB, logger);
  const edgeLimits = Object.fromEntries(
    Object.entries(RATE_LIMIT_BINDINGS).map(([group, name]) => {
      const binding = env[name] as RateLimitBinding | undefined;
      return [`ip-${group}`, binding ? { binding, periodSeconds: RATE_LIMIT_PERIOD_S } : undefined];
    }),
  );
  const deps: Deps = {
    db,
    atomic,
    clock,
    ids: { uuid: () => crypto.randomUUID() },
    logger,
    config,
    postcodeSource: postcodeSourceBreaker(postcodesIo(config.POSTCODES_IO_URL, upstream), breaker),
    memberSource: memberSourceBreaker(membersApi(config.MEMBERS_API_URL, upstream), breaker),
    devolvedSources: devolvedSources(config, upstream, { clock, logger }),
    templates: withSite(templates, siteOf(config.campaign)),
    network: { peerAddress: cloudflarePeer, loopbackListener: false },
    // Flood limits at Cloudflare's edge, hard caps (per email, per representative) in D1.
    rateLimiter: workersRateLimiter({ db, clock, bindings: edgeLimits }),
    passwords: wasmPasswordHasher(argon2Params(config)),
    webhooks: fetchWebhookTransport(),
    // Capture mode never sends: mail is stored in D1 (captured_mail), as on Node.
    mailer:
      config.MAIL_MODE === "capture" || !config.MAIL_API_URL
        ? captureMailer(db, clock)
        : mailApiMailer({
            url: config.MAIL_API_URL,
            apiKey: config.MAIL_API_KEY,
            timeoutMs: MAIL_API_TIMEOUT_MS,
          }),
    // Ready rows go on the delivery queue; without one, the every-minute cron drains the outbox.
    outboxQueue: env.OUTBOX_QUEUE
      ? cloudflareOutboxQueue(env.OUTBOX_QUEUE, clock)
      : { enqueue: async () => {} },
  };
  depsByEnv.set(env, deps);
  return deps;
}

/**
 * Deps for one background invocation (a cron run, a queue batch): the same ports, with the
 * database counted against the invocation's query budget so its jobs can stop in time.
 */
function invocationDeps(env: Bindings, budget: QueryBudget): Deps {
  const base = buildWorkerDeps(env);
  const ports = d1Ports(countedD1(env.DB, budget), base.logger);
  return {
    ...base,
    ...ports,
    mailer: base.config.MAIL_MODE === "capture" ? captureMailer(ports.db, base.clock) : base.mailer,
  };
}

const app = createApp((env) => buildWorkerDeps(env as Bindings));

/** One cron trigger's job, sized by the invocation's query budget. */
async function runCron(deps: Deps, cron: string, budget: QueryBudget, queued: boolean) {
  if (cron === RETENTION_CRON) {
    if (deps.config.RETENTION_INTERVAL_MINUTES > 0) await runRetention(deps, { budget });
    // Digests for representatives' offices, when the campaign file turns them on (once per period).
    if (deps.config.DIGEST_CHECK_MINUTES > 0) await runDigests(deps, { budget });
    return;
  }
  if (cron === MEMBERS_SYNC_CRON) {
    // MEMBERS_SYNC_INTERVAL_HOURS=0 turns the sync off here as on Node; MEMBERS_SYNC_BODIES
    // picks the parliaments (MPs, MSPs, MSs, MLAs). Each outcome (applied, refused by the
    // guard, failed) is recorded in D1 and shown on the dashboard.
    if (deps.config.MEMBERS_SYNC_INTERVAL_HOURS > 0)
      await syncDueBodies(deps, { trigger: "cron", all: true });
    return;
  }
  if (queued) {
    const report = await sweepOutbox(deps, { budget });
    if (report.reclaimed || report.expired || report.reminded || report.requeued || report.privacyMailed)
      deps.logger.info("outbox swept", { ...report, queries: budget.spent() });
    return;
  }
  const report = await drainOutbox(deps, { maxPasses: MAX_PASSES_PER_RUN });
  if (report.claimed || report.reclaimed || report.expired || report.reminded)
    deps.logger.info("outbox drained", report);
}

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
   * Cron triggers (wrangler.toml [triggers]). Every minute: with the delivery queue, the safety
   * sweep (lapsed leases, unconfirmed letters, rows the queue lost); without it, a drain of the
   * outbox. Hourly: retention (RETENTION_INTERVAL_MINUTES=0 turns it off, as on Node). Daily:
   * the members of every parliament are synced (MPs, MSPs, MSs, MLAs). Each run is sized by
   * QUERY_BUDGET.
   */
  async scheduled(controller: ScheduledController, env: Bindings, _ctx: ExecutionContext) {
    const budget = queryBudget(checkConfig(env).QUERY_BUDGET);
    const deps = invocationDeps(env, budget);
    await runCron(deps, controller.cron, budget, !!env.OUTBOX_QUEUE);
    // What each run cost, against the budget D1 allows one invocation.
    deps.logger.debug("cron run", {
      cron: controller.cron,
      queries: budget.spent(),
      budget: deps.config.QUERY_BUDGET,
    });
  },

  /**
   * The delivery queue (wrangler.toml [[queues.consumers]]): each message names an outbox row
   * to send; messages the queue gave up on arrive from the dead-letter queue.
   */
  async queue(batch: MessageBatch<unknown>, env: Bindings, _ctx: ExecutionContext) {
    const budget = queryBudget(checkConfig(env).QUERY_BUDGET);
    const deps = invocationDeps(env, budget);
    if (batch.queue === DEAD_LETTER_QUEUE) {
      const { dead } = await consumeDeadLetters(deps, batch.messages);
      if (dead) deps.logger.warn("outbox dead-letter queue consumed", { dead });
      return;
    }
    // Every message is acknowledged or retried on its own; a fault stops the batch and retries
    // the rest (consumeOutboxBatch logs it), so this never throws for a delivery problem.
    const r = await consumeOutboxBatch(deps, batch.messages, { budget });
    const fields = { ...r, messages: batch.messages.length, queries: budget.spent() };
    if (r.dead || r.lost || r.deferred || r.malformed || r.requeued || r.stopped)
      deps.logger.info("outbox queue batch", fields);
    else deps.logger.debug("outbox queue batch", fields);
  },
};
