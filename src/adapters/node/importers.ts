/**
 * File readers for the importers: stream CSVs with csv-parse and hand validated rows to the
 * domain import verbs. The NSPL/ONSPD file has ~2.7 million rows, so it is streamed and written
 * in batches, each in its own transaction, never held in memory.
 */
import { createReadStream, readFileSync } from "node:fs";
import { parse } from "csv-parse";
import type { Deps } from "../../deps";
import { normalisePostcode } from "../../lib/postcode";
import {
  importCandidates,
  importConstituencies,
  importMembers,
  importPostcodeBatch,
  type PostcodeRecord,
} from "../../modules/lookup/lookup.import";
import { CandidateRow, ConstituencyRow } from "../../modules/lookup/lookup.schemas";
import { parseMembersSearch } from "../http/members-api";

/** Pseudo codes ONS uses for places outside any Westminster seat (Channel Islands, Isle of Man). */
const NO_CONSTITUENCY = new Set(["", "L99999999", "M99999999"]);
/** Column holding the 2024-boundary constituency, newest name first (NSPL/ONSPD releases vary). */
export const PCON_COLUMNS = ["pcon24cd", "pcon24", "pcon"];
export const DEFAULT_POSTCODE_BATCH = 10_000;

const csvRows = (path: string) =>
  createReadStream(path).pipe(
    parse({ columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), bom: true, trim: true }),
  );

function rowError(path: string, line: number, message: string): Error {
  return new Error(`${path}, row ${line}: ${message}`);
}

export async function importConstituenciesCsv(deps: Deps, path: string) {
  const rows: ConstituencyRow[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = ConstituencyRow.safeParse(raw);
    if (!r.success)
      throw rowError(path, line, r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    rows.push(r.data);
  }
  return importConstituencies(deps, rows);
}

export async function importMembersJson(deps: Deps, path: string) {
  return importMembers(deps, parseMembersSearch(JSON.parse(readFileSync(path, "utf8"))));
}

export type PostcodeImportReport = {
  read: number;
  imported: number;
  skipped: number;
  terminated: number;
  column: string;
};

export async function importPostcodesCsv(
  deps: Deps,
  path: string,
  opts: { batchSize?: number; column?: string; onProgress?: (r: PostcodeImportReport) => void } = {},
): Promise<PostcodeImportReport> {
  const batchSize = opts.batchSize ?? DEFAULT_POSTCODE_BATCH;
  const report: PostcodeImportReport = { read: 0, imported: 0, skipped: 0, terminated: 0, column: "" };
  let batch: PostcodeRecord[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await importPostcodeBatch(deps, batch);
    report.imported += batch.length;
    batch = [];
    opts.onProgress?.(report);
  };
  for await (const raw of csvRows(path) as AsyncIterable<Record<string, string>>) {
    if (!report.column) {
      const column = opts.column ?? PCON_COLUMNS.find((c) => c in raw);
      if (!column || !(column in raw)) {
        throw new Error(
          `${path}: no constituency column (looked for ${opts.column ?? PCON_COLUMNS.join(", ")})`,
        );
      }
      if (!("pcds" in raw || "pcd" in raw)) throw new Error(`${path}: no postcode column (pcds or pcd)`);
      report.column = column;
    }
    report.read++;
    const postcode = normalisePostcode(raw.pcds ?? raw.pcd ?? "");
    if (!postcode) {
      report.skipped++;
      continue;
    }
    const code = (raw[report.column] ?? "").trim();
    const terminated = (raw.doterm ?? "").trim() !== "";
    if (terminated) report.terminated++;
    batch.push({ postcode, constituencyCode: NO_CONSTITUENCY.has(code) ? null : code, terminated });
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return report;
}

export async function importCandidatesCsv(deps: Deps, path: string, electionId: string) {
  const rows: CandidateRow[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = CandidateRow.safeParse(raw);
    if (!r.success)
      throw rowError(path, line, r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    rows.push(r.data);
  }
  return importCandidates(deps, { electionId, rows });
}
