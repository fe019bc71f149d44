/**
 * The hostile list (../shared/HOSTILE.md, cases 1-42) maps one-to-one onto this folder: every
 * case has a file named by its number (or a range, "13-14-...") holding a describe() that starts
 * with that number, and no file claims a case it doesn't test.
 */
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const CASES = 42;
const files = readdirSync(import.meta.dirname).filter(
  (f) => /^\d\d(-\d\d)?-.*\.test\.ts$/.test(f) && !f.startsWith("00-"),
);

describe("the hostile list", () => {
  it(`has a numbered test for each of its ${CASES} cases, each under a describe naming its number`, () => {
    const covered = new Map<number, string>();
    for (const f of files) {
      const [, from, to] = /^(\d\d)(?:-(\d\d))?-/.exec(f) as RegExpExecArray;
      const text = readFileSync(`${import.meta.dirname}/${f}`, "utf8");
      for (let n = Number(from); n <= Number(to ?? from); n++) {
        expect(covered.has(n), `case ${n} claimed twice`).toBe(false);
        covered.set(n, f);
        expect(text, `${f} has no describe("${String(n).padStart(2, "0")}: ...")`).toMatch(
          new RegExp(`describe\\(\\s*["'\`]0?${n}:`),
        );
      }
    }
    expect([...covered.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: CASES }, (_, i) => i + 1));
  });
});
