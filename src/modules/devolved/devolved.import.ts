/**
 * Loading the devolved parliaments' geography: areas (Holyrood constituencies and regions, Senedd
 * and Assembly constituencies), their links to the 2024 Westminster seats, and postcode-level
 * areas from official lookups. Members are loaded through the sync (devolved.sync.ts), so a file
 * and the official data take the same road, change log and guard included.
 *
 * Every write here is an idempotent upsert in one atomic batch: an interrupted load can be run
 * again. Rows that name an area or seat we don't hold are refused (counted, with examples),
 * never stored.
 */
import { eq, sql } from "drizzle-orm";
import { chunks } from "../../db/limits";
import { constituencies } from "../../db/schema";
import {
  type DevolvedBody,
  devolvedAreaLinks,
  devolvedAreas,
  type LinkShare,
  postcodeAreas,
} from "../../db/schema.devolved";
import type { Deps, Statement } from "../../deps";
import { parsePostcode } from "../../lib/postcode";
import { SEATS_PER_AREA } from "./devolved.bodies";
import { devolvedChanged } from "./devolved.cache";
import type {
  AssemblyLinkRow,
  HolyroodAreaRow,
  MlaCsvRow,
  PostcodeAreaRow,
  SeneddConstituencyRow,
} from "./devolved.schemas";

/** Rows per multi-row INSERT (D1 binds at most 100 parameters per statement; 6 columns x 15). */
const ROWS_PER_INSERT = 15;

type AreaRow = typeof devolvedAreas.$inferInsert;

function upsertAreas(deps: Pick<Deps, "db">, rows: AreaRow[]): Statement[] {
  return rows.map((r) =>
    deps.db
      .insert(devolvedAreas)
      .values(r)
      .onConflictDoUpdate({
        target: devolvedAreas.code,
        set: {
          name: r.name,
          nameCy: r.nameCy ?? null,
          regionCode: r.regionCode ?? null,
          seats: r.seats,
          validFrom: r.validFrom ?? null,
        },
      }),
  );
}

/** The 8 regions and 73 constituencies of the Scottish Parliament (regions first: constituencies name them). */
export async function importHolyroodAreas(deps: Deps, rows: HolyroodAreaRow[]) {
  const seats = SEATS_PER_AREA.scottish_parliament;
  const regions: AreaRow[] = [];
  const constituencies: AreaRow[] = [];
  for (const r of rows) {
    if (r.area_type === "SPE")
      regions.push({
        code: r.code,
        body: "scottish_parliament",
        kind: "region",
        name: r.name,
        seats: seats.region,
        validFrom: r.valid_from ?? null,
      });
    else
      constituencies.push({
        code: r.code,
        body: "scottish_parliament",
        kind: "constituency",
        name: r.name,
        regionCode: r.region_code,
        seats: seats.constituency,
        validFrom: r.valid_from ?? null,
      });
  }
  await deps.atomic([...upsertAreas(deps, regions), ...upsertAreas(deps, constituencies)]);
  devolvedChanged(deps);
  return { regions: regions.length, constituencies: constituencies.length };
}

/** The 16 Senedd constituencies and the two 2024 Westminster seats each is made of. */
export async function importSeneddAreas(deps: Deps, rows: SeneddConstituencyRow[], source: string) {
  const known = await westminsterCodes(deps);
  const missing = rows
    .flatMap((r) => [r.westminster_code_1, r.westminster_code_2])
    .filter((c) => !known.has(c));
  if (missing.length)
    throw new Error(`Senedd constituencies name Westminster seats we don't hold: ${missing.join(", ")}`);
  const areas: AreaRow[] = rows.map((r) => ({
    code: r.senedd_code,
    body: "senedd",
    kind: "constituency",
    name: r.name,
    nameCy: r.name_cy && r.name_cy !== r.name ? r.name_cy : null,
    seats: SEATS_PER_AREA.senedd.constituency,
    validFrom: r.valid_from ?? null,
  }));
  const links = rows.flatMap((r) =>
    [r.westminster_code_1, r.westminster_code_2].map((w) => ({
      westminsterCode: w,
      areaCode: r.senedd_code,
      share: "whole" as const,
      source,
    })),
  );
  await deps.atomic([...upsertAreas(deps, areas), ...upsertLinks(deps, links)]);
  devolvedChanged(deps);
  return { constituencies: areas.length, links: links.length };
}

/**
 * The 18 Assembly constituencies (2010 boundaries) from the MLAs file, each linked to its
 * successor 2024 seat (`most`), plus the documented `part` links of seats that also take in
 * some of another Assembly constituency.
 */
export async function importAssemblyAreas(
  deps: Deps,
  mlas: MlaCsvRow[],
  extraLinks: AssemblyLinkRow[],
  sources: { mlas: string; links: string },
) {
  const known = await westminsterCodes(deps);
  const areas = new Map<string, AreaRow>();
  const links = new Map<
    string,
    { westminsterCode: string; areaCode: string; share: LinkShare; source: string }
  >();
  for (const r of mlas) {
    areas.set(r.assembly_code_2010_boundaries, {
      code: r.assembly_code_2010_boundaries,
      body: "ni_assembly",
      kind: "constituency",
      name: r.assembly_constituency,
      seats: SEATS_PER_AREA.ni_assembly.constituency,
      validFrom: null,
    });
    if (!known.has(r.westminster_2024_code))
      throw new Error(`${sources.mlas}: ${r.westminster_2024_code} is not a Westminster seat we hold`);
    links.set(`${r.westminster_2024_code}|${r.assembly_code_2010_boundaries}`, {
      westminsterCode: r.westminster_2024_code,
      areaCode: r.assembly_code_2010_boundaries,
      share: "most",
      source: sources.mlas,
    });
  }
  for (const l of extraLinks) {
    if (!known.has(l.westminster_2024_code) || !areas.has(l.assembly_code))
      throw new Error(
        `${sources.links}: ${l.westminster_2024_code} -> ${l.assembly_code} names a seat or area we don't hold`,
      );
    links.set(`${l.westminster_2024_code}|${l.assembly_code}`, {
      westminsterCode: l.westminster_2024_code,
      areaCode: l.assembly_code,
      share: l.share,
      source: l.source,
    });
  }
  await deps.atomic([...upsertAreas(deps, [...areas.values()]), ...upsertLinks(deps, [...links.values()])]);
  devolvedChanged(deps);
  return { constituencies: areas.size, links: links.size };
}

function upsertLinks(
  deps: Pick<Deps, "db">,
  links: { westminsterCode: string; areaCode: string; share: LinkShare; source: string }[],
): Statement[] {
  return chunks(links, ROWS_PER_INSERT).map((rows) =>
    deps.db
      .insert(devolvedAreaLinks)
      .values(rows)
      .onConflictDoUpdate({
        target: [devolvedAreaLinks.westminsterCode, devolvedAreaLinks.areaCode],
        set: { share: sql`excluded.share`, source: sql`excluded.source` },
      }),
  );
}

async function westminsterCodes(deps: Deps): Promise<Set<string>> {
  const rows = await deps.db.select({ code: constituencies.onsCode }).from(constituencies);
  return new Set(rows.map((r) => r.code));
}

/** Our areas of one body: code -> {body, kind, regionCode}. */
export async function areasOf(deps: Deps, body?: DevolvedBody) {
  const rows = await deps.db
    .select({
      code: devolvedAreas.code,
      body: devolvedAreas.body,
      kind: devolvedAreas.kind,
      name: devolvedAreas.name,
      nameCy: devolvedAreas.nameCy,
      regionCode: devolvedAreas.regionCode,
      seats: devolvedAreas.seats,
    })
    .from(devolvedAreas)
    .where(body ? eq(devolvedAreas.body, body) : undefined);
  return new Map(rows.map((r) => [r.code, r]));
}

export type PostcodeAreaImportReport = {
  read: number;
  imported: number;
  /** Not a postcode. */
  skipped: number;
  /** Naming an area we don't hold (an old boundary set, a shifted column), or a region that isn't the constituency's. */
  rejected: number;
  examples: string[];
};

export type PostcodeAreaRecord = {
  postcode: string;
  holyroodConstituency?: string | null;
  holyroodRegion?: string | null;
  senedd?: string | null;
  assembly?: string | null;
};

/**
 * Upsert postcode-level areas, each checked against the areas we hold (a Holyrood constituency
 * must sit in the region given). Only the columns a file carries are written: a Senedd column
 * never blanks a Holyrood one.
 */
export async function importPostcodeAreas(
  deps: Deps,
  rows: PostcodeAreaRecord[],
  source: string,
  report: PostcodeAreaImportReport = { read: 0, imported: 0, skipped: 0, rejected: 0, examples: [] },
  areas?: Awaited<ReturnType<typeof areasOf>>,
): Promise<PostcodeAreaImportReport> {
  const known = areas ?? (await areasOf(deps));
  const ok = (code: string | null | undefined, body: DevolvedBody, kind: "constituency" | "region") =>
    code == null || (known.get(code)?.body === body && known.get(code)?.kind === kind);
  const good: (PostcodeAreaRecord & { postcode: string })[] = [];
  for (const r of rows) {
    report.read++;
    const pc = parsePostcode(r.postcode)?.postcode;
    if (!pc) {
      report.skipped++;
      continue;
    }
    const regionMatches =
      !r.holyroodConstituency ||
      !r.holyroodRegion ||
      known.get(r.holyroodConstituency)?.regionCode === r.holyroodRegion;
    if (
      !ok(r.holyroodConstituency, "scottish_parliament", "constituency") ||
      !ok(r.holyroodRegion, "scottish_parliament", "region") ||
      !ok(r.senedd, "senedd", "constituency") ||
      !ok(r.assembly, "ni_assembly", "constituency") ||
      !regionMatches
    ) {
      report.rejected++;
      if (report.examples.length < 10)
        report.examples.push(
          `${pc}: ${[r.holyroodConstituency, r.holyroodRegion, r.senedd, r.assembly].filter(Boolean).join(", ")} (not an area we hold, or not its region)`,
        );
      continue;
    }
    // A constituency fixes its region.
    const region =
      r.holyroodRegion ??
      (r.holyroodConstituency ? known.get(r.holyroodConstituency)?.regionCode : undefined);
    good.push({ ...r, postcode: pc, holyroodRegion: region ?? r.holyroodRegion });
  }
  const statements: Statement[] = good.map((r) => {
    const values = {
      ...(r.holyroodConstituency !== undefined ? { holyroodConstituency: r.holyroodConstituency } : {}),
      ...(r.holyroodRegion !== undefined ? { holyroodRegion: r.holyroodRegion } : {}),
      ...(r.senedd !== undefined ? { senedd: r.senedd } : {}),
      ...(r.assembly !== undefined ? { assembly: r.assembly } : {}),
      source,
    };
    return deps.db
      .insert(postcodeAreas)
      .values({ postcode: r.postcode, ...values })
      .onConflictDoUpdate({ target: postcodeAreas.postcode, set: values });
  });
  if (statements.length) await deps.atomic(statements);
  report.imported += good.length;
  return report;
}

/** The shipped sample rows (data/devolved/postcode-areas.csv). */
export const postcodeAreaRecords = (rows: PostcodeAreaRow[]): PostcodeAreaRecord[] =>
  rows.map((r) => ({
    postcode: r.postcode,
    holyroodConstituency: r.holyrood_constituency ?? undefined,
    holyroodRegion: r.holyrood_region ?? undefined,
    senedd: r.senedd ?? undefined,
    assembly: r.assembly ?? undefined,
  }));
