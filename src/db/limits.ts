/**
 * D1's limits, in one place, and the one helper that keeps statements within them.
 * (https://developers.cloudflare.com/d1/platform/limits/; SQLite on Node allows far more, so
 * a statement that works in the Node tests can still fail on D1: the Workers tests run on local
 * D1, which enforces the same limits.)
 *
 * Rules:
 * - A list bound into a statement (`inArray(column, ids)`, a multi-row INSERT) is never longer
 *   than D1 allows: every such list goes through `chunks` with the size below. Lists of our own
 *   constants (states, kinds) are inlined or tiny and need no chunking.
 * - No LIKE / GLOB pattern is built from public input: D1 refuses patterns over 50 bytes with an
 *   error. Substring search uses instr() instead (no pattern, no escaping, no length limit).
 * - Jobs that run in one Worker invocation (cron, queue batch) size their work by a query budget
 *   (lib/budget.ts): D1 allows 1,000 queries per invocation on the Paid plan, 50 on Free.
 */

/** Most parameters one D1 statement may bind. */
export const D1_MAX_BOUND_PARAMETERS = 100;
/** Longest LIKE / GLOB pattern D1 accepts, in bytes. */
export const D1_MAX_LIKE_PATTERN_BYTES = 50;
/** Longest SQL statement D1 accepts, in bytes. */
export const D1_MAX_STATEMENT_BYTES = 100_000;

/**
 * Ids per IN list. An outbox transition binds its id list once in each of up to three
 * statements (the UPDATE, the letter sync, the cascade) plus up to a dozen values of its own;
 * 80 + 12 stays under D1's 100 with room to spare.
 */
export const ID_CHUNK = 80;

/** Split `items` into lists of at most `size` (ID_CHUNK by default), in order. */
export function chunks<T>(items: readonly T[], size: number = ID_CHUNK): T[][] {
  if (!(size >= 1)) throw new Error(`chunks: size must be at least 1, not ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Rows per multi-row INSERT of a table binding `columns` values a row (at least one). */
export const rowsPerInsert = (columns: number) =>
  Math.max(1, Math.floor((D1_MAX_BOUND_PARAMETERS - 4) / Math.max(1, columns)));
