/**
 * Test deps: a fresh in-memory SQLite with the real migrations, a clock the test controls, and
 * the real fetch-based upstream clients (pointed at msw handlers). Fakes only at the edges.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { onTestFinished } from "vitest";
import {
  breakerOptions,
  memberSourceBreaker,
  postcodeSourceBreaker,
} from "../../src/adapters/http/circuit-breaker";
import { devolvedSources } from "../../src/adapters/http/devolved-sources";
import { membersApi } from "../../src/adapters/http/members-api";
import { postcodesIo } from "../../src/adapters/http/postcodes-io";
import { openDb } from "../../src/adapters/node/db";
import { ROOT_DIR, readCampaignAssets } from "../../src/adapters/node/deps";
import { argon2PasswordHasher } from "../../src/adapters/node/passwords";
import { sqliteRateLimiter } from "../../src/adapters/node/rate-limiter";
import { loadTemplates } from "../../src/adapters/node/templates";
import { nodeWebhookTransport } from "../../src/adapters/node/webhooks";
import { createApp } from "../../src/app";
import type { Deps, Logger } from "../../src/deps";
import { isLoopbackHost, parseEnv } from "../../src/env";
import { socketPeer } from "../../src/http/client";
import { argon2Params } from "../../src/lib/passwords";
import { withSite } from "../../src/lib/templates";
import { captureMailer } from "../../src/modules/delivery/delivery.mail";
import { siteOf } from "../../src/modules/letters/letters.campaign";
import { checkApiResponse } from "./api-contract";

export const T0 = Date.parse("2026-11-23T10:00:00Z");

export type TestClock = { now(): number; set(ms: number): void; advance(ms: number): void };
export function testClock(start = T0): TestClock {
  let t = start;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}

export type CapturedLog = { level: string; msg: string; fields?: Record<string, unknown> };
export function captureLogger(): Logger & { lines: CapturedLog[] } {
  const lines: CapturedLog[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, msg, fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

const templates = loadTemplates(resolve(ROOT_DIR, "templates"));
/** The campaign's pictures, as `npm start` reads them. */
const assets = readCampaignAssets();

/** Cheap argon2id for tests (the parameters are still checked: a change means a re-hash). */
export const TEST_ARGON2 = { ADMIN_ARGON2_MEMORY_KIB: "1024", ADMIN_ARGON2_ITERATIONS: "1" };

/** `app.request(path, init, PEER(...))`: the request arrives on a socket from this address. */
export const PEER = (remoteAddress: string) => ({ incoming: { socket: { remoteAddress } } });
/** This machine, connecting directly. */
export const LOOPBACK = PEER("127.0.0.1");

/** `campaign`: a campaign file's contents to use instead of the shipped one (same id). */
export function testDeps(
  env: Record<string, string> = {},
  opts: { campaign?: Record<string, unknown> } = {},
) {
  const config = parseEnv(
    {
      DATABASE_PATH: ":memory:",
      LOG_LEVEL: "silent",
      UPSTREAM_TIMEOUT_MS: "300",
      UPSTREAM_RETRIES: "1",
      // A real-looking secret, so tests may switch MAIL_MODE to reflect or live.
      TOKEN_SECRET: "test-only-token-secret-0123456789abcdef",
      ...TEST_ARGON2,
      ...env,
    },
    opts.campaign ? { [String(opts.campaign.id)]: opts.campaign } : undefined,
    assets,
  );
  const clock = testClock();
  const logger = captureLogger();
  const { sqlite, db, atomic } = openDb(config.DATABASE_PATH, { busyWaitMs: config.DB_BUSY_WAIT_MS, logger });
  const upstream = { timeoutMs: config.UPSTREAM_TIMEOUT_MS, retries: config.UPSTREAM_RETRIES };
  const breaker = breakerOptions(config, clock, logger);
  const rateLimiter = sqliteRateLimiter(sqlite, logger);
  // What the runtime's sender was told (Workers: the queue). Every row that is queued at the
  // end of a test must have been announced at some point (checked below).
  const announced: { id: string; dueAt: number }[] = [];
  const deps: Deps = {
    db,
    atomic,
    clock,
    ids: { uuid: () => randomUUID() },
    logger,
    config,
    postcodeSource: postcodeSourceBreaker(postcodesIo(config.POSTCODES_IO_URL, upstream), breaker),
    memberSource: memberSourceBreaker(membersApi(config.MEMBERS_API_URL, upstream), breaker),
    devolvedSources: devolvedSources(config, upstream, { clock }),
    templates: withSite(templates, siteOf(config.campaign)),
    // MAIL_MODE=capture: mail lands in captured_mail. SMTP tests swap in a real transport.
    mailer: captureMailer(db, clock),
    outboxQueue: {
      async enqueue(rows) {
        announced.push(...rows);
      },
    },
    network: { peerAddress: socketPeer, loopbackListener: isLoopbackHost(config.HOST) },
    rateLimiter,
    passwords: argon2PasswordHasher(argon2Params(config)),
    // Real HTTP to partners' endpoints: tests point webhooks at a node:http receiver on 127.0.0.1.
    webhooks: nodeWebhookTransport(),
  };
  // Capture mode "sends" into captured_mail: a second copy of any Message-ID there fails the test.
  try {
    onTestFinished(() => {
      if (!sqlite.open) return;
      const dup = sqlite
        .prepare("select message_id m, count(*) n from captured_mail group by message_id having n > 1")
        .all();
      if (dup.length) throw new Error(`captured a second copy of a message: ${JSON.stringify(dup)}`);
      // A queued row nobody announced would wait for the Workers sweep instead of the queue.
      const told = new Set(announced.map((r) => r.id));
      const silent = (
        sqlite.prepare("select id, kind from outbox where state = 'queued'").all() as {
          id: string;
          kind: string;
        }[]
      ).filter((r) => !told.has(r.id));
      if (silent.length && !unannouncedOk.has(sqlite))
        throw new Error(`queued outbox rows never announced to deps.outboxQueue: ${JSON.stringify(silent)}`);
    });
  } catch {
    // Built outside a test (beforeAll): no automatic check.
  }
  return { deps, sqlite, clock, logger, limiter: rateLimiter, announced };
}

/** Databases whose tests insert queued rows behind the domain's back (fixtures), on purpose. */
const unannouncedOk = new WeakSet<object>();
export const allowUnannouncedRows = (sqlite: object) => void unannouncedOk.add(sqlite);

/**
 * The real app over test deps; `request` is app.request, and every /api/* answer it returns is
 * checked against the OpenAPI document's schema for its route and status (api-contract.ts).
 */
export function testApp(env: Record<string, string> = {}, opts: { campaign?: Record<string, unknown> } = {}) {
  const t = testDeps(env, opts);
  const app = createApp(() => t.deps);
  const request = (async (...args: Parameters<typeof app.request>) => {
    const res = await app.request(...args);
    await checkApiResponse(args[0], args[1], res);
    return res;
  }) as typeof app.request;
  return { ...t, app, request };
}

/** Read a JSON body, failing with the body text when the status is not the expected one. */
export async function expectStatus(res: Response, status: number): Promise<unknown> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected HTTP ${status}, got ${res.status}: ${text}`);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
