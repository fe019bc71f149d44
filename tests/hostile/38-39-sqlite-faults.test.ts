/**
 * HOSTILE 38 and 39, with real files and real processes.
 * Findings: better-sqlite3 waited synchronously, so while another process held the write lock for
 * 3 s every request including /healthz stalled, and past the busy timeout a request got a 500;
 * disk full answered 500, and one pledge was told "check your email" with no mail queued.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus, testApp } from "../support/deps";
import { form, json } from "../support/pledges";

const BETTER_SQLITE3 = createRequire(import.meta.url).resolve("better-sqlite3");
const PLEDGE = {
  name: "Ada",
  email: "ada@example.org",
  postcode: "ZZ9 9ZZ",
  pledgeConsent: "pledge-2026-11",
};
const dirs: string[] = [];
const children: ChildProcess[] = [];

function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), "speakup-faults-"));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Another process that takes the database's write lock and keeps it until told to let go. */
async function holdWriteLock(path: string) {
  const script = `
    const Database = require(${JSON.stringify(BETTER_SQLITE3)});
    const db = new Database(${JSON.stringify(path)});
    db.exec("BEGIN IMMEDIATE");
    db.exec("CREATE TABLE IF NOT EXISTS lock_holder (x)");
    process.stdout.write("locked\\n");
    process.stdin.once("data", () => { db.exec("COMMIT"); db.close(); process.stdout.write("released\\n"); process.exit(0); });
  `;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  children.push(child);
  const said = (word: string) =>
    new Promise<void>((done, fail) => {
      let out = "";
      child.stdout?.on("data", (d) => {
        out += d;
        if (out.includes(word)) done();
      });
      child.once("exit", (code) => fail(new Error(`lock holder exited (${code}) before saying ${word}`)));
    });
  await said("locked");
  return {
    release: async () => {
      const released = said("released");
      child.stdin?.write("go\n");
      await released;
    },
  };
}

async function fileApp(env: Record<string, string> = {}) {
  const t = testApp({ DATABASE_PATH: join(tempDir(), "speakup.sqlite"), ...env });
  await ensureTestSeat(t.deps);
  return t;
}

const count = (t: { sqlite: Database.Database }, table: string) =>
  (t.sqlite.prepare(`select count(*) n from ${table}`).get() as { n: number }).n;

describe("38: another process holds the write lock", () => {
  it("keeps answering reads and /healthz without blocking; a write waits and then succeeds", async () => {
    const t = await fileApp({ DB_BUSY_WAIT_MS: "20000" });
    const lock = await holdWriteLock(t.deps.config.DATABASE_PATH);
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    let settled = false;
    const write = Promise.resolve(t.request("/api/pledges", json(PLEDGE))).then((res) => {
      settled = true;
      return res;
    });
    // Reads answer while the write is still waiting for the lock.
    await expectStatus(await t.request("/healthz"), 200);
    await expectStatus(await t.request("/api/lookup?postcode=ZZ9+9ZZ"), 200);
    await expectStatus(await t.request("/pledges/wall", { headers: { accept: "text/html" } }), 200);
    await expectStatus(await t.request("/api/pledges/counter"), 200);
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    // better-sqlite3 used to sleep inside SQLite for the whole lock: seconds of frozen event loop.
    expect(loop.max / 1e6).toBeLessThan(1000);
    loop.disable();
    await lock.release();
    await expectStatus(await write, 202);
    expect(count(t, "supporter_pledges")).toBe(1);
    expect(count(t, "outbox")).toBe(1);
  });

  it("answers 503 with Retry-After when the lock outlasts DB_BUSY_WAIT_MS, and writes nothing", async () => {
    const t = await fileApp({ DB_BUSY_WAIT_MS: "200" });
    const lock = await holdWriteLock(t.deps.config.DATABASE_PATH);
    try {
      const api = await t.request("/api/pledges", json(PLEDGE));
      expect(await expectStatus(api, 503)).toMatchObject({ code: "database_unavailable" });
      expect(Number(api.headers.get("retry-after"))).toBeGreaterThan(0);
      // The site's form keeps what was typed and says nothing about checking email.
      const page = await t.request(
        "/pledge",
        form({ ...PLEDGE }, { accept: "text/html", origin: "http://localhost" }),
      );
      const html = await page.text();
      expect(page.status, html).toBe(503);
      expect(page.headers.get("retry-after")).toBeTruthy();
      expect(html).toContain('value="ada@example.org"');
      expect(html).toContain('value="Ada"');
      expect(html).not.toMatch(/check your email/i);
      expect(t.logger.lines.filter((l) => l.level === "error")).toEqual([]);
      expect(t.logger.lines.some((l) => l.msg === "database unavailable")).toBe(true);
    } finally {
      await lock.release();
    }
    expect(count(t, "supporter_pledges")).toBe(0);
    expect(count(t, "outbox")).toBe(0);
    // And once the lock is gone, the same pledge goes through.
    await expectStatus(await t.request("/api/pledges", json(PLEDGE)), 202);
  });
});

describe("39: disk full and a read-only database, on the real server", () => {
  const server = { url: "", proc: undefined as ChildProcess | undefined, log: "" };
  let dbPath = "";

  beforeAll(async () => {
    execFileSync(process.execPath, ["scripts/build-node.mjs"], { cwd: ROOT_DIR });
    dbPath = join(tempDir(), "speakup.sqlite");
    const t = testApp({ DATABASE_PATH: dbPath });
    await ensureTestSeat(t.deps);
    t.sqlite.close();
    // The server may not grow any file past 33 KB (its -shm is 32 KB): every write that must
    // extend the WAL fails the way it does on a full disk (EFBIG/ENOSPC: SQLITE_IOERR/FULL).
    const proc = spawn("bash", ["-c", "ulimit -f 33; exec node dist/node/main.js"], {
      cwd: ROOT_DIR,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_PATH: dbPath,
        PORT: "0",
        SEED: "off",
        OUTBOX_POLL_MS: "0",
        RETENTION_INTERVAL_MINUTES: "0",
        LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(proc);
    server.proc = proc;
    proc.stderr?.on("data", (d) => {
      server.log += d;
    });
    server.url = await new Promise<string>((done, fail) => {
      let out = "";
      proc.stdout?.on("data", (d) => {
        out += d;
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (m?.[1]) done(m[1]);
      });
      proc.once("exit", (code) => fail(new Error(`server exited ${code}: ${server.log}`)));
    });
  }, 60_000);

  it("answers 503 with Retry-After, keeps the form's input, stores no partial rows and never says 'check your email'", async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/api/lookup?postcode=ZZ99ZZ`)).status).toBe(200);

    const api = await fetch(`${server.url}/api/pledges`, json(PLEDGE));
    const problem = (await expectStatus(api, 503)) as { code: string };
    expect(problem.code).toBe("database_unavailable");
    expect(Number(api.headers.get("retry-after"))).toBeGreaterThan(0);

    const page = await fetch(
      `${server.url}/pledge`,
      form({ ...PLEDGE, email: "bea@example.org" }, { accept: "text/html", origin: server.url }),
    );
    const html = await page.text();
    expect(page.status, html).toBe(503);
    expect(html).toContain('value="bea@example.org"');
    expect(html).not.toMatch(/check your email/i);

    server.proc?.kill("SIGTERM");
    await new Promise((r) => server.proc?.once("exit", r));
    expect(server.log).toContain("database unavailable");
    expect(server.log).not.toMatch(/"level":"error"/);
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 0 });
      expect(db.prepare("select count(*) n from outbox").get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });

  it("refuses to start on a database it can't write, naming DATABASE_PATH", async () => {
    const dir = tempDir();
    const path = join(dir, "readonly.sqlite");
    const t = testApp({ DATABASE_PATH: path });
    t.sqlite.close();
    chmodSync(path, 0o444);
    chmodSync(dir, 0o555);
    // root may write anything: run the server as nobody when the tests run as root.
    const asNobody = process.getuid?.() === 0;
    if (asNobody) chownSync(dir, 0, 0);
    const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
      const proc = spawn(process.execPath, [resolve(ROOT_DIR, "dist/node/main.js")], {
        cwd: ROOT_DIR,
        env: { PATH: process.env.PATH ?? "", DATABASE_PATH: path, PORT: "0", SEED: "off", LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
        ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
      });
      children.push(proc);
      let stderr = "";
      proc.stderr?.on("data", (d) => {
        stderr += d;
      });
      proc.once("exit", (code) => done({ code, stderr }));
    });
    chmodSync(dir, 0o755);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("DATABASE_PATH");
    expect(result.stderr).toContain("can't be written");
    expect(result.stderr).not.toContain("    at ");
  });
});
