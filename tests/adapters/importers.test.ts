/**
 * The file importers on small fixtures in the real formats (tests/fixtures/import): an ONS NSPL
 * CSV with the real header, a Members API search response saved as JSON (two pages), and a
 * Democracy Club candidates CSV.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMembersSearch } from "../../src/adapters/http/members-api";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import {
  importCandidatesCsv,
  importConstituenciesCsv,
  importMembersFile,
  importMembersJson,
  importPostcodesCsv,
  importPostcodesFile,
  importPostcodesZip,
  type PostcodeImportReport,
  pickZipEntries,
} from "../../src/adapters/node/importers";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { importMembers } from "../../src/modules/members/members.sync";
import { testDeps } from "../support/deps";
import { fixturePath, membersSearchPages } from "../support/lookup-data";

const NSPL = fixturePath("import", "nspl-sample.csv");
const CONSTITUENCIES = fixturePath("import", "constituencies.csv");
const MEMBERS = fixturePath("import", "..", "members-api", "members-search.json");
const CANDIDATES = fixturePath("import", "dc-candidates.csv");
const ELECTION = "parl.2024-07-04";

const tmp = () => mkdtempSync(join(tmpdir(), "speakup-import-"));

/** All 650 seats, as data/ has them. */
async function withAllSeats() {
  const t = testDeps();
  await importConstituenciesCsv(t.deps, resolve(ROOT_DIR, "data/constituencies.csv"));
  return t;
}

async function withSeats() {
  const t = testDeps();
  await importConstituenciesCsv(t.deps, CONSTITUENCIES);
  return t;
}

type MemberRow = {
  constituency_code: string;
  status: string;
  parliament_id: number | null;
  name: string | null;
  email: string | null;
};
const memberRows = (t: ReturnType<typeof testDeps>) =>
  Object.fromEntries(
    (
      t.sqlite
        .prepare("select constituency_code, status, parliament_id, name, email from members order by 1")
        .all() as MemberRow[]
    ).map((r) => [r.constituency_code, r]),
  );

describe("import:constituencies", () => {
  it("loads the CSV and is idempotent on re-import", async () => {
    const t = testDeps();
    expect(await importConstituenciesCsv(t.deps, CONSTITUENCIES)).toEqual({ upserted: 5 });
    expect(await importConstituenciesCsv(t.deps, CONSTITUENCIES)).toEqual({ upserted: 5 });
    expect(t.sqlite.prepare("select count(*) n from constituencies").get()).toEqual({ n: 5 });
    expect(t.sqlite.prepare("select * from constituencies where ons_code = 'W07000081'").get()).toMatchObject(
      {
        name: "Aberafan Maesteg",
        nation: "Wales",
        region_code: "W92000004",
        hex_q: 33,
        hex_r: -34,
      },
    );
  });

  it("stores an empty hex cell as no position, not (0, 0)", async () => {
    const t = testDeps();
    const file = join(tmp(), "c.csv");
    writeFileSync(
      file,
      "ons_code,name,nation,region_code,region_name,hex_q,hex_r\nE14001063,Aldershot,England,E12000008,South East,,\n",
    );
    await importConstituenciesCsv(t.deps, file);
    expect(t.sqlite.prepare("select hex_q, hex_r from constituencies").get()).toEqual({
      hex_q: null,
      hex_r: null,
    });
  });

  it("fails on a bad row with a message naming the file, the row and the field, and writes nothing", async () => {
    const t = testDeps();
    const bad = fixturePath("import", "constituencies-bad-row.csv");
    await expect(importConstituenciesCsv(t.deps, bad)).rejects.toThrow(
      /constituencies-bad-row\.csv, row 3: nation:/,
    );
    expect(t.sqlite.prepare("select count(*) n from constituencies").get()).toEqual({ n: 0 });
  });
});

describe("import:postcodes (ONS NSPL CSV)", () => {
  it("imports every valid row, counting terminated rows, per nation, and skipping a damaged one", async () => {
    const t = await withAllSeats();
    const report = await importPostcodesCsv(t.deps, NSPL);
    expect(report).toEqual({
      read: 10,
      imported: 9,
      skipped: 1,
      terminated: 1,
      column: "pcon",
      byNation: { England: 3, Scotland: 2, Wales: 1, "Northern Ireland": 1, none: 2 },
      rejected: { unknownSeat: 0, wrongNation: 0, examples: [] },
      files: ["nspl-sample.csv"],
    });
    const rows = t.sqlite
      .prepare("select postcode, constituency_code, terminated from postcodes order by 1")
      .all();
    expect(rows).toContainEqual({ postcode: "GU14 7JU", constituency_code: "E14001063", terminated: 0 });
    expect(rows).toContainEqual({ postcode: "AB1 0AA", constituency_code: "S14000061", terminated: 1 });
    expect(rows).toHaveLength(9);
  });

  it("stores ONS pseudo codes (L99999999, M99999999) as no constituency", async () => {
    const t = await withAllSeats();
    await importPostcodesCsv(t.deps, NSPL);
    expect(
      t.sqlite
        .prepare(
          "select postcode, constituency_code from postcodes where postcode in ('GY1 1AA','IM1 1AA') order by 1",
        )
        .all(),
    ).toEqual([
      { postcode: "GY1 1AA", constituency_code: null },
      { postcode: "IM1 1AA", constituency_code: null },
    ]);
  });

  it("writes in batches of batchSize and reports progress after each", async () => {
    const t = await withAllSeats();
    const progress: PostcodeImportReport[] = [];
    await importPostcodesCsv(t.deps, NSPL, { batchSize: 2, onProgress: (r) => progress.push({ ...r }) });
    expect(progress.map((p) => p.imported)).toEqual([2, 4, 6, 8, 9]);
  });

  it("can be run again over the same file without duplicating rows, and updates changed rows", async () => {
    const t = await withAllSeats();
    await importPostcodesCsv(t.deps, NSPL, { batchSize: 3 });
    const changed = join(tmp(), "nspl.csv");
    writeFileSync(
      changed,
      readFileSync(NSPL, "utf8").replace('"GU14 7JU","198001",""', '"GU14 7JU","198001","202402"'),
    );
    await importPostcodesCsv(t.deps, changed, { batchSize: 3 });
    expect(t.sqlite.prepare("select count(*) n from postcodes").get()).toEqual({ n: 9 });
    expect(t.sqlite.prepare("select terminated from postcodes where postcode = 'GU14 7JU'").get()).toEqual({
      terminated: 1,
    });
  });

  it("reads the constituency from the 2024 column first, or a named one when told to", async () => {
    const t = await withAllSeats();
    const file = join(tmp(), "onspd.csv");
    writeFileSync(file, "pcds,doterm,pcon24cd,pcon\nGU14 7JU,,E14001063,E14001063\n");
    expect(await importPostcodesCsv(t.deps, file)).toMatchObject({ imported: 1, column: "pcon24cd" });
    expect(await importPostcodesCsv(t.deps, file, { column: "pcon" })).toMatchObject({
      imported: 1,
      column: "pcon",
    });
    expect(t.sqlite.prepare("select constituency_code from postcodes").get()).toEqual({
      constituency_code: "E14001063",
    });
  });

  it("rejects a row whose code is not a 2024 seat (an old-boundary column), writing nothing for it", async () => {
    const t = await withAllSeats();
    const file = join(tmp(), "onspd.csv");
    // E14000530 is Aldershot on the 2010 boundaries: abolished in 2024.
    writeFileSync(
      file,
      "pcds,doterm,pcon24cd,pcon\nGU14 7JU,,E14001063,E14000530\nGU14 7JP,,E14001063,E14000530\n",
    );
    const report = await importPostcodesCsv(t.deps, file, { column: "pcon" });
    expect(report).toMatchObject({ read: 2, imported: 0, rejected: { unknownSeat: 2, wrongNation: 0 } });
    expect(report.rejected.examples[0]).toBe(
      "onspd.csv row 2: GU14 7JU -> E14000530 (not a 2024 seat we hold)",
    );
    expect(t.sqlite.prepare("select count(*) n from postcodes").get()).toEqual({ n: 0 });
  });

  it("rejects a row whose seat is in another nation than the postcode (ctry, or an area wholly in one nation)", async () => {
    const t = await withAllSeats();
    const file = join(tmp(), "shifted.csv");
    writeFileSync(
      file,
      [
        "pcds,doterm,ctry,pcon24cd",
        // ONS says Scotland, the code is an English seat.
        "AB16 9UH,,S92000003,E14001063",
        // No ctry: BT is wholly Northern Ireland, the code is a Welsh seat.
        "BT4 3XX,,,W07000081",
        // No ctry, cross-border area (CH): the code can't be checked against a nation, so it stands.
        "CH5 1AA,,,W07000081",
        // Right nation.
        "SA13 1PJ,,W92000004,W07000081",
      ].join("\n"),
    );
    const report = await importPostcodesCsv(t.deps, file);
    expect(report).toMatchObject({
      imported: 2,
      byNation: { Wales: 2 },
      rejected: { unknownSeat: 0, wrongNation: 2 },
    });
    expect(report.rejected.examples).toEqual([
      "shifted.csv row 2: AB16 9UH -> E14001063 (a seat in England)",
      "shifted.csv row 3: BT4 3XX -> W07000081 (a seat in Wales)",
    ]);
  });

  it("refuses to import postcodes before any constituencies are loaded", async () => {
    const t = testDeps();
    await expect(importPostcodesCsv(t.deps, NSPL)).rejects.toThrow(/No constituencies loaded/);
  });

  it("refuses a file without a constituency column, naming the columns it looked for", async () => {
    const t = await withAllSeats();
    const file = join(tmp(), "wrong.csv");
    writeFileSync(file, "pcds,lat,long\nGU14 7JU,51.28,-0.75\n");
    await expect(importPostcodesCsv(t.deps, file)).rejects.toThrow(
      /no constituency column \(looked for pcon24cd, pcon24, pcon\)/,
    );
  });
});

describe("import:postcodes (the ONS zip, as published)", () => {
  it("streams the single UK file out of the zip, leaving the per-area copies and documents alone", async () => {
    const t = await withAllSeats();
    const report = await importPostcodesZip(t.deps, fixturePath("import", "nspl-sample.zip"));
    expect(report).toMatchObject({
      read: 10,
      imported: 9,
      skipped: 1,
      terminated: 1,
      byNation: { England: 3, Scotland: 2, Wales: 1, "Northern Ireland": 1, none: 2 },
      files: ["nspl-sample.zip:Data/NSPL_MAY_2025_UK.csv"],
    });
    expect(t.sqlite.prepare("select count(*) n from postcodes").get()).toEqual({ n: 9 });
    expect(
      t.sqlite.prepare("select constituency_code c from postcodes where postcode = 'BT4 3XX'").get(),
    ).toEqual({
      c: "N05000001",
    });
  });

  it("reads every per-area file when the zip has no single UK file", async () => {
    const t = await withAllSeats();
    const report = await importPostcodesFile(t.deps, fixturePath("import", "nspl-sample-multi.zip"));
    expect(report).toMatchObject({ read: 10, imported: 9, skipped: 1 });
    expect(report.files).toHaveLength(8);
    expect(report.files[0]).toBe("nspl-sample-multi.zip:Data/multi_csv/NSPL_MAY_2025_UK_AB.csv");
  });

  it("picks the UK file by place in the archive, not by name", () => {
    const e = (fileName: string, uncompressedSize = 10) => ({ fileName, uncompressedSize });
    expect(
      pickZipEntries([
        e("Documents/Guide.pdf", 9e6),
        e("Data/ONSPD_FEB_2026_UK.csv", 9e8),
        e("Data/multi_csv/ONSPD_FEB_2026_UK_AB.csv"),
      ]),
    ).toEqual([e("Data/ONSPD_FEB_2026_UK.csv", 9e8)]);
    expect(
      pickZipEntries([e("Data/multi_csv/B.csv"), e("Data/multi_csv/A.csv")]).map((x) => x.fileName),
    ).toEqual(["Data/multi_csv/A.csv", "Data/multi_csv/B.csv"]);
    expect(pickZipEntries([e("Documents/readme.txt")])).toEqual([]);
  });

  it("refuses a zip with no CSV in it, naming the file", async () => {
    const t = await withAllSeats();
    const file = join(tmp(), "empty.zip");
    // An empty zip: just the end-of-central-directory record.
    writeFileSync(file, Buffer.from([0x50, 0x4b, 0x05, 0x06, ...Array(18).fill(0)]));
    await expect(importPostcodesFile(t.deps, file)).rejects.toThrow(/empty\.zip: no CSV file inside the zip/);
  });
});

describe("import:members (a CSV like data/mps.csv)", () => {
  it("loads each row's MP with their address, and an empty address cell as none", async () => {
    const t = await withSeats();
    expect(await importMembersFile(t.deps, fixturePath("import", "mps.csv"))).toMatchObject({
      status: "applied",
      source: "mps.csv",
      sitting: 5,
      vacant: 0,
    });
    expect(memberRows(t).W07000081).toMatchObject({
      parliament_id: 4359,
      name: "Stephen Kinnock",
      email: "stephen.kinnock.mp@parliament.uk",
    });
    const file = join(tmp(), "mps.csv");
    writeFileSync(
      file,
      readFileSync(fixturePath("import", "mps.csv"), "utf8").replace("stephen.kinnock.mp@parliament.uk", ""),
    );
    // The same person: a missing address never blanks the one we hold.
    await importMembersFile(t.deps, file);
    expect(memberRows(t).W07000081).toMatchObject({ email: "stephen.kinnock.mp@parliament.uk" });
  });

  it("fails on a bad row, naming the row and the field, and writes nothing", async () => {
    const t = await withSeats();
    const file = join(tmp(), "mps.csv");
    writeFileSync(
      file,
      readFileSync(fixturePath("import", "mps.csv"), "utf8").replace(
        "alex.baker.mp@parliament.uk",
        "alex baker",
      ),
    );
    await expect(importMembersFile(t.deps, file)).rejects.toThrow(/mps\.csv, row 2: email: an email address/);
    expect(t.sqlite.prepare("select count(*) n from members").get()).toEqual({ n: 0 });
  });
});

describe("import:members (Members API search JSON)", () => {
  it("makes each listed member the MP of their seat, seats nobody holds vacant, and lists the unmatched", async () => {
    const t = await withSeats();
    expect(await importMembersJson(t.deps, MEMBERS)).toMatchObject({
      status: "applied",
      trigger: "import",
      source: "members-search.json",
      sitting: 4,
      vacant: 1,
      unmatched: ["North West Essex"],
    });
    const rows = memberRows(t);
    expect(rows.E14001063).toMatchObject({ status: "sitting", parliament_id: 5215, name: "Alex Baker" });
    expect(rows.N05000001).toMatchObject({ status: "vacant", parliament_id: null, name: null });
  });

  it("keeps a known email for the same person across a re-import (the search carries no contacts)", async () => {
    const t = await withSeats();
    const list = parseMembersSearch(membersSearchPages());
    await importMembers(
      t.deps,
      list.map((m) => (m.parliamentId === 4359 ? { ...m, email: "stephen.kinnock.mp@parliament.uk" } : m)),
    );
    await importMembersJson(t.deps, MEMBERS);
    await importMembersJson(t.deps, MEMBERS);
    expect(memberRows(t).W07000081).toMatchObject({
      parliament_id: 4359,
      email: "stephen.kinnock.mp@parliament.uk",
    });
  });

  it("does not hand a seat's old email to a new MP", async () => {
    const t = await withSeats();
    const list = parseMembersSearch(membersSearchPages());
    await importMembers(
      t.deps,
      list.map((m) => ({ ...m, email: `${m.parliamentId}@parliament.uk` })),
    );
    const byElection = list.map((m) =>
      m.constituencyName === "Aldershot"
        ? { ...m, parliamentId: 9999, name: "New Member", email: undefined }
        : m,
    );
    await importMembers(t.deps, byElection);
    expect(memberRows(t).E14001063).toMatchObject({ parliament_id: 9999, name: "New Member", email: null });
  });

  it("makes a seat vacant when its MP is no longer in the list", async () => {
    const t = await withSeats();
    await importMembersJson(t.deps, MEMBERS);
    const withoutBlackman = parseMembersSearch(membersSearchPages()).filter((m) => m.parliamentId !== 4357);
    expect(await importMembers(t.deps, withoutBlackman)).toMatchObject({ sitting: 3, vacant: 2 });
    expect(memberRows(t).S14000060).toMatchObject({
      status: "vacant",
      parliament_id: null,
      name: null,
      email: null,
    });
  });

  it("moves a member who now sits for another seat, email included, and vacates the old one", async () => {
    const t = await withSeats();
    const list = parseMembersSearch(membersSearchPages());
    await importMembers(
      t.deps,
      list.map((m) => (m.parliamentId === 4359 ? { ...m, email: "sk@parliament.uk" } : m)),
    );
    // Stephen Kinnock now listed for Belfast East (a made-up move, to exercise the unique id).
    const moved = list.map((m) => (m.parliamentId === 4359 ? { ...m, constituencyName: "Belfast East" } : m));
    expect(await importMembers(t.deps, moved)).toMatchObject({
      sitting: 4,
      vacant: 1,
      unmatched: ["North West Essex"],
    });
    const rows = memberRows(t);
    expect(rows.N05000001).toMatchObject({
      status: "sitting",
      parliament_id: 4359,
      email: "sk@parliament.uk",
    });
    expect(rows.W07000081).toMatchObject({ status: "vacant", parliament_id: null });
  });

  it("never touches the test seat", async () => {
    const t = await withSeats();
    await ensureTestSeat(t.deps);
    await importMembersJson(t.deps, MEMBERS);
    expect(memberRows(t).Z00000001).toMatchObject({ status: "sitting", email: "test-mp@speakup.invalid" });
  });
});

describe("import:candidates (Democracy Club CSV)", () => {
  it("imports the election's candidates, skipping cancelled polls, unknown seats and other elections", async () => {
    const t = await withSeats();
    expect(await importCandidatesCsv(t.deps, CANDIDATES, ELECTION)).toEqual({
      imported: 4,
      skipped: 3,
      unmatched: ["Atlantis Central"],
    });
    expect(
      t.sqlite
        .prepare("select person_id, name, party, email, constituency_code from candidates order by person_id")
        .all(),
    ).toEqual([
      {
        person_id: 2811,
        name: "Leo Docherty",
        party: "Conservative and Unionist Party",
        email: null,
        constituency_code: "E14001063",
      },
      {
        person_id: 4357,
        name: "Kirsty Blackman",
        party: "Scottish National Party (SNP)",
        email: "kirsty@example.org",
        constituency_code: "S14000060",
      },
      {
        person_id: 71001,
        name: "Alex Baker",
        party: "Labour Party",
        email: "alex.baker@example.org",
        constituency_code: "E14001063",
      },
      {
        person_id: 90210,
        name: "Lynn Thomson",
        party: "Scottish Labour Party",
        email: null,
        constituency_code: "S14000060",
      },
    ]);
  });

  it("is idempotent, and drops a candidate who is no longer in the file", async () => {
    const t = await withSeats();
    await importCandidatesCsv(t.deps, CANDIDATES, ELECTION);
    await importCandidatesCsv(t.deps, CANDIDATES, ELECTION);
    expect(t.sqlite.prepare("select count(*) n from candidates").get()).toEqual({ n: 4 });

    const withdrawn = join(tmp(), "candidates.csv");
    writeFileSync(
      withdrawn,
      readFileSync(CANDIDATES, "utf8")
        .split("\n")
        .filter((l) => !l.startsWith("2811,"))
        .join("\n"),
    );
    expect(await importCandidatesCsv(t.deps, withdrawn, ELECTION)).toMatchObject({ imported: 3 });
    expect(t.sqlite.prepare("select person_id from candidates where person_id = 2811").get()).toBeUndefined();
  });

  it("leaves other elections' candidates alone", async () => {
    const t = await withSeats();
    await importCandidatesCsv(t.deps, CANDIDATES, "parl.2019-12-12");
    await importCandidatesCsv(t.deps, CANDIDATES, ELECTION);
    expect(
      t.sqlite.prepare("select election_id, count(*) n from candidates group by 1 order by 1").all(),
    ).toEqual([
      { election_id: "parl.2019-12-12", n: 1 },
      { election_id: ELECTION, n: 4 },
    ]);
  });

  it("fails on a row without a person id, naming the row and the field", async () => {
    const t = await withSeats();
    const file = join(tmp(), "bad.csv");
    writeFileSync(
      file,
      `${readFileSync(CANDIDATES, "utf8").split("\n")[0]}\n,Nobody,${ELECTION},parl.aldershot.2024-07-04,2024-07-04,f,Independent,ynmp-party:2,Aldershot,f,1,\n`,
    );
    await expect(importCandidatesCsv(t.deps, file, ELECTION)).rejects.toThrow(/bad\.csv, row 2: person_id:/);
  });
});
