/**
 * File readers for the importers: stream CSVs with csv-parse (and zips with yauzl) and hand
 * validated rows to the domain import verbs. The NSPL/ONSPD file has ~2.7 million rows, so it
 * is streamed and written in batches, each in its own transaction, never held in memory; the
 * official zip is read as it is published, without unpacking it first.
 */
import { createReadStream, existsSync, readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { Readable } from "node:stream";
import { parse } from "csv-parse";
import yauzl from "yauzl";
import type { z } from "zod";
import { DEVOLVED_BODIES, type DevolvedBody } from "../../db/schema.devolved";
import type { Deps, RemoteDevolvedMember, RemoteMember } from "../../deps";
import { COUNTRY_BY_ONS_CODE, countryOfArea, type PostcodeCountry, parsePostcode } from "../../lib/postcode";
import {
  areasOf,
  importAssemblyAreas,
  importHolyroodAreas,
  importPostcodeAreas,
  importSeneddAreas,
  type PostcodeAreaImportReport,
  type PostcodeAreaRecord,
  postcodeAreaRecords,
} from "../../modules/devolved/devolved.import";
import {
  AssemblyLinkRow,
  HolyroodAreaRow,
  MlaCsvRow,
  MsCsvRow,
  MspCsvRow,
  PostcodeAreaRow,
  SeneddConstituencyRow,
} from "../../modules/devolved/devolved.schemas";
import { applyDevolvedRoster, devolvedEverLoaded } from "../../modules/devolved/devolved.sync";
import {
  checkPostcodeRow,
  importCandidates,
  importConstituencies,
  importPostcodeBatch,
  type PostcodeRecord,
  type PostcodeRejection,
  seatNations,
} from "../../modules/lookup/lookup.import";
import { CandidateRow, ConstituencyRow } from "../../modules/lookup/lookup.schemas";
import { FormerMemberCsvRow, MemberCsvRow } from "../../modules/members/members.schemas";
import { importMembers } from "../../modules/members/members.sync";
import { parseMembersSearch } from "../http/members-api";

/** Pseudo codes ONS uses for places outside any Westminster seat (Channel Islands, Isle of Man). */
const NO_CONSTITUENCY = new Set(["", "L99999999", "M99999999"]);
/** Column holding the 2024-boundary constituency, newest name first (NSPL/ONSPD releases vary). */
export const PCON_COLUMNS = ["pcon24cd", "pcon24", "pcon"];
/** Column holding the postcode: ONS files first, then our plain data/postcodes.csv. */
const POSTCODE_COLUMNS = ["pcds", "pcd", "postcode"];
export const DEFAULT_POSTCODE_BATCH = 10_000;
/** Rejected rows quoted in the report (the counts cover all of them). */
const REJECTED_EXAMPLES = 10;

type CsvRecord = Record<string, string>;

const csvParser = () =>
  parse({ columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), bom: true, trim: true });

const csvRows = (path: string) => createReadStream(path).pipe(csvParser());

function rowError(path: string, line: number, message: string): Error {
  return new Error(`${path}, row ${line}: ${message}`);
}

const issuesText = (e: { issues: { path: PropertyKey[]; message: string }[] }) =>
  e.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");

export async function importConstituenciesCsv(deps: Deps, path: string) {
  const rows: ConstituencyRow[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = ConstituencyRow.safeParse(raw);
    if (!r.success) throw rowError(path, line, issuesText(r.error));
    rows.push(r.data);
  }
  return importConstituencies(deps, rows);
}

// --- MPs ------------------------------------------------------------------------------------------

/** data/mps.csv: every row checked before anything is written (a bad row names itself). */
export async function readMembersCsv(path: string): Promise<RemoteMember[]> {
  const out: RemoteMember[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = MemberCsvRow.safeParse(raw);
    if (!r.success) throw rowError(path, line, issuesText(r.error));
    out.push({
      parliamentId: r.data.members_api_id,
      name: r.data.name,
      party: r.data.party ?? null,
      partyAbbreviation: null,
      constituencyName: r.data.constituency,
      constituencyCode: r.data.ons_code,
      // An empty cell is "Parliament publishes no address" (null), not "not read" (undefined).
      email: r.data.email ?? null,
      since: r.data.since ?? null,
    });
  }
  return out;
}

export async function readFormerMembersCsv(path: string): Promise<FormerMemberCsvRow[]> {
  const out: FormerMemberCsvRow[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = FormerMemberCsvRow.safeParse(raw);
    if (!r.success) throw rowError(path, line, issuesText(r.error));
    out.push(r.data);
  }
  return out;
}

/** `import:members`: our CSV (data/mps.csv's columns) or a saved Members API search (JSON). */
export async function importMembersFile(
  deps: Deps,
  path: string,
  opts: { force?: boolean; trigger?: "import" | "seed"; baseline?: boolean } = {},
) {
  const list = path.toLowerCase().endsWith(".csv")
    ? await readMembersCsv(path)
    : parseMembersSearch(JSON.parse(readFileSync(path, "utf8")));
  return importMembers(deps, list, { ...opts, source: basename(path) });
}

/** Kept for callers of the JSON-only importer. */
export const importMembersJson = (deps: Deps, path: string, opts: { force?: boolean } = {}) =>
  importMembersFile(deps, path, opts);

// --- postcodes ------------------------------------------------------------------------------------

export type PostcodeImportReport = {
  read: number;
  imported: number;
  /** Rows whose postcode is not a postcode (damaged lines). */
  skipped: number;
  terminated: number;
  column: string;
  /** Imported postcodes by the nation of their seat; "none" for postcodes in no seat (JE, GY, IM). */
  byNation: Record<string, number>;
  /** Rows refused because their seat is not a 2024 seat we hold, or is in another nation. */
  rejected: { unknownSeat: number; wrongNation: number; examples: string[] };
  /** The file (or the files inside a zip) read. */
  files: string[];
};

export type ImportOptions = {
  batchSize?: number;
  column?: string;
  onProgress?: (r: PostcodeImportReport) => void;
  /**
   * Where each checked batch goes (default: this database, in one transaction per batch). The
   * D1 loader (scripts/d1-postcodes.ts) writes SQL files instead.
   */
  sink?: (batch: PostcodeRecord[]) => Promise<void>;
};

const emptyReport = (): PostcodeImportReport => ({
  read: 0,
  imported: 0,
  skipped: 0,
  terminated: 0,
  column: "",
  byNation: {},
  rejected: { unknownSeat: 0, wrongNation: 0, examples: [] },
  files: [],
});

/**
 * Rows of one or more postcode CSVs into the postcodes table, checked against our 2024 seats.
 * `sources` yields one row stream per file (a zip of ONS's per-area files has many).
 */
async function importPostcodeStreams(
  deps: Deps,
  sources: AsyncIterable<{ name: string; rows: AsyncIterable<CsvRecord> }>,
  opts: ImportOptions,
): Promise<PostcodeImportReport> {
  const seats = await seatNations(deps);
  if (seats.size === 0)
    throw new Error("No constituencies loaded: import them first (npm run cli -- import:constituencies).");
  const batchSize = opts.batchSize ?? DEFAULT_POSTCODE_BATCH;
  const report = emptyReport();
  let batch: PostcodeRecord[] = [];
  let batchNations: string[] = [];
  const flush = async () => {
    if (!batch.length) return;
    await (opts.sink ? opts.sink(batch) : importPostcodeBatch(deps, batch));
    report.imported += batch.length;
    for (const n of batchNations) report.byNation[n] = (report.byNation[n] ?? 0) + 1;
    batch = [];
    batchNations = [];
    opts.onProgress?.(report);
  };
  const reject = (why: PostcodeRejection, file: string, line: number, postcode: string, code: string) => {
    if (why === "unknown_seat") report.rejected.unknownSeat++;
    else report.rejected.wrongNation++;
    if (report.rejected.examples.length < REJECTED_EXAMPLES)
      report.rejected.examples.push(
        `${file} row ${line}: ${postcode} -> ${code} (${why === "unknown_seat" ? "not a 2024 seat we hold" : `a seat in ${seats.get(code)}`})`,
      );
  };

  for await (const source of sources) {
    report.files.push(source.name);
    let column = "";
    let pcColumn = "";
    let countryColumn = "";
    let line = 1;
    for await (const raw of source.rows) {
      line++;
      if (!column) {
        const found = opts.column ?? PCON_COLUMNS.find((c) => c in raw);
        if (!found || !(found in raw))
          throw new Error(
            `${source.name}: no constituency column (looked for ${opts.column ?? PCON_COLUMNS.join(", ")})`,
          );
        pcColumn = POSTCODE_COLUMNS.find((c) => c in raw) ?? "";
        // `ctry` (NSPL/ONSPD to 2024) or `ctry25cd` (the 2025 layout names columns by year).
        countryColumn = Object.keys(raw).find((k) => /^ctry(\d{2}cd)?$/.test(k)) ?? "";
        if (!pcColumn) throw new Error(`${source.name}: no postcode column (${POSTCODE_COLUMNS.join(", ")})`);
        column = found;
        report.column ||= found;
      }
      report.read++;
      const parsed = parsePostcode(raw[pcColumn] ?? "");
      if (!parsed) {
        report.skipped++;
        continue;
      }
      const raw_code = (raw[column] ?? "").trim();
      const constituencyCode = NO_CONSTITUENCY.has(raw_code) ? null : raw_code;
      // ONS files say the country (`ctry`); our plain CSV leaves it to the postcode area.
      const country: PostcodeCountry | null =
        COUNTRY_BY_ONS_CODE[(raw[countryColumn] ?? "").trim()] ?? countryOfArea(parsed.area);
      const why = checkPostcodeRow(seats, { constituencyCode, country });
      if (why) {
        reject(why, source.name, line, parsed.postcode, raw_code);
        continue;
      }
      const terminated = (raw.doterm ?? "").trim() !== "" || (raw.status ?? "").trim() === "terminated";
      if (terminated) report.terminated++;
      batch.push({ postcode: parsed.postcode, constituencyCode, terminated });
      batchNations.push(constituencyCode ? (seats.get(constituencyCode) ?? "none") : "none");
      if (batch.length >= batchSize) await flush();
    }
  }
  await flush();
  return report;
}

/** A postcode CSV: an ONS NSPL/ONSPD file or data/postcodes.csv (postcode,pcon24,status). */
export async function importPostcodesCsv(
  deps: Deps,
  path: string,
  opts: ImportOptions = {},
): Promise<PostcodeImportReport> {
  async function* one() {
    yield { name: basename(path), rows: csvRows(path) as AsyncIterable<CsvRecord> };
  }
  return importPostcodeStreams(deps, one(), opts);
}

/**
 * The CSV(s) to read inside an ONS zip. NSPL and ONSPD zips hold the whole UK as one file
 * (`Data/NSPL_MAY_2025_UK.csv`) and the same rows again split by postcode area
 * (`Data/multi_csv/…`), plus documents and lookup tables. Read the single UK file when there is
 * one (the largest CSV under Data/ outside multi_csv), else every multi_csv file.
 */
export function pickZipEntries<E extends { fileName: string; uncompressedSize: number }>(entries: E[]): E[] {
  const csv = entries.filter((e) => /\.csv$/i.test(e.fileName) && !e.fileName.endsWith("/"));
  const inData = csv.filter((e) => /(^|\/)data\//i.test(e.fileName));
  const single = inData.filter((e) => !/multi_csv\//i.test(e.fileName));
  const largest = (list: E[]) =>
    [...list].sort((a, b) => b.uncompressedSize - a.uncompressedSize).slice(0, 1);
  if (single.length) return largest(single);
  const multi = inData.filter((e) => /multi_csv\//i.test(e.fileName));
  if (multi.length) return multi.sort((a, b) => a.fileName.localeCompare(b.fileName));
  return largest(csv);
}

/** The official ONS NSPL/ONSPD zip, streamed entry by entry (nothing unpacked to disk). */
export async function importPostcodesZip(
  deps: Deps,
  path: string,
  opts: ImportOptions = {},
): Promise<PostcodeImportReport> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  try {
    const entries: yauzl.Entry[] = [];
    for await (const entry of zip.eachEntry()) entries.push(entry);
    const chosen = pickZipEntries(entries);
    if (!chosen.length) throw new Error(`${path}: no CSV file inside the zip`);
    async function* streams() {
      for (const entry of chosen) {
        const stream: Readable = await zip.openReadStreamPromise(entry);
        yield {
          name: `${basename(path)}:${entry.fileName}`,
          rows: stream.pipe(csvParser()) as AsyncIterable<CsvRecord>,
        };
      }
    }
    return await importPostcodeStreams(deps, streams(), opts);
  } finally {
    zip.close();
  }
}

/** `import:postcodes`: a zip (as ONS publishes it) or a CSV, by file name. */
export function importPostcodesFile(deps: Deps, path: string, opts: ImportOptions = {}) {
  return path.toLowerCase().endsWith(".zip")
    ? importPostcodesZip(deps, path, opts)
    : importPostcodesCsv(deps, path, opts);
}

export async function importCandidatesCsv(deps: Deps, path: string, electionId: string) {
  const rows: CandidateRow[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = CandidateRow.safeParse(raw);
    if (!r.success) throw rowError(path, line, issuesText(r.error));
    rows.push(r.data);
  }
  return importCandidates(deps, { electionId, rows });
}

// --- the devolved parliaments ---------------------------------------------------------------------

/** Every row of a CSV checked against `schema` before anything is written (a bad row names itself). */
export async function readCsvRows<T>(path: string, schema: z.ZodType<T>): Promise<T[]> {
  const out: T[] = [];
  let line = 1;
  for await (const raw of csvRows(path)) {
    line++;
    const r = schema.safeParse(raw);
    if (!r.success) throw rowError(path, line, issuesText(r.error));
    out.push(r.data);
  }
  return out;
}

/** data/devolved/msps.csv -> the roster shape a sync takes (ids, seats by code, addresses). */
export const mspRoster = (rows: MspCsvRow[]): RemoteDevolvedMember[] =>
  rows.map((r) => {
    const constituency = r.seat_type === "constituency";
    return {
      sourceId: r.scotparl_person_id ?? null,
      name: r.name,
      party: r.party ?? null,
      areaName: (constituency ? r.constituency : r.region) ?? "",
      areaKind: constituency ? "constituency" : "region",
      areaCode: (constituency ? r.constituency_code : r.region_code) ?? null,
      email: r.email ?? null,
      since: r.term_start ?? null,
    };
  });

export const msRoster = (rows: MsCsvRow[]): RemoteDevolvedMember[] =>
  rows.map((r) => ({
    sourceId: r.senedd_member_id ?? null,
    name: r.name,
    party: r.party ?? null,
    areaName: r.senedd_constituency,
    areaKind: "constituency",
    areaCode: r.senedd_code,
    email: r.email ?? null,
  }));

export const mlaRoster = (rows: MlaCsvRow[]): RemoteDevolvedMember[] =>
  rows.map((r) => ({
    sourceId: r.aims_person_id ?? null,
    name: r.name,
    party: r.party ?? null,
    areaName: r.assembly_constituency,
    areaKind: "constituency",
    areaCode: r.assembly_code_2010_boundaries,
    email: r.email ?? null,
  }));

/** A members file of one devolved parliament (the columns of data/devolved/msps.csv, mss.csv or mlas.csv). */
export async function readDevolvedMembersCsv(
  body: DevolvedBody,
  path: string,
): Promise<RemoteDevolvedMember[]> {
  if (body === "scottish_parliament") return mspRoster(await readCsvRows(path, MspCsvRow));
  if (body === "senedd") return msRoster(await readCsvRows(path, MsCsvRow));
  return mlaRoster(await readCsvRows(path, MlaCsvRow));
}

/** `import:devolved-members`: the same road as a sync, change log and guard included. */
export async function importDevolvedMembersFile(
  deps: Deps,
  body: DevolvedBody,
  path: string,
  opts: { force?: boolean; trigger?: "import" | "seed"; baseline?: boolean; source?: string } = {},
) {
  return applyDevolvedRoster(deps, body, await readDevolvedMembersCsv(body, path), {
    trigger: opts.trigger ?? "import",
    source: opts.source ?? basename(path),
    force: opts.force,
    baseline: opts.baseline,
  });
}

/** Where the shipped devolved data lives, relative to the data directory. */
export const DEVOLVED_FILES = {
  holyroodAreas: "devolved/holyrood-areas.csv",
  seneddConstituencies: "devolved/senedd-constituencies.csv",
  assemblyLinks: "devolved/ni-westminster-assembly.csv",
  postcodeAreas: "devolved/postcode-areas.csv",
  members: {
    scottish_parliament: "devolved/msps.csv",
    senedd: "devolved/mss.csv",
    ni_assembly: "devolved/mlas.csv",
  },
} as const;

/**
 * The devolved parliaments' areas, links and (into a body that has none yet) members from a
 * data directory. Areas and links are refreshed every time (they are reference data); members
 * are loaded once, as a baseline, and kept current by the sync after that.
 */
export async function seedDevolved(deps: Deps, dataDir: string) {
  const file = (name: string) => resolve(dataDir, name);
  const has = (name: string) => existsSync(file(name));
  const loaded: Record<string, unknown> = {};
  if (has(DEVOLVED_FILES.holyroodAreas))
    loaded.holyrood = await importHolyroodAreas(
      deps,
      await readCsvRows(file(DEVOLVED_FILES.holyroodAreas), HolyroodAreaRow),
    );
  if (has(DEVOLVED_FILES.seneddConstituencies))
    loaded.senedd = await importSeneddAreas(
      deps,
      await readCsvRows(file(DEVOLVED_FILES.seneddConstituencies), SeneddConstituencyRow),
      DEVOLVED_FILES.seneddConstituencies,
    );
  if (has(DEVOLVED_FILES.members.ni_assembly))
    loaded.assembly = await importAssemblyAreas(
      deps,
      await readCsvRows(file(DEVOLVED_FILES.members.ni_assembly), MlaCsvRow),
      has(DEVOLVED_FILES.assemblyLinks)
        ? await readCsvRows(file(DEVOLVED_FILES.assemblyLinks), AssemblyLinkRow)
        : [],
      { mlas: DEVOLVED_FILES.members.ni_assembly, links: DEVOLVED_FILES.assemblyLinks },
    );
  for (const body of DEVOLVED_BODIES) {
    const path = DEVOLVED_FILES.members[body];
    if (!has(path) || (await devolvedEverLoaded(deps, body))) continue;
    const outcome = await importDevolvedMembersFile(deps, body, file(path), {
      trigger: "seed",
      baseline: true,
      source: `data/${path}`,
    });
    loaded[body] = outcome.sitting;
  }
  if (has(DEVOLVED_FILES.postcodeAreas))
    loaded.postcodeAreas = (
      await importPostcodeAreas(
        deps,
        postcodeAreaRecords(await readCsvRows(file(DEVOLVED_FILES.postcodeAreas), PostcodeAreaRow)),
        DEVOLVED_FILES.postcodeAreas,
      )
    ).imported;
  return loaded;
}

// --- postcode-level devolved areas (Scottish Postcode Directory, ONS files with a Senedd column) --

export type PostcodeAreasFileReport = PostcodeAreaImportReport & {
  /** The columns read, by what they hold. */
  columns: Record<string, string>;
  /** Rows for postcodes no longer in use (DateOfDeletion / doterm), not imported. */
  deleted: number;
  files: string[];
};

const POSTCODE_AREA_BATCH = 5000;

/**
 * Which columns of a postcode file hold devolved areas. The Scottish Postcode Directory names its
 * columns by boundary year ("ScottishParliamentaryConstituency2026Code", headers are lower-cased
 * here): the newest year from 2026 on is read, never an older one. Senedd and Assembly columns
 * have no settled name across releases, so they can be named on the command line.
 */
export function postcodeAreaColumns(
  headers: string[],
  named: { senedd?: string; assembly?: string } = {},
): Record<
  "postcode" | "holyroodConstituency" | "holyroodRegion" | "senedd" | "assembly" | "deleted",
  string | undefined
> {
  const newest = (re: RegExp) =>
    headers
      .map((h) => ({ h, year: Number(re.exec(h)?.[1] ?? 0) }))
      .filter((x) => x.year >= 2026)
      .sort((a, b) => b.year - a.year)[0]?.h;
  const lower = (s?: string) => s?.trim().toLowerCase();
  const pick = (candidates: string[]) => candidates.find((c) => headers.includes(c));
  return {
    postcode: pick(["postcode", "pcds", "pcd"]),
    holyroodConstituency:
      newest(/^scottishparliamentaryconstituency(\d{4})code$/) ??
      newest(/^scottish_parliamentary_constituency_(\d{4})_code$/) ??
      pick(["holyrood_constituency"]),
    holyroodRegion:
      newest(/^scottishparliamentaryregion(\d{4})code$/) ??
      newest(/^scottish_parliamentary_region_(\d{4})_code$/) ??
      pick(["holyrood_region"]),
    senedd: lower(named.senedd) ?? pick(["senedd", "senedd26cd", "sened26cd", "sen26cd"]),
    assembly: lower(named.assembly) ?? pick(["assembly"]),
    deleted: pick(["dateofdeletion", "doterm"]),
  };
}

/**
 * `import:postcode-areas`: the Scottish Postcode Directory (its small and large user CSVs, or
 * the zip as published), or any postcode CSV with Senedd / Assembly columns. Streamed in batches;
 * every area checked against ours (refused and counted otherwise); deleted postcodes skipped.
 */
export async function importPostcodeAreasFile(
  deps: Deps,
  path: string,
  opts: { senedd?: string; assembly?: string; onProgress?: (r: PostcodeAreasFileReport) => void } = {},
): Promise<PostcodeAreasFileReport> {
  const report: PostcodeAreasFileReport = {
    read: 0,
    imported: 0,
    skipped: 0,
    rejected: 0,
    examples: [],
    columns: {},
    deleted: 0,
    files: [],
  };
  const areas = await areasOf(deps);
  if (!areas.size) throw new Error("No devolved areas loaded: start the server once (or run `seed`) first.");
  const source = basename(path);
  const readStream = async (name: string, rows: AsyncIterable<CsvRecord>) => {
    report.files.push(name);
    let cols: ReturnType<typeof postcodeAreaColumns> | undefined;
    let batch: PostcodeAreaRecord[] = [];
    const flush = async () => {
      if (!batch.length) return;
      await importPostcodeAreas(deps, batch, source, report, areas);
      batch = [];
      opts.onProgress?.(report);
    };
    for await (const raw of rows) {
      if (!cols) {
        cols = postcodeAreaColumns(Object.keys(raw), opts);
        if (!cols.postcode) throw new Error(`${name}: no postcode column (Postcode, pcds or pcd)`);
        if (!cols.holyroodConstituency && !cols.senedd && !cols.assembly)
          throw new Error(
            `${name}: no devolved area column (ScottishParliamentaryConstituency2026Code, or name one with --senedd-column / --assembly-column)`,
          );
        for (const [k, v] of Object.entries(cols)) if (v) report.columns[k] = v;
      }
      if (cols.deleted && (raw[cols.deleted] ?? "").trim()) {
        report.deleted++;
        continue;
      }
      const cell = (c: string | undefined) => (c ? (raw[c] ?? "").trim() || null : undefined);
      batch.push({
        postcode: raw[cols.postcode as string] ?? "",
        holyroodConstituency: cell(cols.holyroodConstituency),
        holyroodRegion: cell(cols.holyroodRegion),
        senedd: cell(cols.senedd),
        assembly: cell(cols.assembly),
      });
      if (batch.length >= POSTCODE_AREA_BATCH) await flush();
    }
    await flush();
  };
  if (path.toLowerCase().endsWith(".zip")) {
    const zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
    try {
      const entries: yauzl.Entry[] = [];
      for await (const entry of zip.eachEntry()) entries.push(entry);
      // The SPD zip holds SmallUser.csv and LargeUser.csv (and documents): read every CSV.
      const csvs = entries.filter((e) => /\.csv$/i.test(e.fileName) && !e.fileName.endsWith("/"));
      if (!csvs.length) throw new Error(`${path}: no CSV file inside the zip`);
      for (const entry of csvs) {
        const stream: Readable = await zip.openReadStreamPromise(entry);
        await readStream(
          `${basename(path)}:${entry.fileName}`,
          stream.pipe(csvParser()) as AsyncIterable<CsvRecord>,
        );
      }
    } finally {
      zip.close();
    }
  } else await readStream(basename(path), csvRows(path) as AsyncIterable<CsvRecord>);
  return report;
}
