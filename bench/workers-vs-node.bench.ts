/**
 * Lookup on the Workers build (`wrangler dev`, workerd + local D1) against the Node build
 * (better-sqlite3), same machine, same data: `npm run bench:workers-vs-node [-- --duration 10 --connections 50]`.
 *
 * 1. One seed for both: data/ (650 constituencies, MPs, sample postcodes, the test seat). Node
 *    loads it with its start-up seed; D1 gets the SQL that scripts/d1-seed-sql.ts generates from
 *    the same import verbs, after `wrangler d1 migrations apply`.
 * 2. Each server runs alone on 127.0.0.1 (Node first, then wrangler dev), gets a short warm-up,
 *    then one bounded autocannon run of GET /api/lookup?postcode= over the loaded postcodes.
 * 3. Prints the figures and rewrites the workers-vs-node block of bench/REPORT.md.
 *
 * Bounded: fixed durations, loopback only, REMOTE_LOOKUP off (no upstream call can happen),
 * both servers are killed on success, error and Ctrl-C, and the temp dir is removed.
 * `wrangler dev` is a development server (workerd behind wrangler's proxy); its figure says what
 * this machine's workerd does, not what Cloudflare's edge serves.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import autocannon, { type Result } from "autocannon";
import { seedSql } from "../scripts/d1-seed-sql";
import { updateReport } from "./support/report";
import { BENCH_LIMITS, startServer } from "./support/server";

const ROOT_DIR = resolve(import.meta.dirname, "..");
const WRANGLER = resolve(ROOT_DIR, "node_modules/.bin/wrangler");
const START_TIMEOUT_MS = 90_000;
const WARMUP_SECONDS = 2;

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    "no-report": { type: "boolean", default: false },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);

const wranglerEnv = {
  ...process.env,
  CI: "true",
  WRANGLER_SEND_METRICS: "false",
  WRANGLER_SEND_ERROR_REPORTS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_HIDE_BANNER: "true",
};

/** Loaded, current postcodes (terminated ones answer 410, which would skew the comparison). */
function samplePostcodes(): string[] {
  const [header, ...lines] = readFileSync(resolve(ROOT_DIR, "data/postcodes.csv"), "utf8").trim().split("\n");
  const cols = (header ?? "").split(",");
  const postcode = cols.indexOf("postcode");
  const status = cols.indexOf("status");
  const pcon = cols.indexOf("pcon24");
  const out = lines
    .map((l) => l.split(","))
    .filter((c) => c[status] === "live" && c[pcon])
    .map((c) => c[postcode] ?? "");
  return [...out, "ZZ9 9ZZ"];
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  srv.close();
  return port;
}

async function run(url: string, postcodes: string[], seconds: number): Promise<Result> {
  let i = 0;
  return autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: "GET",
        setupRequest: (req) => {
          const pc = postcodes[i++ % postcodes.length] ?? "ZZ9 9ZZ";
          return { ...req, path: `/api/lookup?postcode=${encodeURIComponent(pc)}` };
        },
      },
    ],
  });
}

async function check(url: string, postcodes: string[]) {
  for (const pc of postcodes) {
    const res = await fetch(`${url}/api/lookup?postcode=${encodeURIComponent(pc)}`);
    if (res.status !== 200) throw new Error(`${url}: ${pc} answered ${res.status}: ${await res.text()}`);
    await res.body?.cancel();
  }
}

async function startWranglerDev(stateDir: string, port: number) {
  const wrangler = (argv: string[]) =>
    execFileSync(WRANGLER, argv, { cwd: ROOT_DIR, env: wranglerEnv, stdio: "pipe", timeout: 120_000 });
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
  // Own process group, so stopping it takes wrangler's workerd and esbuild children along.
  const child: ChildProcess = spawn(
    WRANGLER,
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", stateDir]
      .concat(["--var", "REMOTE_LOOKUP:off", "--var", "LOG_LEVEL:warn", "--log-level", "warn"])
      .concat(Object.entries(BENCH_LIMITS).flatMap(([k, v]) => ["--var", `${k}:${v}`]))
      .concat(["--show-interactive-dev-session=false"]),
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
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  let log = "";
  const keep = (d: string) => {
    log = (log + d).slice(-4000);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      kill();
      throw new Error(`wrangler dev did not start\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    async stop() {
      process.off("exit", kill);
      kill();
      if (child.exitCode === null)
        await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 5000))]);
    },
  };
}

/** A Markdown table padded the way Biome formats one, so the report passes `npm run lint` as written. */
function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = (cells[0] ?? []).map((_, i) => Math.max(3, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [head, ...body] = cells;
  return [line(head ?? []), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

const fmt = (r: Result) => ({
  rps: Math.round(r.requests.average),
  p50: r.latency.p50,
  p99: r.latency.p99,
  total: r.requests.total,
  errors: r.errors + r.timeouts + r.non2xx,
});

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "speakup-wvn-"));
  try {
    const postcodes = samplePostcodes();
    writeFileSync(join(dir, "seed.sql"), (await seedSql(resolve(ROOT_DIR, "data"))).sql);

    const node = await startServer({
      root: ROOT_DIR,
      env: {
        DATABASE_PATH: join(dir, "node.sqlite"),
        PORT: String(await freePort()),
        HOST: "127.0.0.1",
        SEED: "on",
        REMOTE_LOOKUP: "off",
        LOG_LEVEL: "warn",
      },
    });
    let nodeResult: Result;
    try {
      await check(node.url, postcodes);
      await run(node.url, postcodes, WARMUP_SECONDS);
      nodeResult = await run(node.url, postcodes, duration);
    } finally {
      await node.stop();
    }

    const workers = await startWranglerDev(dir, await freePort());
    let workersResult: Result;
    try {
      await check(workers.url, postcodes);
      await run(workers.url, postcodes, WARMUP_SECONDS);
      workersResult = await run(workers.url, postcodes, duration);
    } finally {
      await workers.stop();
    }

    const n = fmt(nodeResult);
    const w = fmt(workersResult);
    const date = new Date().toISOString().slice(0, 10);
    const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? "cpu"}, Node ${process.version}`;
    const body = `Measured ${date} by \`npm run bench:workers-vs-node\` on ${machine}; ${connections} connections, ${duration} s each after a ${WARMUP_SECONDS} s warm-up, one run, loopback, client on the same machine. Data: data/ (650 seats, MPs, ${postcodes.length} current postcodes), the same seed in both databases; REMOTE_LOOKUP off.

${table([
  ["build", "req/s (avg)", "p50", "p99", "requests", "errors / non-2xx"],
  [
    "Node (`npm start`: @hono/node-server + better-sqlite3)",
    n.rps,
    `${n.p50} ms`,
    `${n.p99} ms`,
    n.total,
    n.errors,
  ],
  ["Workers (`wrangler dev`: workerd + local D1)", w.rps, `${w.p50} ms`, `${w.p99} ms`, w.total, w.errors],
])}

Workers/Node throughput: ${(w.rps / Math.max(n.rps, 1)).toFixed(2)}×.`;
    process.stdout.write(`${body}\n`);
    if (!args["no-report"]) {
      const report = resolve(ROOT_DIR, "bench/REPORT.md");
      updateReport(report, { section: "Workers vs Node", key: "workers-vs-node", body });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exit(1);
  },
);
