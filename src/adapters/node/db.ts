/**
 * better-sqlite3 + drizzle for the Node build.
 *
 * Rules:
 * - WAL: readers never wait for a writer, so lookups and /healthz keep answering while another
 *   process (a CLI import, a second server) holds the write lock.
 * - better-sqlite3 waits for a lock synchronously, freezing the event loop. So after start-up the
 *   busy timeout is a few milliseconds, and waiting is done by src/db/guard.ts: async pauses
 *   between retries, up to DB_BUSY_WAIT_MS, then 503 with Retry-After.
 * - Transactions (`atomic`) take the write lock up front (BEGIN IMMEDIATE), so a busy database
 *   fails them before any statement runs, and the whole transaction is retried.
 * - Start-up fails loudly, naming DATABASE_PATH, when the database can't be written: a read-only
 *   file or folder would otherwise start "fine" and fail every pledge and letter.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { dbFault, guardDb, withDbRetry } from "../../db/guard";
import * as schema from "../../db/schema";
import type { Db, Logger, Statement } from "../../deps";
import { ConfigError } from "../../env";
import { projectRoot } from "./root";

export const MIGRATIONS_DIR = resolve(projectRoot(), "src/db/migrations");
/** Start-up (migrations) may wait for another process's transaction like any SQLite client. */
const STARTUP_BUSY_TIMEOUT_MS = 5000;
/** After start-up the driver blocks the event loop at most this long per attempt. */
const RUNTIME_BUSY_TIMEOUT_MS = 5;

export type NodeDb = ReturnType<typeof openDb>;

function cannotWrite(path: string, e: unknown): ConfigError {
  const why = e instanceof Error ? e.message : String(e);
  return new ConfigError(
    `Invalid configuration:\n  DATABASE_PATH: ${path} can't be written (${why}). speakup stores ` +
      "pledges and letters there: make the file and its folder writable by this user, or choose another path.",
  );
}

/** Take the write lock and write (rolled back): fails now, not on the first pledge, if we can't. */
function assertWritable(sqlite: Database.Database, path: string) {
  try {
    sqlite.exec("BEGIN IMMEDIATE");
    try {
      sqlite.exec("CREATE TABLE _speakup_write_probe (x); DROP TABLE _speakup_write_probe;");
    } finally {
      sqlite.exec("ROLLBACK");
    }
  } catch (e) {
    if (dbFault(e) === "busy") return; // someone else is writing: it is writable
    throw cannotWrite(path, e);
  }
}

export function openDb(path: string, opts: { busyWaitMs?: number; logger?: Logger } = {}) {
  let sqlite: Database.Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
    sqlite = new Database(path);
    sqlite.pragma(`busy_timeout = ${STARTUP_BUSY_TIMEOUT_MS}`);
    sqlite.pragma("journal_mode = WAL");
  } catch (e) {
    throw cannotWrite(path, e);
  }
  if (path !== ":memory:") assertWritable(sqlite, path);
  sqlite.pragma("foreign_keys = ON");
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
  // last transactions, and the outbox's idempotency keys make a resend after that harmless.
  sqlite.pragma("synchronous = NORMAL");
  const raw = drizzle(sqlite, { schema });
  migrate(raw, { migrationsFolder: MIGRATIONS_DIR });
  sqlite.pragma(`busy_timeout = ${RUNTIME_BUSY_TIMEOUT_MS}`);
  const guard = { busyWaitMs: opts.busyWaitMs ?? 5000, logger: opts.logger };
  const db = guardDb(raw as unknown as Db, guard);
  // Resolves to the rows each statement changed: how a conditional UPDATE says it matched.
  const atomic = (statements: Statement[]): Promise<number[]> =>
    withDbRetry(
      () =>
        sqlite
          .transaction(() =>
            statements.map((s) => (s as unknown as { run(): { changes: number } }).run().changes),
          )
          .immediate(),
      guard,
    );
  return { sqlite, db, atomic };
}
