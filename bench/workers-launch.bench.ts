/**
 * The launch mix on the Workers build: `npm run bench:workers [-- --duration 60 --letters 25 --lookups 500]`.
 *
 * 1. Local D1 (wrangler's own state directory, in a temp dir) gets the migrations and the data/
 *    seed; `wrangler dev` serves the built Worker with its delivery queue (Miniflare's local
 *    queue, as configured in wrangler.toml) in MAIL_MODE=reflect: mail to MPs comes back to the
 *    (example.org) supporters, through a mail API stand-in on 127.0.0.1 that answers like Resend
 *    (and honours Idempotency-Key, so a resend would be visible as a duplicate).
 * 2. For `duration` seconds, at fixed rates: `letters`/s letter submissions (real seats from
 *    data/postcodes.csv, each supporter a new address with their own words) and `lookups`/s
 *    postcode lookups. Each confirmation email that reaches the stand-in is confirmed at once,
 *    as a supporter clicking the link would, so every letter goes all the way: confirmation
 *    email, letter, "sent" notice.
 * 3. When the load stops, it waits for the queue to drain (every confirmed letter and its notice
 *    delivered), stops wrangler dev, and reads the outbox from local D1: nothing may be left
 *    queued, failed or sending, and no response may have been a 5xx.
 * 4. Prints the figures and rewrites the workers-launch block of bench/REPORT.md.
 *
 * The per-address Rate Limiting bindings are raised for the run (a temporary copy of
 * wrangler.toml): every request comes from 127.0.0.1, which a real launch's supporters don't.
 * Figures are what one local workerd on this (shared) machine does; see docs/cloudflare.md for
 * what they do and don't say about Cloudflare's network.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as netServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import autocannon, { type Result } from "autocannon";
import { seedSql } from "../scripts/d1-seed-sql";
import { prng } from "./support/nspl";
import { updateReport } from "./support/report";
import { BENCH_LIMITS } from "./support/server";

const ROOT_DIR = resolve(import.meta.dirname, "..");
const WRANGLER = resolve(ROOT_DIR, "node_modules/.bin/wrangler");
const BENCH_CONFIG = resolve(ROOT_DIR, ".wrangler-bench.toml");
const START_TIMEOUT_MS = 120_000;
const DRAIN_TIMEOUT_MS = 10 * 60_000;

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "60" },
    letters: { type: "string", default: "25" },
    lookups: { type: "string", default: "500" },
    /** Milliseconds the mail API stand-in takes to answer (a real provider: 100-300 ms). */
    "mail-latency": { type: "string", default: "0" },
    "no-report": { type: "boolean", default: false },
  },
});
const DURATION = Number(args.duration);
const LETTERS_PER_S = Number(args.letters);
const LOOKUPS_PER_S = Number(args.lookups);
const MAIL_LATENCY_MS = Number(args["mail-latency"]);

const wranglerEnv = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};
const log = (m: string) => process.stdout.write(`${m}\n`);

async function freePort(): Promise<number> {
  const srv = netServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

/** Current postcodes of seats with a sitting MP (from data/), plus the test seat. */
function samplePostcodes(): string[] {
  const [header, ...lines] = readFileSync(resolve(ROOT_DIR, "data/postcodes.csv"), "utf8").trim().split("\n");
  const cols = (header ?? "").split(",");
  const [pc, status, pcon] = ["postcode", "status", "pcon24"].map((c) => cols.indexOf(c));
  return lines
    .map((l) => l.split(","))
    .filter((c) => c[status ?? -1] === "live" && c[pcon ?? -1])
    .map((c) => c[pc ?? -1] ?? "");
}

const WORDS = (
  "baby health visitor midwife nursery sleep feeding support family parents nights first year " +
  "worry help local centre closed waiting list months weeks mother father grandmother carer " +
  "postnatal depression anxiety breastfeeding clinic checks development speech play group " +
  "library rhyme time funding cuts staff shortage queue appointment phone call advice trust " +
  "community volunteers hope children future early years council school ready growing learning"
).split(" ");

/**
 * Made-up words (two syllables each, 10,000 of them) for the part of each story that is the
 * writer's own: real letters on the same subject share under a fifth of their words, and a bench
 * whose letters all drew on the 70 words above would have them held as near-copies of each other
 * (letters.similarity.ts), as the first run after the abuse checks did (1,248 of 1,264 held).
 */
const C = "bdfghjklmnprstvwyzcq".split("");
const V = "aeiou".split("");
const OWN = (n: number) => {
  const [a, b, c, d] = [n % 20, Math.floor(n / 20) % 5, Math.floor(n / 100) % 20, Math.floor(n / 2000) % 5];
  return `${C[a]}${V[b]}${C[c]}${V[d]}n`;
};

/** A few sentences of a supporter's own words, different for each letter (as distinct as real ones). */
function story(rand: () => number): string {
  const topic = () => WORDS[Math.floor(rand() * WORDS.length)] ?? "baby";
  const own = () => OWN(Math.floor(rand() * 10_000));
  const sentence = () =>
    `Our ${[topic(), own(), own(), topic(), own(), own(), own(), topic(), own(), own(), own(), topic()].join(" ")}.`;
  return Array.from({ length: 3 }, sentence).join(" ");
}

/** A stand-in for the mail API (Resend's POST /emails shape) that counts and confirms. */
async function mailApi(onConfirm: (token: string) => void) {
  const seen = new Map<string, number>();
  const stats = { accepted: 0, duplicates: 0, confirmations: 0, letters: 0, notices: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      const key = String(req.headers["idempotency-key"] ?? "");
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      const answer = () => {
        if (n > 1) stats.duplicates++;
        else {
          stats.accepted++;
          const m = JSON.parse(body) as { subject: string; text: string };
          const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(m.text)?.[1];
          if (token && /confirm/i.test(m.subject)) {
            stats.confirmations++;
            onConfirm(token);
          } else if (/has been sent/i.test(m.subject)) stats.notices++;
          else stats.letters++;
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ id: `bench_${stats.accepted + stats.duplicates}` }));
      };
      if (MAIL_LATENCY_MS > 0) setTimeout(answer, MAIL_LATENCY_MS);
      else answer();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/emails`, stats, close: () => server.close() };
}

async function startWranglerDev(stateDir: string, port: number, vars: Record<string, string>) {
  // wrangler.toml with the per-address limits raised: the whole launch comes from one address.
  writeFileSync(
    BENCH_CONFIG,
    readFileSync(resolve(ROOT_DIR, "wrangler.toml"), "utf8").replace(
      /simple = \{ limit = \d+, period = 60 \}/g,
      "simple = { limit = 1000000, period = 60 }",
    ),
  );
  const wrangler = (argv: string[]) =>
    execFileSync(WRANGLER, [...argv, "--config", BENCH_CONFIG], {
      cwd: ROOT_DIR,
      env: wranglerEnv,
      stdio: "pipe",
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    }).toString();
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
  wrangler([
    "d1",
    "execute",
    "DB",
    "--local",
    "--persist-to",
    stateDir,
    "--file",
    join(stateDir, "seed.sql"),
  ]);
  const child: ChildProcess = spawn(
    WRANGLER,
    ["dev", "--config", BENCH_CONFIG, "--ip", "127.0.0.1", "--port", String(port), "--persist-to", stateDir]
      .concat(Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]))
      .concat(["--log-level", "warn", "--show-interactive-dev-session=false"]),
    { cwd: ROOT_DIR, env: wranglerEnv, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  process.once("exit", kill);
  let output = "";
  /** The Worker's own warning and error lines (JSON), counted by message, for the report. */
  const problems = new Map<string, number>();
  let partial = "";
  const keep = (d: string) => {
    output = (output + d).slice(-20_000);
    const lines = (partial + d).split("\n");
    partial = lines.pop() ?? "";
    for (const l of lines) {
      const at = l.indexOf('{"time"');
      if (at < 0) {
        if (/\[ERROR\]|Uncaught|exceeded|reload|restart|change/i.test(l)) {
          const k = `wrangler: ${l.trim().slice(0, 160)}`;
          problems.set(k, (problems.get(k) ?? 0) + 1);
        }
        continue;
      }
      try {
        const j = JSON.parse(l.slice(at)) as { level?: string; msg?: string; fault?: string; error?: string };
        if (j.level === "warn" || j.level === "error") {
          const k = `${j.level}: ${j.msg}${j.fault ? ` (${j.fault})` : ""}${j.error ? ` [${String(j.error).split("\n")[0]}]` : ""}`;
          problems.set(k, (problems.get(k) ?? 0) + 1);
        }
      } catch {
        // not one of ours
      }
    }
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      kill();
      throw new Error(`wrangler dev did not start\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    output: () => output,
    problems,
    query: (sql: string) =>
      JSON.parse(
        wrangler(["d1", "execute", "DB", "--local", "--persist-to", stateDir, "--command", sql, "--json"]),
      ) as { results: Record<string, unknown>[] }[],
    async stop() {
      process.off("exit", kill);
      kill();
      if (child.exitCode === null)
        await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

/** Status classes of an autocannon run. */
const classes = (r: Result) => {
  const out = { "2xx": 0, "4xx": 0, "5xx": 0 };
  for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) {
    const k = `${code[0]}xx` as keyof typeof out;
    if (k in out) out[k] += count;
  }
  return out;
};

function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = (cells[0] ?? []).map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "speakup-launch-"));
  const load = [loadavg()[0] ?? 0];
  const confirms: string[] = [];
  const mail = await mailApi((token) => confirms.push(token));
  let dev: Awaited<ReturnType<typeof startWranglerDev>> | undefined;
  try {
    writeFileSync(join(dir, "seed.sql"), (await seedSql(resolve(ROOT_DIR, "data"))).sql);
    log("building the Worker...");
    execFileSync("npm", ["run", "-s", "build:worker"], { cwd: ROOT_DIR, env: wranglerEnv, stdio: "pipe" });
    dev = await startWranglerDev(dir, await freePort(), {
      ...BENCH_LIMITS,
      MAIL_MODE: "reflect",
      MAIL_API_URL: mail.url,
      MAIL_API_KEY: "bench",
      MAIL_FROM: "campaign@example.org",
      TOKEN_SECRET: "bench-only-token-secret-0123456789",
      REMOTE_LOOKUP: "off",
      LOG_LEVEL: "warn",
      LETTER_LIMIT_PER_EMAIL_DAY: "1000",
    });
    const url = dev.url;

    // Seats whose MP can be written to (an address on record), checked once before the load.
    const contactable: string[] = [];
    for (const pc of samplePostcodes()) {
      const res = await fetch(`${url}/api/lookup?postcode=${encodeURIComponent(pc)}`);
      const body = (await res.json()) as { mp?: { contactable?: boolean } };
      if (res.status === 200 && body.mp?.contactable) contactable.push(pc);
    }
    const lookups = samplePostcodes();
    log(`${contactable.length} postcodes with a contactable MP; ${lookups.length} postcodes to look up`);

    // Confirm each letter as its confirmation email arrives (a supporter clicking the link).
    let confirmed = 0;
    let confirmErrors = 0;
    let confirming = true;
    const confirmer = (async () => {
      while (confirming || confirms.length) {
        const token = confirms.shift();
        if (!token) {
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        const res = await fetch(`${url}/api/letters/confirm`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ token }),
        });
        if (res.status === 200) confirmed++;
        else confirmErrors++;
        await res.body?.cancel();
      }
    })();

    /** 5xx answers by status and body, to say where they came from. */
    const serverErrors = new Map<string, number>();
    const rand = prng(1001);
    let n = 0;
    log(
      `load: ${LETTERS_PER_S} letters/s and ${LOOKUPS_PER_S} lookups/s for ${DURATION} s (mail API answers in ${MAIL_LATENCY_MS} ms)`,
    );
    const started = Date.now();
    const loadTimer = setInterval(() => load.push(loadavg()[0] ?? 0), 5000);
    const [letterRun, lookupRun] = await Promise.all([
      autocannon({
        url,
        connections: 25,
        overallRate: LETTERS_PER_S,
        duration: DURATION,
        requests: [
          {
            method: "POST",
            path: "/api/letters",
            headers: { "content-type": "application/json" },
            onResponse: (status, body) => {
              if (status >= 500) {
                const k = `${status} ${body.slice(0, 200)}`;
                serverErrors.set(k, (serverErrors.get(k) ?? 0) + 1);
              }
            },
            setupRequest: (req) => {
              const i = n++;
              return {
                ...req,
                body: JSON.stringify({
                  recipient: { kind: "mp" },
                  asks: ["prevention", "workforce"],
                  story: story(rand),
                  supporter: {
                    name: `Bench Supporter ${i}`,
                    email: `bench-${i}@example.org`,
                    address: {
                      line1: `${i} Launch Street`,
                      town: "Benchton",
                      postcode: contactable[i % contactable.length] ?? "ZZ9 9ZZ",
                    },
                  },
                }),
              };
            },
          },
        ],
      }),
      autocannon({
        url,
        connections: 100,
        overallRate: LOOKUPS_PER_S,
        duration: DURATION,
        requests: [
          {
            method: "GET",
            onResponse: (status, body) => {
              if (status >= 500) {
                const k = `${status} ${body.slice(0, 200)}`;
                serverErrors.set(k, (serverErrors.get(k) ?? 0) + 1);
              }
            },
            setupRequest: (req) => {
              const pc = lookups[Math.floor(rand() * lookups.length)] ?? "ZZ9 9ZZ";
              return { ...req, path: `/api/lookup?postcode=${encodeURIComponent(pc)}` };
            },
          },
        ],
      }),
    ]);
    clearInterval(loadTimer);
    const loadEnded = Date.now();
    const submitted = classes(letterRun)["2xx"];

    // Drained: every submitted letter confirmed, sent, and its notice sent.
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (
      (confirmed + confirmErrors < submitted ||
        mail.stats.letters < confirmed ||
        mail.stats.notices < confirmed) &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 250));
    const drainedAfterS = (Date.now() - loadEnded) / 1000;
    confirming = false;
    await confirmer;
    const problemsSeen = dev.problems;
    await dev.stop();
    const outboxText = (
      dev.query("select kind || ' ' || state as k, count(*) as n from outbox group by kind, state")[0]
        ?.results ?? []
    )
      .map((r) => `${String(r.k)} ${Number(r.n)}`)
      .join(", ");
    // Not delivered: anything due and unsent (follow-ups wait LETTER_FOLLOWUP_DAYS by design).
    const stuck = Number(
      dev.query(
        `select count(*) as n from outbox where state in ('sending', 'dead') or (state in ('queued', 'failed') and next_attempt_at <= ${Date.now()})`,
      )[0]?.results[0]?.n ?? -1,
    );
    // Held for a moderator: the bench's letters are distinct, so any held one is a false alarm
    // the abuse checks raised under load, and counts as not delivered.
    const held = Number(
      dev.query("select count(*) as n from letters where status = 'held'")[0]?.results[0]?.n ?? -1,
    );
    dev = undefined;

    const L = classes(letterRun);
    const K = classes(lookupRun);
    const fiveXX = L["5xx"] + K["5xx"];
    // wrangler dev's own proxy answers a POST it lost on the way to workerd with this 503
    // (workers-sdk#14641: keep-alive timeouts inside the dev server; the Worker never saw it
    // fail, and there is no such proxy on Cloudflare). Counted apart from the Worker's 5xx.
    const PROXY_503 = "Your worker restarted mid-request";
    const proxy5xx = [...serverErrors].filter(([k]) => k.includes(PROXY_503)).reduce((n, [, v]) => n + v, 0);
    const worker5xx = fiveXX - proxy5xx;
    const date = new Date().toISOString().slice(0, 10);
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}`;
    const loadText = `load average ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the run (a shared machine: other jobs were running)`;
    const body = `Measured ${date} by \`npm run bench:workers\` on ${machine}, ${loadText}. \`wrangler dev\` (workerd + local D1 + Miniflare's local queue) on loopback; data/ seed; MAIL_MODE=reflect to a local stand-in for the mail API answering in ${MAIL_LATENCY_MS} ms; the client on the same machine. Offered: ${LETTERS_PER_S} letter submissions/s and ${LOOKUPS_PER_S} lookups/s for ${DURATION} s; each confirmation email confirmed as it arrived.

${table([
  ["stream", "offered", "achieved req/s", "p50", "p99", "2xx", "4xx", "5xx"],
  [
    "POST /api/letters",
    `${LETTERS_PER_S}/s`,
    letterRun.requests.average.toFixed(1),
    `${letterRun.latency.p50} ms`,
    `${letterRun.latency.p99} ms`,
    L["2xx"],
    L["4xx"],
    L["5xx"],
  ],
  [
    "GET /api/lookup",
    `${LOOKUPS_PER_S}/s`,
    lookupRun.requests.average.toFixed(1),
    `${lookupRun.latency.p50} ms`,
    `${lookupRun.latency.p99} ms`,
    K["2xx"],
    K["4xx"],
    K["5xx"],
  ],
])}

Delivery: ${submitted} letters submitted, ${confirmed} confirmed (${confirmErrors} confirm errors); the mail API took ${mail.stats.confirmations} confirmation emails, ${mail.stats.letters} letters and ${mail.stats.notices} "sent" notices (${mail.stats.accepted} emails, ${mail.stats.duplicates} duplicates). The queue was drained ${drainedAfterS.toFixed(0)} s after the load stopped (${(mail.stats.accepted / ((Date.now() - started) / 1000)).toFixed(0)} emails/s over the whole run). Outbox at the end: ${outboxText} (follow-ups wait LETTER_FOLLOWUP_DAYS by design); ${stuck} due and not delivered; ${held} letters held for a moderator. 5xx answers from the Worker: ${worker5xx}; from wrangler dev's local proxy ("${PROXY_503}", workers-sdk#14641): ${proxy5xx}.`;
    log(body);
    const logged = [...(problemsSeen ?? new Map<string, number>())].map(([k, v]) => `${v} × ${k}`);
    log(
      logged.length
        ? `The Worker logged:\n  ${logged.join("\n  ")}`
        : "The Worker logged no warning or error.",
    );
    for (const [k, v] of serverErrors) log(`5xx answer (${v} ×): ${k}`);
    if (!args["no-report"])
      updateReport(resolve(ROOT_DIR, "bench/REPORT.md"), {
        section: "Workers launch mix",
        key: "workers-launch",
        body,
      });
    if (worker5xx > 0 || stuck > 0 || held !== 0) {
      process.stderr.write(
        `FAILED: ${worker5xx} 5xx answers from the Worker, ${stuck} outbox rows not delivered, ${held} letters held\n`,
      );
      process.exitCode = 1;
    }
  } catch (e) {
    if (dev) process.stderr.write(`--- wrangler dev output ---\n${dev.output()}\n`);
    throw e;
  } finally {
    await dev?.stop();
    mail.close();
    rmSync(BENCH_CONFIG, { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  },
);
