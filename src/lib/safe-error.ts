/**
 * Errors as text that is safe to log or store (outbox.last_error, the delivery log).
 *
 * Rules:
 * - A database error is described by its name and result code only (`SQLITE_CONSTRAINT_UNIQUE`,
 *   `SQLITE_BUSY`, D1's `D1_ERROR`...). drizzle wraps every failed query as "Failed query: <sql>
 *   \nparams: <values>", on better-sqlite3 and on D1 alike, and the values are what supporters
 *   typed: email addresses, postal addresses, letters. The driver's message under it can quote
 *   values too (a CHECK or RAISE message), so no part of any message of a database error is kept.
 * - Other errors keep the first line of their message, with anything that looks like an email
 *   address replaced (a mail provider's 422 can echo the recipient).
 */
import { isAppError } from "./errors";

const ADDRESS = /[^\s@<>"'(),;:[\]]+@[^\s@<>"'(),;:[\]]+/g;

/** Replace email addresses in `text` with `<address>`. */
export const redactAddresses = (text: string) => text.replace(ADDRESS, "<address>");

const SQLITE_CODE = /\b(SQLITE_[A-Z_]+)\b/;
const D1_CODE = /^(D1_[A-Z_]+)\b/;

/** The errors along `e`'s cause chain (drizzle's wrapper first, the driver's error under it). */
function chain(e: unknown): Error[] {
  const out: Error[] = [];
  for (let err = e, depth = 0; err instanceof Error && depth < 5; err = err.cause, depth++) out.push(err);
  return out;
}

/** A database error: drizzle's query wrapper, a better-sqlite3 SqliteError, or a D1 error. */
export function isDbError(e: unknown): boolean {
  return chain(e).some(
    (err) =>
      err.name === "DrizzleQueryError" ||
      err.name === "SqliteError" ||
      err.message.startsWith("Failed query:") ||
      D1_CODE.test(err.message) ||
      SQLITE_CODE.test(String((err as { code?: unknown }).code ?? "")),
  );
}

/** The result code of a database error (the most specific one found along its causes). */
export function dbErrorCode(e: unknown): string | undefined {
  let found: string | undefined;
  for (const err of chain(e)) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string" && SQLITE_CODE.test(code)) return code;
    // Only the first line: drizzle's second line lists the parameters.
    const first = err.message.split("\n", 1)[0] ?? "";
    if (first.startsWith("Failed query:")) continue;
    const m = SQLITE_CODE.exec(first) ?? D1_CODE.exec(first);
    if (m?.[1] && (!found || found.startsWith("D1_"))) found = m[1];
  }
  return found;
}

/** Name and code of a database error, e.g. "DrizzleQueryError (Error D1_ERROR SQLITE_CONSTRAINT)". */
export function describeDbError(e: unknown): string {
  const errs = chain(e);
  const names = [...new Set(errs.map((err) => err.name))].join(" < ");
  return `${names || "database error"}: ${dbErrorCode(e) ?? "no result code"} (query and parameters withheld)`;
}

/** One line about `e` that can go in a log line or a database column. */
export function safeErrorText(e: unknown): string {
  if (isAppError(e)) return `AppError ${e.code}`;
  if (isDbError(e)) return describeDbError(e);
  if (e instanceof Error) {
    const first = e.message.split("\n", 1)[0] ?? "";
    return `${e.name}: ${redactAddresses(first).slice(0, 300)}`;
  }
  return typeof e === "string" ? redactAddresses(e).slice(0, 300) : "non-Error value thrown";
}

/**
 * An error with its stack, for the log: a database error is named by its result code only (see
 * above); the stack frames stay. Frames are taken from after the message, so no line of a
 * multi-line parameter can pass for one.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return safeErrorText(err);
  const stack = err.stack ?? `${err.name}: ${err.message}`;
  if (!isDbError(err)) return stack;
  const at = stack.indexOf(err.message);
  const tail = at >= 0 ? stack.slice(at + err.message.length) : "";
  const frames = tail.split("\n").filter((l) => /^\s+at /.test(l));
  return [describeDbError(err), ...frames].join("\n");
}
