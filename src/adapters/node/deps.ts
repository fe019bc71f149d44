/**
 * Builds the Node runtime's Deps: better-sqlite3, the real clock, crypto ids, fetch-based
 * upstream clients and templates compiled from templates/.
 */
import { randomUUID } from "node:crypto";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Deps, Logger } from "../../deps";
import { type Config, ConfigError } from "../../env";
import { captureMailer } from "../../modules/delivery/delivery.mail";
import { membersApi } from "../http/members-api";
import { postcodesIo } from "../http/postcodes-io";
import { openDb } from "./db";
import { jsonLogger } from "./logger";
import { smtpMailer } from "./mailer";
import { loadTemplates } from "./templates";

export const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

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
  const { sqlite, db, atomic } = openDb(config.DATABASE_PATH);
  const upstream = {
    timeoutMs: config.UPSTREAM_TIMEOUT_MS,
    retries: config.UPSTREAM_RETRIES,
    fetch: overrides.fetch,
  };
  const deps: Deps = {
    db,
    atomic,
    clock: { now: () => Date.now() },
    ids: { uuid: () => randomUUID() },
    logger: overrides.logger ?? jsonLogger(config.LOG_LEVEL),
    config,
    postcodeSource: postcodesIo(config.POSTCODES_IO_URL, upstream),
    memberSource: membersApi(config.MEMBERS_API_URL, upstream),
    templates: loadTemplates(resolve(ROOT_DIR, "templates")),
    mailer: nodeMailer(config, db),
  };
  return { deps, sqlite };
}
