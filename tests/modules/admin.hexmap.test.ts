/**
 * The dashboard's hex map: every seat in its own cell of the ODI Leeds 2024 constituency hexmap
 * (odileeds/hexmaps maps/uk-constituencies-2023.hexjson, version 1.0, "odd-r"), a shape with no
 * holes but the one the published map leaves for Lough Neagh, and colours where more is darker,
 * explained by a legend. (tests/browser/admin.test.ts checks the drawn map in Chromium.)
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR } from "../../src/adapters/node/db";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { hexCentres, hexMap, mapScale } from "../../src/modules/admin/admin.svg";
import { migrationsBefore } from "../support/migrations";

type Cell = { code: string; name: string; nation: string; q: number; r: number };

function seats(): Cell[] {
  const [, ...lines] = readFileSync(resolve(ROOT_DIR, "data/constituencies.csv"), "utf8").trim().split("\n");
  return lines.map((line) => {
    // Names may be quoted (commas); the last two fields are the cell.
    const fields =
      line.match(/("[^"]*"|[^,]*)(,|$)/g)?.map((f) => f.replace(/,$/, "").replace(/^"|"$/g, "")) ?? [];
    return {
      code: fields[0] ?? "",
      name: fields[1] ?? "",
      nation: fields[2] ?? "",
      q: Number(fields[5]),
      r: Number(fields[6]),
    };
  });
}

/** The six neighbours of a cell in an "odd-r" layout (odd rows shoved right, as ODI Leeds draws them). */
function neighbours(q: number, r: number): [number, number][] {
  const odd = r % 2 !== 0;
  const d = odd
    ? [
        [1, 0],
        [-1, 0],
        [1, 1],
        [0, 1],
        [1, -1],
        [0, -1],
      ]
    : [
        [1, 0],
        [-1, 0],
        [0, 1],
        [-1, 1],
        [0, -1],
        [-1, -1],
      ];
  return d.map(([a, b]) => [q + (a as number), r + (b as number)]);
}

/** Empty cells inside the shape: not reachable from outside its bounding box. */
function holes(cells: Set<string>): string[] {
  const qr = [...cells].map((k) => k.split(",").map(Number) as [number, number]);
  const [q0, q1] = [Math.min(...qr.map((c) => c[0])) - 1, Math.max(...qr.map((c) => c[0])) + 1];
  const [r0, r1] = [Math.min(...qr.map((c) => c[1])) - 1, Math.max(...qr.map((c) => c[1])) + 1];
  const outside = new Set<string>();
  const queue: [number, number][] = [[q0, r0]];
  while (queue.length) {
    const [q, r] = queue.pop() as [number, number];
    const k = `${q},${r}`;
    if (outside.has(k) || cells.has(k) || q < q0 || q > q1 || r < r0 || r > r1) continue;
    outside.add(k);
    queue.push(...neighbours(q, r));
  }
  const out: string[] = [];
  for (let q = q0; q <= q1; q++)
    for (let r = r0; r <= r1; r++)
      if (!cells.has(`${q},${r}`) && !outside.has(`${q},${r}`)) out.push(`${q},${r}`);
  return out;
}

describe("hex map layout", () => {
  it("gives each of the 650 seats its own cell", () => {
    const all = seats();
    expect(all).toHaveLength(650);
    const byCell = new Map<string, string[]>();
    for (const s of all) byCell.set(`${s.q},${s.r}`, [...(byCell.get(`${s.q},${s.r}`) ?? []), s.name]);
    const shared = [...byCell.values()].filter((names) => names.length > 1);
    expect(shared).toEqual([]);
    // Spot checks against the published map.
    const at = (name: string) => all.find((s) => s.name === name);
    expect(at("Aldershot")).toMatchObject({ q: 56, r: -40 });
    expect(at("Orkney and Shetland")).toMatchObject({ r: 0 });
    expect(at("Montgomeryshire and Glyndŵr")).toBeDefined();
  });

  it("draws a shape without holes, but for the cell the published map leaves for Lough Neagh", () => {
    const all = seats();
    const gaps = holes(new Set(all.map((s) => `${s.q},${s.r}`)));
    expect(gaps).toEqual(["43,-17"]);
    // Lough Neagh: every neighbour of that cell is a Northern Ireland seat.
    for (const [q, r] of neighbours(43, -17))
      expect(all.find((s) => s.q === q && s.r === r)?.nation, `${q},${r}`).toBe("Northern Ireland");
  });

  it("puts no two seats' hexagons on the same spot of the drawing", () => {
    const centres = hexCentres(seats().map((s) => ({ code: s.code, hexQ: s.q, hexR: s.r })));
    const spots = new Set(centres.map((c) => `${c.x.toFixed(1)},${c.y.toFixed(1)}`));
    expect(spots.size).toBe(650);
  });

  it("moves a database seeded with the draft layout onto the published one", () => {
    const raw = new Database(":memory:");
    const db = drizzle(raw);
    migrate(db, { migrationsFolder: migrationsBefore("0008_campaign_front") });
    raw.exec(`insert into constituencies (ons_code, name, nation, region_code, region_name, hex_q, hex_r)
      values ('E14001063', 'Aldershot', 'England', 'E12000008', 'South East', 53, -55),
             ('E14001370', 'Milton Keynes North', 'England', 'E12000008', 'South East', 56, -44),
             ('E14001407', 'Northampton South', 'England', 'E12000004', 'East Midlands', 56, -44)`);
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const rows = raw.prepare("select name, hex_q q, hex_r r from constituencies order by name").all();
    const expected = seats();
    for (const row of rows as { name: string; q: number; r: number }[]) {
      const s = expected.find((e) => e.name === row.name);
      expect(row, row.name).toEqual({ name: row.name, q: s?.q, r: s?.r });
    }
  });
});

const fillOf = (svg: string, name: string) =>
  new RegExp(`fill="(#[0-9a-f]{6})"[^>]*><title>${name}:`).exec(svg)?.[1];
/** Perceived lightness (0 dark .. 1 light). */
const lightness = (hex: string) => {
  const n = Number.parseInt(hex.slice(1), 16);
  return (0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255)) / 255;
};

describe("hex map colours", () => {
  const place = (values: number[]) =>
    values.map((value, i) => ({ code: `X${i}`, name: `Seat ${i}`, hexQ: i, hexR: 0, value }));

  it("colours the busiest seat darkest, even when it is the only one", () => {
    const one = hexMap(place([0, 3, 0]), "pledges");
    expect(lightness(fillOf(one, "Seat 1") ?? "#ffffff")).toBeLessThan(
      lightness(fillOf(one, "Seat 0") ?? ""),
    );
    const scale = mapScale([0, 3, 0]);
    expect(scale.colour(3)).toBe(scale.legend.at(-1)?.colour);
  });

  it("is darker for more, step by step, and says so in a legend with its ranges", () => {
    const values = [0, 1, 2, 3, 5, 8, 13, 40, 100, 250];
    const svg = hexMap(place(values), "letters");
    const shades = values.map((_, i) => lightness(fillOf(svg, `Seat ${i}`) ?? ""));
    for (let i = 1; i < shades.length; i++)
      expect(shades[i], `seat ${i}`).toBeLessThanOrEqual(shades[i - 1] as number);
    expect(shades.at(-1)).toBeLessThan(shades[1] as number);
    const scale = mapScale(values);
    expect(scale.legend[0]).toMatchObject({ label: "0" });
    expect(scale.legend.at(-1)?.label).toMatch(/250$/);
    // The ranges cover 1..max without gaps.
    const ranges = scale.legend.slice(1).map((l) => [l.from, l.to]);
    expect(ranges[0]?.[0]).toBe(1);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]?.[0]).toBe((ranges[i - 1]?.[1] ?? 0) + 1);
    expect(svg).toContain("Fewer");
    expect(svg).toContain("More");
    for (const l of scale.legend) expect(svg).toContain(`>${l.label}<`);
  });
});
