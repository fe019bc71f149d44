/**
 * The full ONS postcode file (NSPL/ONSPD, about 2.7 million rows) into D1, in two steps:
 *
 *   npm run d1:postcodes -- build <NSPL.zip | file.csv> [--out dist/d1-postcodes] [--rows-per-file 100000]
 *   npm run d1:postcodes -- apply (--local | --remote) [--database speakup] [--out ...] [--persist-to DIR]
 *
 * `build` reads the file exactly as the Node importer does (streamed, zip or CSV, every row
 * checked against the 2024 seats: src/adapters/node/importers.ts) and writes numbered SQL files
 * of upserts plus a manifest. Within D1's limits: no bound parameters at all (literals), at most
 * ROWS_PER_STATEMENT rows per statement (about 35 KB; D1 allows 100 KB), and files of
 * --rows-per-file rows (about 2.6 MB; `wrangler d1 execute --file` takes up to 5 GB).
 *
 * `apply` runs each file with `wrangler d1 execute <database> --file` and records it in a state
 * file beside the manifest (per target: local or remote, and database). Run it again after an
 * interruption and it carries on with the first file not yet recorded. Every statement is an
 * upsert, so a file that was half-applied when the run stopped is simply applied again.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { buildNodeDeps } from "../src/adapters/node/deps";
import {
  importConstituenciesCsv,
  importPostcodesFile,
  type PostcodeImportReport,
} from "../src/adapters/node/importers";
import { D1_MAX_STATEMENT_BYTES } from "../src/db/limits";
import { parseEnv } from "../src/env";
import type { PostcodeRecord } from "../src/modules/lookup/lookup.import";

const ROOT_DIR = resolve(import.meta.dirname, "..");
export const DEFAULT_OUT = resolve(ROOT_DIR, "dist/d1-postcodes");
/** Rows per INSERT: ~35 bytes a row, so about 35 KB a statement (D1's limit is 100 KB). */
export const ROWS_PER_STATEMENT = 1000;
export const DEFAULT_ROWS_PER_FILE = 100_000;
const MANIFEST = "manifest.json";

export type Manifest = {
  /** Changes whenever the files do: a state file for another build is ignored. */
  id: string;
  source: string;
  builtAt: string;
  rows: number;
  files: { name: string; rows: number; bytes: number }[];
  report: PostcodeImportReport;
};

const literal = (s: string | null) => (s === null ? "NULL" : `'${s.replace(/'/g, "''")}'`);

function statement(rows: PostcodeRecord[]): string {
  const values = rows
    .map((r) => `(${literal(r.postcode)},${literal(r.constituencyCode)},${r.terminated ? 1 : 0})`)
    .join(",");
  const sql =
    `INSERT INTO "postcodes" ("postcode","constituency_code","terminated") VALUES ${values}` +
    ` ON CONFLICT ("postcode") DO UPDATE SET "constituency_code" = excluded."constituency_code", "terminated" = excluded."terminated";`;
  if (Buffer.byteLength(sql) > D1_MAX_STATEMENT_BYTES)
    throw new Error(`a statement of ${Buffer.byteLength(sql)} bytes is over D1's limit`);
  return sql;
}

/** Read `source` (zip or CSV) and write the SQL files and manifest into `out` (emptied first). */
export async function buildPostcodeSql(
  source: string,
  opts: { out?: string; rowsPerFile?: number; onProgress?: (rows: number) => void } = {},
): Promise<Manifest> {
  const out = opts.out ?? DEFAULT_OUT;
  const rowsPerFile = opts.rowsPerFile ?? DEFAULT_ROWS_PER_FILE;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // The importer checks rows against the seats: an in-memory database with data/'s 650 seats.
  const { deps, sqlite } = buildNodeDeps(parseEnv({ DATABASE_PATH: ":memory:", LOG_LEVEL: "warn" }));
  const files: Manifest["files"] = [];
  const hash = createHash("sha256");
  let pending: PostcodeRecord[] = [];
  let total = 0;
  const writeFile = () => {
    if (!pending.length) return;
    const name = `postcodes-${String(files.length + 1).padStart(4, "0")}.sql`;
    const lines = [`-- ${name}: ${pending.length} postcodes (scripts/d1-postcodes.ts; safe to run twice)`];
    for (let i = 0; i < pending.length; i += ROWS_PER_STATEMENT)
      lines.push(statement(pending.slice(i, i + ROWS_PER_STATEMENT)));
    const text = `${lines.join("\n")}\n`;
    writeFileSync(join(out, name), text);
    hash.update(text);
    files.push({ name, rows: pending.length, bytes: Buffer.byteLength(text) });
    pending = [];
  };
  try {
    await importConstituenciesCsv(deps, resolve(ROOT_DIR, "data/constituencies.csv"));
    const report = await importPostcodesFile(deps, source, {
      async sink(batch) {
        for (const r of batch) {
          pending.push(r);
          if (pending.length >= rowsPerFile) writeFile();
        }
        total += batch.length;
        opts.onProgress?.(total);
      },
    });
    writeFile();
    const manifest: Manifest = {
      id: hash.digest("hex").slice(0, 16),
      source,
      builtAt: new Date().toISOString(),
      rows: total,
      files,
      report,
    };
    writeFileSync(join(out, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    sqlite.close();
  }
}

export type ApplyTarget = { remote: boolean; database: string; persistTo?: string };
/** Runs one SQL file against the target; throws with wrangler's explanation on failure. */
export type Execute = (file: string, target: ApplyTarget) => void;

const stateFile = (out: string, t: ApplyTarget) =>
  join(out, `applied-${t.remote ? "remote" : "local"}-${t.database.replace(/[^\w-]/g, "_")}.json`);

/** `wrangler d1 execute <database> --local|--remote --file <file> --yes`. */
export const wranglerExecute: Execute = (file, t) => {
  const args = [
    "wrangler",
    "d1",
    "execute",
    t.database,
    t.remote ? "--remote" : "--local",
    "--file",
    file,
    "--yes",
  ];
  if (t.persistTo && !t.remote) args.push("--persist-to", t.persistTo);
  const r = spawnSync("npx", args, {
    cwd: ROOT_DIR,
    encoding: "utf8",
    env: { WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", CI: "true", ...process.env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0)
    throw new Error(`wrangler d1 execute failed on ${file}:\n${(r.stderr || r.stdout || "").slice(-4000)}`);
};

/**
 * Apply the files not yet recorded for this target, in order, recording each as it succeeds.
 * `maxFiles` stops after that many (for loading in sittings). Resolves to what was done.
 */
export function applyPostcodeSql(
  target: ApplyTarget,
  opts: {
    out?: string;
    execute?: Execute;
    maxFiles?: number;
    onFile?: (f: { name: string; rows: number; ms: number; done: number; of: number }) => void;
  } = {},
): { applied: number; skipped: number; remaining: number; ms: number } {
  const out = opts.out ?? DEFAULT_OUT;
  const execute = opts.execute ?? wranglerExecute;
  if (!existsSync(join(out, MANIFEST)))
    throw new Error(
      `No ${MANIFEST} in ${out}: run the build step first (npm run d1:postcodes -- build <file>).`,
    );
  const manifest = JSON.parse(readFileSync(join(out, MANIFEST), "utf8")) as Manifest;
  const path = stateFile(out, target);
  const previous = existsSync(path)
    ? (JSON.parse(readFileSync(path, "utf8")) as { id: string; applied: string[] })
    : undefined;
  // A state file from another build says nothing about these files.
  const done = new Set(previous?.id === manifest.id ? previous.applied : []);
  const started = Date.now();
  let applied = 0;
  const skipped = manifest.files.filter((f) => done.has(f.name)).length;
  for (const f of manifest.files) {
    if (done.has(f.name)) continue;
    if (opts.maxFiles !== undefined && applied >= opts.maxFiles) break;
    const t0 = Date.now();
    execute(join(out, f.name), target);
    done.add(f.name);
    applied++;
    writeFileSync(path, `${JSON.stringify({ id: manifest.id, applied: [...done] }, null, 2)}\n`);
    opts.onFile?.({
      name: f.name,
      rows: f.rows,
      ms: Date.now() - t0,
      done: done.size,
      of: manifest.files.length,
    });
  }
  return {
    applied,
    skipped,
    remaining: manifest.files.length - done.size,
    ms: Date.now() - started,
  };
}

async function main() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "rows-per-file": { type: "string" },
      local: { type: "boolean" },
      remote: { type: "boolean" },
      database: { type: "string", default: "speakup" },
      "persist-to": { type: "string" },
      "max-files": { type: "string" },
    },
  });
  const [command, file] = positionals;
  const out = values.out ? resolve(values.out) : DEFAULT_OUT;
  if (command === "build" && file) {
    const t0 = Date.now();
    const m = await buildPostcodeSql(resolve(file), {
      out,
      rowsPerFile: values["rows-per-file"] ? Number(values["rows-per-file"]) : undefined,
      onProgress: (n) => process.stderr.write(`\r${n.toLocaleString("en-GB")} postcodes   `),
    });
    process.stderr.write("\n");
    process.stdout.write(
      `${m.rows.toLocaleString("en-GB")} postcodes in ${m.files.length} files under ${out} ` +
        `(${((Date.now() - t0) / 1000).toFixed(1)} s; rejected: ${m.report.rejected.unknownSeat} unknown seat, ` +
        `${m.report.rejected.wrongNation} wrong nation; skipped ${m.report.skipped})\n` +
        `Next: npm run d1:postcodes -- apply --local   (or --remote)\n`,
    );
    return;
  }
  if (command === "apply" && values.local !== values.remote) {
    const target = { remote: !!values.remote, database: values.database, persistTo: values["persist-to"] };
    const r = applyPostcodeSql(target, {
      out,
      maxFiles: values["max-files"] ? Number(values["max-files"]) : undefined,
      onFile: (f) =>
        process.stdout.write(
          `${f.name}: ${f.rows.toLocaleString("en-GB")} rows in ${(f.ms / 1000).toFixed(1)} s (${f.done}/${f.of})\n`,
        ),
    });
    process.stdout.write(
      `applied ${r.applied} files (${r.skipped} were already applied) in ${(r.ms / 1000).toFixed(1)} s; ` +
        `${r.remaining ? `${r.remaining} left: run the same command again` : "all done"}\n`,
    );
    return;
  }
  process.stderr.write(
    "usage: npm run d1:postcodes -- build <NSPL.zip|file.csv> [--out DIR] [--rows-per-file N]\n" +
      "       npm run d1:postcodes -- apply (--local|--remote) [--database NAME] [--out DIR] [--persist-to DIR] [--max-files N]\n",
  );
  process.exit(2);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href)
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  });
