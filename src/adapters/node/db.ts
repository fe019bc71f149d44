/**
 * better-sqlite3 + drizzle for the Node build. WAL lets readers run while the outbox writes;
 * the busy timeout makes a second process (CLI import beside the server) wait instead of
 * failing with SQLITE_BUSY.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import * as schema from "../../db/schema";
import type { Db, Statement } from "../../deps";

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../db/migrations");
const BUSY_TIMEOUT_MS = 5000;

export type NodeDb = ReturnType<typeof openDb>;

export function openDb(path: string) {
  if (path !== ":memory:") mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new Database(path);
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  sqlite.pragma("foreign_keys = ON");
  // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the
  // last transactions, and the outbox's idempotency keys make a resend after that harmless.
  sqlite.pragma("synchronous = NORMAL");
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  const atomic = async (statements: Statement[]) => {
    sqlite.transaction(() => {
      for (const s of statements) (s as unknown as { run(): unknown }).run();
    })();
  };
  return { sqlite, db: db as unknown as Db, atomic };
}
