/**
 * Synthetic but well-formed data for the benchmarks: an ONS NSPL-format postcode CSV spread over
 * the constituencies, and fallback constituency/MP rows when data/ doesn't hold the real ones.
 *
 * Rules:
 * - Every postcode passes the `postcode` package's validation; generation fails loudly otherwise.
 * - Postcodes use real postcode areas of the constituency's nation (BT for Northern Ireland, EH or
 *   G for Scotland...), so the data looks like the real file, but the districts and units are made
 *   up: these are not real addresses and the mapping to seats is arbitrary.
 * - Generation is deterministic (seeded PRNG), so two runs load the same rows.
 */

import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { stringify } from "csv-stringify/sync";
import { isValid } from "postcode";

export type Seat = { code: string; name: string; nation: string; regionCode: string };

/** Postcode areas by nation (Crown dependencies JE/GY/IM and the ZZ test area left out). */
const AREAS: Record<string, string[]> = {
  England: (
    "AL B BA BB BD BH BL BN BR BS CA CB CM CO CR CT CV CW DA DE DH DL DN DT DY E EN EX FY GL GU HA HD " +
    "HG HP HU HX IG IP KT L LA LE LN LS LU M ME MK N NE NG NN NR NW OL OX PE PL PO PR RG RH RM S SE SG " +
    "SK SL SM SN SO SP SR SS ST SW SY TA TF TN TQ TR TS TW UB W WA WD WF WN WR WS WV YO"
  ).split(" "),
  Scotland: "AB DD DG EH FK G HS IV KA KW KY ML PA PH TD ZE".split(" "),
  Wales: "CF LD LL NP SA".split(" "),
  "Northern Ireland": ["BT"],
};
const COUNTRY_CODES: Record<string, string> = {
  England: "E92000001",
  Scotland: "S92000003",
  Wales: "W92000004",
  "Northern Ireland": "N92000002",
};
/** Letters allowed in the inward code's unit (Royal Mail never uses C I K M O V there). */
const UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ";
/** Most postcodes per sector: real sectors hold a few dozen to a few hundred units. */
const MAX_UNITS_PER_SECTOR = 60;
const MAX_SECTORS_PER_SEAT = 40;
/** Share of rows written as terminated (doterm set), as in the real file. */
const TERMINATED_SHARE = 0.01;

/** The NSPL (2025 layout) header. The importer reads pcds, doterm and pcon24cd. */
export const NSPL_HEADER = [
  "pcd7",
  "pcd8",
  "pcds",
  "dointr",
  "doterm",
  "usrtypind",
  "east1m",
  "north1m",
  "gridind",
  "oa21cd",
  "cty25cd",
  "ced25cd",
  "lad25cd",
  "wd25cd",
  "nhser24cd",
  "ctry25cd",
  "rgn25cd",
  "pcon24cd",
  "ttwa15cd",
  "itl25cd",
  "npark16cd",
  "lsoa21cd",
  "msoa21cd",
  "lat",
  "long",
];

/** mulberry32: small, fast, seedable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type GeneratedPostcode = { postcode: string; code: string; terminated: boolean };

/**
 * At least `count` distinct postcodes, each seat getting whole sectors (outcode + digit) of its
 * nation's areas, as in reality where a sector rarely straddles seats.
 */
export function generatePostcodes(seats: Seat[], count: number, seed = 20241001): GeneratedPostcode[] {
  const rand = prng(seed);
  const units: string[] = [];
  for (const a of UNIT_LETTERS) for (const b of UNIT_LETTERS) units.push(a + b);
  // Few units per sector for the default size; for a full-size (2.7 million) file the sectors get
  // fuller instead, since Northern Ireland's one area (BT) has only 990 district-sector pairs.
  const sectorsPerSeat = Math.min(
    MAX_SECTORS_PER_SEAT,
    Math.max(1, Math.ceil(count / seats.length / MAX_UNITS_PER_SECTOR)),
  );
  const unitsPerSector = Math.ceil(count / seats.length / sectorsPerSeat);
  if (unitsPerSector > units.length) throw new Error(`too many postcodes for ${seats.length} seats`);

  // One generator of fresh sectors per nation: area x district (1..99) x sector digit (0..9).
  const cursors = new Map<string, number>();
  const nextSector = (nation: string): string => {
    const areas = AREAS[nation] ?? AREAS.England!;
    const i = cursors.get(nation) ?? 0;
    cursors.set(nation, i + 1);
    const area = areas[i % areas.length]!;
    const rest = Math.floor(i / areas.length);
    const district = (rest % 99) + 1;
    const digit = Math.floor(rest / 99) % 10;
    if (rest >= 990) throw new Error(`ran out of synthetic sectors for ${nation}`);
    return `${area}${district} ${digit}`;
  };

  const out: GeneratedPostcode[] = [];
  for (const seat of seats) {
    for (let s = 0; s < sectorsPerSeat; s++) {
      const sector = nextSector(seat.nation);
      // A random subset of the 400 possible units, as real sectors are sparse.
      const start = Math.floor(rand() * units.length);
      for (let u = 0; u < unitsPerSector; u++) {
        const postcode = sector + units[(start + u * 7) % units.length];
        if (!isValid(postcode)) throw new Error(`generated an invalid postcode: ${postcode}`);
        out.push({ postcode, code: seat.code, terminated: rand() < TERMINATED_SHARE });
      }
    }
  }
  return out.sort((a, b) => (a.postcode < b.postcode ? -1 : a.postcode > b.postcode ? 1 : 0));
}

/** pcd7: outward code left-aligned in 4 characters, then the inward code ("B1  1AA"). */
const pcd7 = (pc: string) => {
  const [out, inward] = pc.split(" ") as [string, string];
  return out.length > 4 ? out + inward : out.padEnd(4, " ") + inward;
};
/** pcd8: outward code left-aligned in 5 characters, then the inward code ("B1   1AA"). */
const pcd8 = (pc: string) => {
  const [out, inward] = pc.split(" ") as [string, string];
  return out.padEnd(5, " ") + inward;
};

/** Write the postcodes as an NSPL CSV (streamed; the real file is ~2.7 million rows). */
export async function writeNsplCsv(
  path: string,
  rows: GeneratedPostcode[],
  seats: Map<string, Seat>,
  seed = 7,
): Promise<void> {
  const rand = prng(seed);
  const file = createWriteStream(path);
  const write = async (chunk: string) => {
    if (!file.write(chunk)) await once(file, "drain");
  };
  await write(stringify([NSPL_HEADER]));
  let buf: string[][] = [];
  for (const [i, r] of rows.entries()) {
    const seat = seats.get(r.code);
    const n = String(i).padStart(6, "0");
    buf.push([
      pcd7(r.postcode),
      pcd8(r.postcode),
      r.postcode,
      `19${80 + Math.floor(rand() * 20)}01`,
      r.terminated ? "202312" : "",
      "0",
      String(400000 + Math.floor(rand() * 200000)),
      String(100000 + Math.floor(rand() * 800000)),
      "1",
      `E00${n}`,
      "E99999999",
      "E99999999",
      `E06${n.slice(0, 6)}`,
      `E05${n.slice(0, 6)}`,
      "E40000003",
      COUNTRY_CODES[seat?.nation ?? "England"] ?? "E92000001",
      seat?.regionCode ?? "",
      r.code,
      "E30000234",
      "TLI32",
      "E65000001",
      `E01${n}`,
      `E02${n}`,
      (50 + rand() * 8).toFixed(6),
      (-5 + rand() * 6).toFixed(6),
    ]);
    if (buf.length === 5000) {
      await write(stringify(buf));
      buf = [];
    }
  }
  if (buf.length) await write(stringify(buf));
  file.end();
  await once(file, "finish");
}

/** 650 made-up English seats, for when data/constituencies.csv is not there yet. */
export function syntheticConstituenciesCsv(n = 650): string {
  const rows = [["ons_code", "name", "nation", "region_code", "region_name"]];
  for (let i = 0; i < n; i++) {
    rows.push([
      `E14${String(1063 + i).padStart(6, "0")}`,
      `Bench Seat ${i + 1}`,
      "England",
      "E12000007",
      "London",
    ]);
  }
  return stringify(rows);
}
