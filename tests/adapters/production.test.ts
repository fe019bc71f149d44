/**
 * Production start: `npm start` runs the compiled bundle (no TypeScript loader at run time), and a
 * SIGTERM lets the message being sent finish before the process exits.
 * Finding: shutdown exited after 3 s whatever the outbox was doing, leaving a row in `sending`
 * until its lease ran out (and a second copy if the relay had taken the first).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Database from "better-sqlite3";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { banner } from "../../src/adapters/node/startup";
import { parseEnv } from "../../src/env";
import { sendServiceMail } from "../../src/modules/pledges/pledges.mail";
import { testApp } from "../support/deps";

const dir = mkdtempSync(join(tmpdir(), "speakup-prod-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

beforeAll(() => {
  execFileSync(process.execPath, ["scripts/build-node.mjs"], { cwd: ROOT_DIR });
}, 60_000);

describe("npm start", () => {
  it("runs compiled JavaScript; tsx is a development tool only", () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT_DIR, "package.json"), "utf8"));
    expect(pkg.scripts.start).toMatch(/^node (--\S+ )*dist\/node\/main\.js$/);
    expect(pkg.scripts.prestart).toContain("build");
    expect(pkg.scripts.cli).toMatch(/dist\/node\/cli\.js$/);
    expect(pkg.dependencies.tsx).toBeUndefined();
    expect(pkg.dependencies.esbuild).toBeTruthy();
    expect(readFileSync(resolve(ROOT_DIR, "dist/node/main.js"), "utf8")).not.toMatch(/from "tsx|\.ts"/);
  });

  it("on SIGTERM, finishes the message it is sending, then exits 0", async () => {
    // A relay that takes 3.5 s to accept each message (longer than the old 3 s hard exit).
    const received: string[] = [];
    let dataStarted: () => void = () => {};
    const sending = new Promise<void>((r) => {
      dataStarted = r;
    });
    const relay = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onData(stream, _session, cb) {
        let text = "";
        stream.on("data", (d) => {
          text += d;
        });
        stream.on("end", () => {
          dataStarted();
          setTimeout(() => {
            received.push(text);
            cb();
          }, 3500);
        });
      },
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", () => r()));
    const smtpUrl = `smtp://127.0.0.1:${(relay.server.address() as AddressInfo).port}`;

    const dbPath = join(dir, "shutdown.sqlite");
    const t = testApp({ DATABASE_PATH: dbPath });
    await sendServiceMail(t.deps, {
      to: { name: "Ada", address: "ada@example.org" },
      subject: "Please confirm your #SpeakUpForBabies pledge",
      template: "emails/pledge-confirm.txt",
      data: { name: "Ada", confirmUrl: "http://localhost:3000/pledge/confirm?token=x", ttlDays: 7 },
    });
    t.sqlite.close();

    const server = spawn(process.execPath, [resolve(ROOT_DIR, "dist/node/main.js")], {
      cwd: ROOT_DIR,
      env: {
        PATH: process.env.PATH ?? "",
        DATABASE_PATH: dbPath,
        PORT: "0",
        SEED: "off",
        MAIL_MODE: "reflect",
        MAIL_FROM: "campaign@example.org",
        SMTP_URL: smtpUrl,
        TOKEN_SECRET: "a-long-and-real-secret-4f9c1",
        OUTBOX_POLL_MS: "100",
        RETENTION_INTERVAL_MINUTES: "0",
        LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(server);
    let log = "";
    server.stderr?.on("data", (d) => {
      log += d;
    });
    const exited = new Promise<number | null>((r) => server.once("exit", (code) => r(code)));

    await sending;
    server.kill("SIGTERM");
    const code = await exited;
    await new Promise<void>((r) => relay.close(() => r()));

    expect(code, log).toBe(0);
    expect(log).toContain('"msg":"shutting down"');
    expect(log).toContain('"msg":"stopped"');
    expect(received).toHaveLength(1);
    const db = new Database(dbPath, { readonly: true });
    try {
      expect(db.prepare("select state, attempts from outbox").all()).toEqual([
        { state: "sent", attempts: 1 },
      ]);
      expect(db.prepare("select outcome from delivery_log").all()).toEqual([{ outcome: "sent" }]);
    } finally {
      db.close();
    }
  }, 30_000);
});

/** Run the compiled server with `env` until it exits (or `until` matches its stdout, then stop it). */
function runServer(env: Record<string, string>, until?: RegExp) {
  const child = spawn(process.execPath, [resolve(ROOT_DIR, "dist/node/main.js")], {
    cwd: ROOT_DIR,
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "warn", MEMBERS_SYNC_INTERVAL_HOURS: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  return new Promise<{ code: number | null; stdout: string; stderr: string; match?: RegExpExecArray }>(
    (done) => {
      child.stdout?.on("data", (d) => {
        stdout += d;
        const m = until?.exec(stdout);
        if (m) {
          child.kill("SIGTERM");
          done({ code: null, stdout, stderr, match: m });
        }
      });
      child.once("exit", (code) => done({ code, stdout, stderr }));
    },
  );
}

describe("starting up", () => {
  it("a second start on a busy port exits with one clear line, before touching the database", async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
    const port = (holder.address() as AddressInfo).port;
    const dbPath = join(dir, "busy-port.sqlite");
    try {
      const run = await runServer({ PORT: String(port), DATABASE_PATH: dbPath });
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n")).toEqual([
        `speakup: port ${port} on 127.0.0.1 is already in use (is speakup already running?). Stop the other process, or start this one with another PORT.`,
      ]);
      expect(run.stdout).toBe("");
      // Nothing was opened or seeded.
      expect(existsSync(dbPath)).toBe(false);
    } finally {
      await new Promise<void>((r) => holder.close(() => r()));
    }
  }, 30_000);

  it("the banner names the address that emailed links, share links and the partner snippet use", async () => {
    const run = await runServer(
      { PORT: "0", SEED: "off", DATABASE_PATH: join(dir, "banner.sqlite"), OUTBOX_POLL_MS: "0" },
      /running at (http:\/\/\S+)/,
    );
    const url = run.match?.[1] ?? "";
    expect(url).toMatch(/^http:\/\/localhost:\d+$/);
    expect(run.stdout).toContain("listening on 127.0.0.1:");
    // With PUBLIC_URL set, the banner says that, whatever the socket.
    const config = parseEnv({ PUBLIC_URL: "https://speakup.example.org/" });
    expect(banner(config, { address: "127.0.0.1", port: 3000 })[0]).toMatch(
      /^speakup is running at https:\/\/speakup\.example\.org {2}\(listening on 127\.0\.0\.1:3000/,
    );
    expect(banner(parseEnv({ PORT: "4000" }), { address: "::1", port: 4000 })[0]).toMatch(
      /running at http:\/\/localhost:4000 {2}\(listening on \[::1\]:4000/,
    );
  }, 30_000);
});
