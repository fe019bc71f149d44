/**
 * Benchmark: loading and keeping the MPs current, and importing the ONS postcode file as ONS
 * publishes it (a zip). `npm run bench:members [-- --postcodes 500000 --runs 3]`
 *
 * 1. The start-up seed of data/ (650 seats, 650 MPs, by-election history, 233 postcodes) into a
 *    fresh database, as `npm start` does it.
 * 2. Applying a full Members API roster (650 MPs) with no change, and with five by-elections
 *    that stop 200 pending letters: the diff, the change log, the letter stops and the supporters'
 *    emails, without network time (the roster is read from data/mps.csv).
 * 3. `import:postcodes` of a synthetic NSPL (2025 layout) as CSV and as the same CSV inside a
 *    zip (deflated by Info-ZIP's `zip`), rows/s and peak RSS.
 *
 * Figures go to bench/REPORT.md (section "Members and postcode files").
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
import { buildNodeDeps, ROOT_DIR } from "../src/adapters/node/deps";
import {
  importConstituenciesCsv,
  importPostcodesCsv,
  importPostcodesZip,
  readMembersCsv,
} from "../src/adapters/node/importers";
import { seed } from "../src/adapters/node/seed";
import { constituencies } from "../src/db/schema";
import { parseEnv } from "../src/env";
import { submitLetter } from "../src/modules/letters/letters.service";
import { importMembers } from "../src/modules/members/members.sync";
import { generatePostcodes, type Seat, writeNsplCsv } from "./support/nspl";
import { updateReport } from "./support/report";

const { values } = parseArgs({
  options: { postcodes: { type: "string", default: "500000" }, runs: { type: "string", default: "3" } },
});
const POSTCODES = Number(values.postcodes);
const RUNS = Number(values.runs);
const DATA = resolve(ROOT_DIR, "data");
const log = (m: string) => process.stderr.write(`${m}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-GB");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function freshDeps(path = ":memory:") {
  return buildNodeDeps(
    parseEnv({
      DATABASE_PATH: path,
      LOG_LEVEL: "silent",
      MAIL_MODE: "capture",
      LETTER_LIMIT_PER_EMAIL_DAY: "1000",
      LETTER_LIMIT_PER_IP_HOUR: "100000",
      LETTER_SIMILARITY_HOLD: "1",
    }),
  );
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const out = await fn();
  return [out, performance.now() - t0];
}

/**
 * How far RSS rose above where it was when `fn` started (sampled every 20 ms): the importer's
 * own memory, not the benchmark's generated rows.
 */
async function peakRss<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    const out = await fn();
    return [out, Math.max(peak, process.memoryUsage().rss) - start];
  } finally {
    clearInterval(timer);
  }
}

async function main() {
  // 1. seed
  const seedMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const { deps, sqlite } = freshDeps();
    seedMs.push((await timed(() => seed(deps, DATA)))[1]);
    sqlite.close();
  }
  log(`seed: ${seedMs.map((m) => m.toFixed(0)).join(", ")} ms`);

  // 2. sync apply
  const roster = await readMembersCsv(resolve(DATA, "mps.csv"));
  const unchangedMs: number[] = [];
  const byElectionMs: number[] = [];
  let stopped = 0;
  for (let i = 0; i < RUNS; i++) {
    const { deps, sqlite } = freshDeps();
    await seed(deps, DATA);
    unchangedMs.push((await timed(() => importMembers(deps, roster, { source: "bench" })))[1]);
    // 200 letters awaiting confirmation to five MPs who are about to leave.
    const seats = ["LS1 1AZ", "EH1 1AD", "CF10 1AA", "BT1 1AA", "M12 4AA"];
    for (let n = 0; n < 200; n++)
      await submitLetter(deps, {
        recipient: { kind: "mp" },
        asks: ["prevention"],
        story: `Letter ${n}: our baby was born in the spring and we had ${n % 7} visits from a health visitor.`,
        supporter: {
          name: `Supporter ${n}`,
          email: `supporter${n}@example.org`,
          address: { line1: `${n} High Street`, town: "Town", postcode: seats[n % seats.length] as string },
        },
      });
    const changed = roster.map((m) =>
      ["E14001319", "S14000078", "W07000091", "N05000002", "E14001251"].includes(m.constituencyCode ?? "")
        ? { ...m, parliamentId: 90_000 + (m.parliamentId ?? 0), name: `${m.name} (successor)` }
        : m,
    );
    const [outcome, ms] = await timed(() => importMembers(deps, changed, { source: "bench" }));
    byElectionMs.push(ms);
    stopped = outcome.lettersStopped;
    if (stopped !== 200) throw new Error(`expected 200 letters stopped, got ${stopped}`);
    sqlite.close();
  }
  log(`apply unchanged: ${unchangedMs.map((m) => m.toFixed(0)).join(", ")} ms`);
  log(`apply 5 by-elections + 200 letters: ${byElectionMs.map((m) => m.toFixed(0)).join(", ")} ms`);

  // 3. postcode file: CSV and zip
  const dir = mkdtempSync(join(tmpdir(), "speakup-bench-members-"));
  try {
    const { deps: d0, sqlite: s0 } = freshDeps(join(dir, "seats.sqlite"));
    await importConstituenciesCsv(d0, resolve(DATA, "constituencies.csv"));
    const seats = (await d0.db
      .select({
        code: constituencies.onsCode,
        name: constituencies.name,
        nation: constituencies.nation,
        regionCode: constituencies.regionCode,
      })
      .from(constituencies)
      .where(eq(constituencies.isTest, false))) as Seat[];
    s0.close();
    const rows = generatePostcodes(seats, POSTCODES);
    // Laid out as ONS ships it: Data/<the UK file>, Documents/…
    const pkg = join(dir, "pkg");
    mkdirSync(join(pkg, "Data"), { recursive: true });
    mkdirSync(join(pkg, "Documents"));
    writeFileSync(join(pkg, "Documents", "NSPL User Guide.txt"), "stand-in for the PDF guide\n");
    const csv = join(pkg, "Data", "NSPL_MAY_2025_UK.csv");
    await writeNsplCsv(csv, rows, new Map(seats.map((s) => [s.code, s])));
    const zip = join(dir, "NSPL_MAY_2025_UK.zip");
    execFileSync("zip", ["-q", "-r", zip, "Data", "Documents"], { cwd: pkg });
    const csvMB = statSync(csv).size / 1e6;
    const zipMB = statSync(zip).size / 1e6;
    log(`${fmt(rows.length)} rows: CSV ${csvMB.toFixed(0)} MB, zip ${zipMB.toFixed(0)} MB`);

    const run = async (kind: "csv" | "zip") => {
      const { deps, sqlite } = freshDeps(join(dir, `${kind}-${Date.now()}.sqlite`));
      await importConstituenciesCsv(deps, resolve(DATA, "constituencies.csv"));
      const [[report, ms], rss] = await peakRss(() =>
        timed(() => (kind === "csv" ? importPostcodesCsv(deps, csv) : importPostcodesZip(deps, zip))),
      );
      sqlite.close();
      if (report.imported !== rows.length)
        throw new Error(
          `${kind}: imported ${report.imported} of ${rows.length} (${JSON.stringify(report.rejected)})`,
        );
      return { ms, rss, files: report.files };
    };
    const csvRun = await run("csv");
    const zipRun = await run("zip");
    log(
      `csv ${fmt(rows.length / (csvRun.ms / 1000))} rows/s, zip ${fmt(rows.length / (zipRun.ms / 1000))} rows/s`,
    );

    const body = `### Latest run

Machine: shared 2-core VM (other engineers' test runs were active, so treat the figures as
lower bounds), Node ${process.version}, better-sqlite3 (file databases for the postcode import,
in-memory for the rest). Median of ${RUNS} runs where several were made.

| what | figure |
|---|---|
| start-up seed of data/ (650 seats, 650 MPs with addresses, 10 by-election changes, 233 postcodes) | ${fmt(median(seedMs))} ms (runs: ${seedMs.map((m) => fmt(m)).join(", ")}) |
| apply a 650-MP roster with no change (diff + guard + the stop sweep) | ${fmt(median(unchangedMs))} ms |
| apply 5 by-elections that stop ${stopped} pending letters (change log, letter stops, ${stopped} supporters' emails queued) | ${fmt(median(byElectionMs))} ms |
| \`import:postcodes\` of ${fmt(rows.length)} NSPL rows as CSV (${csvMB.toFixed(0)} MB) | ${fmt(rows.length / (csvRun.ms / 1000))} rows/s, RSS grew ${fmt(csvRun.rss / 1e6)} MB |
| the same rows read from inside the zip (${zipMB.toFixed(0)} MB), streamed, nothing unpacked | ${fmt(rows.length / (zipRun.ms / 1000))} rows/s, RSS grew ${fmt(zipRun.rss / 1e6)} MB (read: ${zipRun.files.join(", ")}) |

The network side of a sync is not in these figures: 33 Members/Search pages and one Contact
request per MP read (MEMBERS_SYNC_CONTACTS), four at a time.`;
    updateReport(resolve(ROOT_DIR, "bench/REPORT.md"), {
      section: "Members and postcode files",
      key: "members",
      body,
    });
    log("bench/REPORT.md updated");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
