/**
 * How long the full postcode load into D1 takes (scripts/d1-postcodes.ts), measured against
 * local D1 (`wrangler d1 execute --local`, the same SQLite engine workerd runs) with a
 * synthetic NSPL file of the real size (bench/support/nspl.ts: 2.7 million rows in the 2025
 * layout, real seats, made-up postcodes).
 *
 * Steps timed: writing the CSV (not part of the load), build (read, check, write SQL files),
 * apply (a first sitting of a few files, an interruption, then a resumed run for the rest), and a
 * count afterwards. Remote D1 is not measured here (no account on the bench machine).
 *
 * usage: npm run bench:d1-postcodes [-- --postcodes 2700000 --rows-per-file 100000 --keep]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { parse } from "csv-parse/sync";
import { applyPostcodeSql, buildPostcodeSql } from "../scripts/d1-postcodes";
import { generatePostcodes, type Seat, writeNsplCsv } from "./support/nspl";

const ROOT_DIR = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    postcodes: { type: "string", default: "2700000" },
    "rows-per-file": { type: "string", default: "100000" },
    "first-sitting": { type: "string", default: "3" },
    keep: { type: "boolean", default: false },
  },
});
const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const log = (m: string) => process.stdout.write(`${m}\n`);
const wrangler = (args: string[], persistTo: string) => {
  const r = spawnSync("npx", ["wrangler", ...args, "--local", "--persist-to", persistTo], {
    cwd: ROOT_DIR,
    encoding: "utf8",
    env: { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "true", ...process.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stderr}`);
  return r.stdout;
};

async function main() {
  const dir = mkdtempSync(join(tmpdir(), "speakup-d1-postcodes-"));
  const persistTo = join(dir, "state");
  const out = join(dir, "sql");
  try {
    const seats: Seat[] = (
      parse(readFileSync(resolve(ROOT_DIR, "data/constituencies.csv")), { columns: true }) as Record<
        string,
        string
      >[]
    ).map((r) => ({
      code: r.ons_code ?? "",
      name: r.name ?? "",
      nation: r.nation ?? "",
      regionCode: r.region_code ?? "",
    }));
    const count = Number(values.postcodes);
    let t = performance.now();
    const rows = generatePostcodes(seats, count);
    const csv = join(dir, "nspl-synthetic.csv");
    await writeNsplCsv(csv, rows, new Map(seats.map((x) => [x.code, x])));
    log(
      `synthetic NSPL: ${rows.length.toLocaleString("en-GB")} rows, ${(statSync(csv).size / 1e6).toFixed(0)} MB (${s(performance.now() - t)}, not part of the load)`,
    );

    t = performance.now();
    const m = await buildPostcodeSql(csv, { out, rowsPerFile: Number(values["rows-per-file"]) });
    const buildMs = performance.now() - t;
    const sqlMB = m.files.reduce((n, f) => n + f.bytes, 0) / 1e6;
    log(
      `build: ${m.rows.toLocaleString("en-GB")} postcodes checked and written as ${m.files.length} files, ${sqlMB.toFixed(0)} MB of SQL, in ${s(buildMs)}`,
    );

    t = performance.now();
    wrangler(["d1", "migrations", "apply", "DB"], persistTo);
    log(`migrations on a fresh local D1: ${s(performance.now() - t)}`);

    const target = { remote: false, database: "DB", persistTo };
    const perFile: number[] = [];
    const onFile = (f: { ms: number }) => void perFile.push(f.ms);
    t = performance.now();
    const first = applyPostcodeSql(target, { out, maxFiles: Number(values["first-sitting"]), onFile });
    log(`apply, first sitting: ${first.applied} files, then stopped (${first.remaining} left)`);
    const rest = applyPostcodeSql(target, { out, onFile });
    const applyMs = performance.now() - t;
    log(
      `apply, resumed: ${rest.applied} more files (${rest.skipped} skipped as done); apply total ${s(applyMs)}`,
    );
    const sorted = [...perFile].sort((a, b) => a - b);
    log(
      `per file (${Number(values["rows-per-file"]).toLocaleString("en-GB")} rows): median ${s(sorted[Math.floor(sorted.length / 2)] ?? 0)}, slowest ${s(sorted.at(-1) ?? 0)}`,
    );

    const counted = JSON.parse(
      wrangler(
        ["d1", "execute", "DB", "--command", "select count(*) as n from postcodes", "--json"],
        persistTo,
      ),
    ) as { results: { n: number }[] }[];
    const n = counted[0]?.results[0]?.n;
    log(`postcodes in local D1 afterwards: ${n?.toLocaleString("en-GB")}`);
    if (n !== m.rows) throw new Error(`expected ${m.rows} rows, found ${n}`);
    log(`TOTAL (build + apply): ${s(buildMs + applyMs)}`);
  } finally {
    if (values.keep) log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
