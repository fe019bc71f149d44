/**
 * Database faults, the same way on both runtimes.
 *
 * Rules:
 * - A busy database (another process holds the SQLite write lock) is waited out off the event
 *   loop: the driver gives up almost at once (Node: a busy timeout of a few ms) and the statement
 *   is retried after an async pause, with growing, jittered pauses, for up to `busyWaitMs`. A
 *   statement that got SQLITE_BUSY did nothing, so running it again is safe.
 * - What can't be waited out here (still locked after that, disk full, I/O errors, a read-only
 *   file, D1 overloaded) becomes AppError `database_unavailable`: 503 with Retry-After, shown
 *   inside forms with what the supporter typed. Never a 500, and never with the statement's
 *   parameters in the log (drizzle puts them in its error message; they hold emails and letters).
 * - Works by wrapping the drizzle database in a Proxy that intercepts `then` on query builders
 *   (drizzle runs a query when it is awaited), so domain code keeps writing plain drizzle.
 */
import { entityKind } from "drizzle-orm";
import type { Logger } from "../deps";
import { AppError } from "../lib/errors";

export type DbFault = "busy" | "full" | "readonly" | "io" | "overloaded";

const CODE_FAULTS: [RegExp, DbFault][] = [
  [/^SQLITE_(BUSY|LOCKED)/, "busy"],
  [/^SQLITE_FULL/, "full"],
  [/^SQLITE_READONLY/, "readonly"],
  [/^SQLITE_(IOERR|CANTOPEN|PROTOCOL|NOMEM)/, "io"],
];

/** D1 reports faults as messages ("D1_ERROR: database is locked: SQLITE_BUSY", ...). */
const MESSAGE_FAULTS: [RegExp, DbFault][] = [
  [/SQLITE_(BUSY|LOCKED)|database is locked|database table is locked/i, "busy"],
  [/SQLITE_FULL|database or disk is full/i, "full"],
  [/SQLITE_READONLY|attempt to write a readonly database/i, "readonly"],
  [/SQLITE_IOERR|disk I\/O error/i, "io"],
  [
    /D1 DB is overloaded|Network connection lost|storage caused object to be reset|exceeded timeout/i,
    "overloaded",
  ],
];

/** The fault behind an error (looking through drizzle's wrapper at its cause), if it is one. */
export function dbFault(e: unknown): DbFault | undefined {
  for (let err = e, depth = 0; err && depth < 4; err = (err as { cause?: unknown }).cause, depth++) {
    if (err instanceof AppError) return undefined;
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string") for (const [re, fault] of CODE_FAULTS) if (re.test(code)) return fault;
    const message = err instanceof Error ? err.message : "";
    // Only the first line: drizzle's "Failed query: <sql>\nparams: <values>" must not be matched.
    const first = message.split("\n", 1)[0] ?? "";
    if (!first.startsWith("Failed query:"))
      for (const [re, fault] of MESSAGE_FAULTS) if (re.test(first)) return fault;
  }
  return undefined;
}

/** Seconds a client should wait before trying again, per fault. */
const RETRY_AFTER: Record<DbFault, number> = { busy: 5, overloaded: 5, io: 30, full: 60, readonly: 60 };

export function unavailable(fault: DbFault): AppError {
  const detail =
    fault === "busy" || fault === "overloaded"
      ? "We're very busy just now and couldn't save that. Nothing was saved: please try again in a few seconds."
      : "We couldn't save that because of a problem on our side. Nothing was saved: please try again later.";
  return new AppError("database_unavailable", detail, { retryAfter: RETRY_AFTER[fault], fault });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type GuardOptions = {
  /** How long a busy database is waited out (0: not at all). */
  busyWaitMs: number;
  /** Told about every fault that reaches a user (an operator must hear that the disk is full). */
  logger?: Pick<Logger, "warn">;
};

/** Run `op`, waiting out a busy database for up to `busyWaitMs`; faults become AppErrors. */
export async function withDbRetry<T>(op: () => Promise<T> | T, opts: GuardOptions): Promise<T> {
  const { busyWaitMs } = opts;
  const started = Date.now();
  let pause = 5;
  for (;;) {
    try {
      return await op();
    } catch (e) {
      const fault = dbFault(e);
      if (!fault) throw e;
      const waited = Date.now() - started;
      if (fault === "busy" && waited + pause <= busyWaitMs) {
        await sleep(pause / 2 + Math.random() * pause);
        pause = Math.min(pause * 2, 200);
        continue;
      }
      opts.logger?.warn("database unavailable", {
        fault,
        code: (e as { code?: unknown }).code ?? (e as { cause?: { code?: unknown } }).cause?.code,
        waitedMs: waited,
      });
      throw unavailable(fault);
    }
  }
}

const isQuery = (v: object): v is { execute(): Promise<unknown> } =>
  typeof (v as { execute?: unknown }).execute === "function" &&
  typeof (v as { then?: unknown }).then === "function";

/** Builders and queries are drizzle entities ("SQLiteSelectBuilder", "SQLiteInsert", ...). */
function isBuilder(v: unknown): v is object {
  if (!v || typeof v !== "object") return false;
  const kind = (v.constructor as { [entityKind]?: string } | undefined)?.[entityKind];
  return typeof kind === "string" && (isQuery(v) || kind.endsWith("Builder"));
}

/**
 * The same database, with every awaited query run through withDbRetry. Statements handed to
 * `atomic` are used unawaited (their sync `.run()` inside a transaction), so they pass through.
 */
export function guardDb<T extends object>(db: T, opts: GuardOptions): T {
  const wrap = <V extends object>(target: V): V =>
    new Proxy(target, {
      get(t, prop) {
        if (prop === "then" && isQuery(t)) {
          return (onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) =>
            withDbRetry(() => t.execute(), opts).then(onFulfilled, onRejected);
        }
        const value = Reflect.get(t, prop, t);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          const out = (value as (...a: unknown[]) => unknown).apply(t, args);
          return isBuilder(out) ? wrap(out) : out;
        };
      },
    });
  return wrap(db);
}
