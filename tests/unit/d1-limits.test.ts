/**
 * The pieces that keep statements within D1's limits and errors free of personal data: the one
 * chunking helper, long id lists through the state machine, the folded search key, and the safe
 * description of a database error.
 */
import { describe, expect, it } from "vitest";
import { chunks, D1_MAX_BOUND_PARAMETERS, ID_CHUNK, rowsPerInsert } from "../../src/db/limits";
import { describeError, redactAddresses, safeErrorText } from "../../src/lib/safe-error";
import { transitionStatements } from "../../src/modules/delivery/delivery.machine";
import { searchKey } from "../../src/modules/lookup/lookup.service";
import { testDeps } from "../support/deps";

const paramsOf = (st: unknown) => (st as { toSQL(): { params: unknown[] } }).toSQL().params.length;

describe("D1 limits", () => {
  it("splits lists into chunks of at most ID_CHUNK, in order, and refuses a silly size", () => {
    const items = Array.from({ length: 205 }, (_, i) => i);
    const parts = chunks(items);
    expect(parts.map((p) => p.length)).toEqual([80, 80, 45]);
    expect(parts.flat()).toEqual(items);
    expect(chunks([])).toEqual([]);
    expect(() => chunks(items, 0)).toThrow();
    expect(rowsPerInsert(9) * 9).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
  });

  it("turns a transition over 1,000 ids into statements that each bind at most 100 values", () => {
    const { deps } = testDeps();
    const ids = Array.from({ length: 1000 }, (_, i) => `id-${i}`);
    for (const [event, target] of [
      ["cancel", { letterIds: ids }],
      ["requeue", { ids }],
      ["lapse", { ids }],
    ] as const) {
      const w = transitionStatements(deps, event, target);
      expect(w.indexes).toHaveLength(Math.ceil(1000 / ID_CHUNK));
      for (const st of w.statements) expect(paramsOf(st)).toBeLessThanOrEqual(D1_MAX_BOUND_PARAMETERS);
    }
  });

  it("folds case, accents and punctuation out of constituency names and searches", () => {
    expect(searchKey("Montgomeryshire and Glyndŵr")).toBe("montgomeryshire and glyndwr");
    expect(searchKey("  YNYS   MÔN ")).toBe("ynys mon");
    expect(searchKey("Weston-super-Mare")).toBe("weston super mare");
    expect(searchKey("%_\\")).toBe("");
  });
});

describe("errors safe to log", () => {
  /** drizzle's wrapper around a driver error, as both runtimes throw it. */
  const drizzleError = () => {
    const cause = Object.assign(
      new Error("D1_ERROR: UNIQUE constraint failed: letters.idempotency_key: SQLITE_CONSTRAINT"),
      {},
    );
    return new Error(
      'Failed query: insert into "letters" ("body", "supporter_email") values (?, ?)\nparams: My secret story\n    at the clinic,jane@example.org',
      { cause },
    );
  };

  it("names a database error by its result code, never its query or parameters", () => {
    const text = safeErrorText(drizzleError());
    expect(text).toContain("SQLITE_CONSTRAINT");
    expect(text).not.toMatch(/secret|jane@|insert|clinic/);
    const withStack = describeError(drizzleError());
    expect(withStack).not.toMatch(/secret|jane@|clinic/);
    const sqlite = Object.assign(new Error("CHECK constraint failed: jane@example.org"), {
      name: "SqliteError",
      code: "SQLITE_CONSTRAINT_CHECK",
    });
    expect(safeErrorText(sqlite)).toBe(
      "SqliteError: SQLITE_CONSTRAINT_CHECK (query and parameters withheld)",
    );
  });

  it("keeps other errors' first line, with email addresses redacted", () => {
    expect(safeErrorText(new Error("mail API answered HTTP 422: Invalid `to`: bob@example.org\nmore"))).toBe(
      "Error: mail API answered HTTP 422: Invalid `to`: <address>",
    );
    expect(redactAddresses("<a.b+c@d.example> and x@y.z")).toBe("<<address>> and <address>");
  });
});
