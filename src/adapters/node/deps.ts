/**
 * Builds the Node runtime's Deps: better-sqlite3 (guarded against lock and disk faults), the real
 * clock, crypto ids, fetch-based upstream clients behind circuit breakers, templates compiled from
 * templates/, a SQLite-backed rate limiter and argon2id passwords.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import type { Deps, Logger } from "../../deps";
import { type Config, ConfigError, isLoopbackHost } from "../../env";
import { socketPeer } from "../../http/client";
import { argon2Params } from "../../lib/passwords";
import { withSite } from "../../lib/templates";
import { captureMailer } from "../../modules/delivery/delivery.mail";
import { siteOf } from "../../modules/letters/letters.campaign";
import { breakerOptions, memberSourceBreaker, postcodeSourceBreaker } from "../http/circuit-breaker";
import { devolvedSources } from "../http/devolved-sources";
import { membersApi } from "../http/members-api";
import { postcodesIo } from "../http/postcodes-io";
import { openDb } from "./db";
import { jsonLogger } from "./logger";
import { smtpMailer } from "./mailer";
import { argon2PasswordHasher } from "./passwords";
import { sqliteRateLimiter } from "./rate-limiter";
import { projectRoot } from "./root";
import { loadTemplates } from "./templates";
import { nodeWebhookTransport } from "./webhooks";

export const ROOT_DIR = projectRoot();
export { readCampaignAssets, readCampaignFiles } from "./campaign-files";

function nodeMailer(config: Config, db: Deps["db"]): Deps["mailer"] {
  // capture (the default) stores mail in the database; only reflect/live open an SMTP pool.
  if (config.MAIL_MODE === "capture") return captureMailer(db, { now: () => Date.now() });
  // parseEnv also accepts MAIL_API_URL (the Workers transport); the Node build sends by SMTP
  // only, so refuse rather than silently capturing mail the operator expects to go out.
  if (!config.SMTP_URL) {
    throw new ConfigError(
      `Invalid configuration:\n  SMTP_URL: required on Node when MAIL_MODE=${config.MAIL_MODE}`,
    );
  }
  return smtpMailer({ url: config.SMTP_URL, poolSize: config.SMTP_POOL_SIZE });
}

export function buildNodeDeps(config: Config, overrides: { logger?: Logger; fetch?: typeof fetch } = {}) {
  const logger = overrides.logger ?? jsonLogger(config.LOG_LEVEL);
  const { sqlite, db, atomic } = openDb(config.DATABASE_PATH, { busyWaitMs: config.DB_BUSY_WAIT_MS, logger });
  const clock = { now: () => Date.now() };
  const upstream = {
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    retries: config.UPSTREAM_RETRIES,
    fetch: overrides.fetch,
  };
  const breaker = breakerOptions(config, clock, logger);
  const rateLimiter = sqliteRateLimiter(sqlite, logger);
  // The outbox loop polls; a row that becomes ready wakes it (set by main.ts once it runs).
  let wake: (() => void) | undefined;
  const deps: Deps = {
    db,
    atomic,
    clock,
    ids: { uuid: () => randomUUID() },
    logger,
    config,
    postcodeSource: postcodeSourceBreaker(postcodesIo(config.POSTCODES_IO_URL, upstream), breaker),
    memberSource: memberSourceBreaker(membersApi(config.MEMBERS_API_URL, upstream), breaker),
    devolvedSources: devolvedSources(config, upstream, { clock, logger }),
    templates: withSite(loadTemplates(resolve(ROOT_DIR, "templates")), siteOf(config.campaign)),
    mailer: nodeMailer(config, db),
    outboxQueue: {
      async enqueue() {
        wake?.();
      },
    },
    network: { peerAddress: socketPeer, loopbackListener: isLoopbackHost(config.HOST) },
    rateLimiter,
    passwords: argon2PasswordHasher(argon2Params(config)),
    webhooks: nodeWebhookTransport(),
  };
  return {
    deps,
    sqlite,
    stop: () => rateLimiter.stop(),
    /** Called when outbox rows become ready (the loop's wake-up). */
    onOutboxReady: (fn: () => void) => {
      wake = fn;
    },
  };
}
