/**
 * Runs the built Worker (dist/worker/worker.js, the same bundle `wrangler deploy` uploads) in
 * workerd through Miniflare, with a local D1 that has the real migrations and the data/ seed
 * applied exactly as wrangler splits them. Settings come from wrangler.toml's [vars].
 *
 * Outbound HTTP (postcodes.io, the mail API) reaches `outbound` in this process; like msw with
 * onUnhandledRequest: "error", a request no handler answers is recorded as unhandled and fails.
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { type Request as MfRequest, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";
import { seedSql } from "../../scripts/d1-seed-sql";

export const ROOT_DIR = resolve(import.meta.dirname, "../..");
export const WORKER_DIR = resolve(ROOT_DIR, "dist/worker");
export const WORKER_SCRIPT = resolve(WORKER_DIR, "worker.js");
const MIGRATIONS_DIR = resolve(ROOT_DIR, "src/db/migrations");
export const BASE_URL = "http://speakup.test";

export type OutboundCall = { method: string; url: string; headers: Record<string, string>; body: string };
export type OutboundHandler = (call: OutboundCall) => Response | undefined | Promise<Response | undefined>;

/** The seed is the same for every test file; build it once per process. */
let seedStatements: Promise<string[]> | undefined;

type RateLimits = Record<string, { simple: { limit: number; period: 10 | 60 } }>;
type QueueConsumerOptions = {
  maxBatchSize?: number;
  maxBatchTimeout?: number;
  maxRetries?: number;
  deadLetterQueue?: string;
  retryDelay?: number;
};

export async function startWorker(
  opts: {
    bindings?: Record<string, string>;
    outbound?: OutboundHandler;
    /** Rate Limiting bindings replacing wrangler.toml's (by binding name). */
    ratelimits?: RateLimits;
    /** Consumer settings merged over wrangler.toml's, by queue name. */
    queueConsumers?: Record<string, QueueConsumerOptions>;
    /** Leave out the delivery queue (the cron drains the outbox, as before Queues). */
    noQueue?: boolean;
    /**
     * Run this many copies of the Worker, each its own isolate, over the same D1 (as Cloudflare
     * runs many); `fetchOn(i, ...)` reaches copy i.
     */
    replicas?: number;
  } = {},
) {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(ROOT_DIR, "wrangler.toml"));
  const consumers = Object.fromEntries(
    Object.entries((workerOptions.queueConsumers ?? {}) as Record<string, QueueConsumerOptions>).map(
      // Batches go as soon as a message arrives (wrangler.toml waits up to a second to fill one).
      ([name, c]) => [name, { ...c, maxBatchTimeout: 0, ...opts.queueConsumers?.[name] }],
    ),
  );
  const calls: OutboundCall[] = [];
  const unhandled: OutboundCall[] = [];
  const logs: string[] = [];
  const worker = (name: string, consumer: boolean) => ({
    name,
    // Listed explicitly (Miniflare's module walker rejects dynamic import()s in dependencies),
    // with the argon2id WebAssembly modules precompiled, as wrangler uploads them.
    modulesRoot: WORKER_DIR,
    modules: [
      { type: "ESModule" as const, path: WORKER_SCRIPT },
      ...readdirSync(WORKER_DIR)
        .filter((f) => f.endsWith(".wasm"))
        .map((f) => ({ type: "CompiledWasm" as const, path: resolve(WORKER_DIR, f) })),
    ],
    compatibilityDate: workerOptions.compatibilityDate,
    compatibilityFlags: workerOptions.compatibilityFlags,
    bindings: { ...workerOptions.bindings, LOG_LEVEL: "warn", ...opts.bindings },
    // Every replica binds the same database, as every isolate of a deployed Worker does.
    d1Databases: { DB: "speakup-test" },
    queueProducers: opts.noQueue ? {} : workerOptions.queueProducers,
    // A queue has one consumer: the first Worker.
    queueConsumers: opts.noQueue || !consumer ? {} : consumers,
    ratelimits: opts.ratelimits ?? (workerOptions.ratelimits as RateLimits),
    async outboundService(request: MfRequest) {
      const call: OutboundCall = {
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
      };
      calls.push(call);
      const res = await opts.outbound?.(call);
      if (res) return res as never;
      unhandled.push(call);
      return new Response("unhandled outbound request in test", { status: 599 }) as never;
    },
  });
  const names = Array.from({ length: opts.replicas ?? 1 }, (_, i) => (i ? `speakup-${i + 1}` : "speakup"));
  const mf = new Miniflare({
    workers: names.map((name, i) => worker(name, i === 0)),
    d1Persist: false,
    // No Request.cf fetch from workers.cloudflare.com: this runs offline.
    cf: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      const keep = (chunk: Buffer) => void logs.push(chunk.toString());
      stdout.on("data", keep);
      stderr.on("data", keep);
    },
  });
  try {
    await mf.ready;
  } catch (e) {
    // workerd's own explanation (e.g. a module it can't load) is on its stderr.
    throw new Error(`${e instanceof Error ? e.message : e}\n--- workerd output ---\n${logs.join("")}`);
  }

  const db = await mf.getD1Database("DB");
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const f of files) {
    const sql = readFileSync(resolve(MIGRATIONS_DIR, f), "utf8");
    await db.batch(unstable_splitSqlQuery(sql).map((q) => db.prepare(q)));
  }
  seedStatements ??= seedSql(resolve(ROOT_DIR, "data")).then((s) => unstable_splitSqlQuery(s.sql));
  const seed = await seedStatements;
  if (seed.length) await db.batch(seed.map((q) => db.prepare(q)));

  return {
    mf,
    db,
    calls,
    unhandled,
    logs,
    fetch: (path: string, init?: RequestInit) =>
      mf.dispatchFetch(`${BASE_URL}${path}`, init as never) as unknown as Promise<Response>,
    /** A request to copy `i` of the Worker (0 is the one `fetch` reaches). */
    async fetchOn(i: number, path: string, init?: RequestInit) {
      const w = await mf.getWorker(names[i]);
      return w.fetch(`${BASE_URL}${path}`, init as never) as unknown as Promise<Response>;
    },
    /** The delivery queue's producer, to put messages on it as the Worker does. */
    queue: () => mf.getQueueProducer<{ id: string }>("OUTBOX_QUEUE"),
    /** Outbox rows (kind, state, attempts, recipient), oldest first. */
    async outbox() {
      return (
        await db
          .prepare(
            "select id, kind, state, attempts, to_email as toEmail, last_error as lastError from outbox order by created_at, kind",
          )
          .all()
      ).results as {
        id: string;
        kind: string;
        state: string;
        attempts: number;
        toEmail: string;
        lastError: string | null;
      }[];
    },
    /** Fire the cron trigger, as Cloudflare does every minute. */
    async scheduled(cron = "* * * * *") {
      const worker = await mf.getWorker();
      return worker.scheduled({ cron, scheduledTime: new Date() });
    },
    dispose: () => mf.dispose(),
  };
}

export type TestWorker = Awaited<ReturnType<typeof startWorker>>;

/** Live-mode settings with the mail API at http://mail.test/emails (answered by `mailApi`). */
export const MAIL_API = "http://mail.test/emails";
export const LIVE_MAIL = {
  MAIL_MODE: "live",
  MAIL_API_URL: MAIL_API,
  MAIL_API_KEY: "test-api-key",
  MAIL_FROM: "campaign@example.org",
  TOKEN_SECRET: "workers-test-token-secret-0123456789",
  LETTER_LIMIT_PER_IP_HOUR: "500",
  LETTER_LIMIT_PER_EMAIL_DAY: "50",
};

/** What the Worker POSTed to the mail API (Resend's /emails shape). */
export type SentMail = {
  from: string;
  to: string[];
  reply_to?: string[];
  subject: string;
  text: string;
  headers: Record<string, string>;
  tags?: { name: string; value: string }[];
};

/** A fake mail provider: records each message and answers `status()` (200 with an id by default). */
export function mailApi(status: () => number = () => 200) {
  const mail: { call: OutboundCall; body: SentMail }[] = [];
  const outbound: OutboundHandler = (call) => {
    if (call.url !== MAIL_API || call.method !== "POST") return undefined;
    mail.push({ call, body: JSON.parse(call.body) as SentMail });
    const s = status();
    return s < 300
      ? Response.json({ id: `re_${mail.length}` }, { status: s })
      : Response.json({ name: "error", message: `test says ${s}` }, { status: s });
  };
  return { mail, outbound };
}

/** POST a JSON body to the Worker. */
export const postJson = (w: TestWorker, path: string, body: unknown, headers: Record<string, string> = {}) =>
  w.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });

/** Wait until `check` holds (polling; the local queue delivers on timers of its own). */
export async function until<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? "a condition"}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
