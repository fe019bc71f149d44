/**
 * HOSTILE 37: the process dies (SIGKILL) after the letter row is written and before its outbox
 * rows are: neither exists afterwards (one transaction), and the supporter can simply send again.
 * A real process on a real database file; the kill happens inside the write itself.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { buildNodeDeps, ROOT_DIR } from "../../src/adapters/node/deps";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";

const src = (p: string) => JSON.stringify(resolve(ROOT_DIR, p));

describe("37: a crash between the letter insert and the outbox insert", () => {
  it("leaves neither row, and the same letter can be sent again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "speakup-crash-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const env = {
      DATABASE_PATH: join(dir, "speakup.sqlite"),
      SEED: "off",
      REMOTE_LOOKUP: "off",
      LOG_LEVEL: "silent",
      TOKEN_SECRET: "crash-test-secret-0123456789",
    };
    // The child submits a letter through the real app, and kills itself inside the write: after
    // the statement that inserts the letter has run, before the outbox rows are inserted.
    const script = join(dir, "crash.mts");
    writeFileSync(
      script,
      `import { buildNodeDeps } from ${src("src/adapters/node/deps.ts")};
import { createApp } from ${src("src/app.ts")};
import { parseEnv } from ${src("src/env.ts")};
import { ensureTestSeat } from ${src("src/modules/lookup/lookup.import.ts")};
const { deps } = buildNodeDeps(parseEnv(process.env));
await ensureTestSeat(deps);
const atomic = deps.atomic;
deps.atomic = (statements) => {
  const sql = statements.map((s) => s.toSQL().sql);
  if (!sql[0]?.startsWith('insert into "letters"')) return atomic(statements);
  const crash = { run() { process.kill(process.pid, "SIGKILL"); return { changes: 0 }; } };
  return atomic([statements[0], crash, ...statements.slice(1)]);
};
await createApp(() => deps).request("/api/letters", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: process.env.LETTER,
});
process.exit(0);
`,
    );
    const letter = JSON.stringify(letterInput());
    const run = spawnSync(process.execPath, ["--import", "tsx", script], {
      cwd: ROOT_DIR,
      env: { ...process.env, ...env, LETTER: letter },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.signal, run.stderr).toBe("SIGKILL");

    const db = new Database(env.DATABASE_PATH, { readonly: true });
    expect(db.prepare("select count(*) n from letters").get()).toEqual({ n: 0 });
    expect(db.prepare("select count(*) n from outbox").get()).toEqual({ n: 0 });
    db.close();

    // Starting again on the same file: the supporter sends the same letter, and it is made once.
    const { deps, sqlite } = buildNodeDeps(parseEnv(env));
    onTestFinished(() => {
      sqlite.close();
    });
    await ensureTestSeat(deps);
    const res = await createApp(() => deps).request("/api/letters", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: letter,
    });
    await expectStatus(res, 201);
    expect(sqlite.prepare("select count(*) n from letters").get()).toEqual({ n: 1 });
    expect(sqlite.prepare("select kind from outbox order by kind").all()).toEqual([
      { kind: "confirm" },
      { kind: "letter" },
    ]);
  }, 60_000);
});
