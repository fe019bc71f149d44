/**
 * The full postcode load for D1 (scripts/d1-postcodes.ts): the build writes upserts within D1's
 * statement limit from the ONS zip as published, and `apply` resumes where an interrupted run
 * stopped. (The files go through local D1 itself in tests/workers/lookup.workers.test.ts; the
 * 2.7-million-row measurement is in docs/cloudflare.md.)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { applyPostcodeSql, buildPostcodeSql, type Execute } from "../../scripts/d1-postcodes";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { D1_MAX_STATEMENT_BYTES } from "../../src/db/limits";

const ZIP = resolve(ROOT_DIR, "tests/fixtures/import/nspl-sample.zip");
let out: string;
afterEach(() => rmSync(out, { recursive: true, force: true }));

describe("loading the ONS postcode file into D1", () => {
  it("builds numbered files of upserts, each statement within D1's 100 KB, from the zip as published", async () => {
    out = mkdtempSync(join(tmpdir(), "d1-postcodes-"));
    const m = await buildPostcodeSql(ZIP, { out, rowsPerFile: 4 });
    expect(m.rows).toBe(m.report.imported);
    expect(m.rows).toBeGreaterThan(4);
    expect(m.files.map((f) => f.name)[0]).toBe("postcodes-0001.sql");
    expect(m.files.reduce((n, f) => n + f.rows, 0)).toBe(m.rows);
    const sql = m.files.map((f) => readFileSync(join(out, f.name), "utf8")).join("");
    expect(sql).toContain("'SW1A 1AA','E14001172',0");
    for (const line of sql.split("\n").filter((l) => l.startsWith("INSERT")))
      expect(Buffer.byteLength(line)).toBeLessThan(D1_MAX_STATEMENT_BYTES);
    expect(sql).not.toContain("?");
  });

  it("applies the files in order and, after an interruption, carries on from the first one not applied", async () => {
    out = mkdtempSync(join(tmpdir(), "d1-postcodes-"));
    const m = await buildPostcodeSql(ZIP, { out, rowsPerFile: 3 });
    expect(m.files.length).toBeGreaterThanOrEqual(3);
    const target = { remote: false, database: "speakup" };
    const ran: string[] = [];
    let failOn: string | undefined = m.files[1]?.name;
    const execute: Execute = (file) => {
      if (basename(file) === failOn) throw new Error("wrangler d1 execute failed (network)");
      ran.push(basename(file));
    };
    expect(() => applyPostcodeSql(target, { out, execute })).toThrow(/network/);
    expect(ran).toEqual([m.files[0]?.name]);
    failOn = undefined;
    const resumed = applyPostcodeSql(target, { out, execute });
    expect(resumed).toMatchObject({ applied: m.files.length - 1, skipped: 1, remaining: 0 });
    expect(ran).toEqual(m.files.map((f) => f.name));
    expect(applyPostcodeSql(target, { out, execute })).toMatchObject({ applied: 0, remaining: 0 });
    // Remote keeps its own record; a new build starts its record afresh.
    expect(applyPostcodeSql({ ...target, remote: true }, { out, execute, maxFiles: 1 })).toMatchObject({
      applied: 1,
      remaining: m.files.length - 1,
    });
    await buildPostcodeSql(ZIP, { out, rowsPerFile: 2 });
    expect(applyPostcodeSql(target, { out, execute }).skipped).toBe(0);
  });
});
