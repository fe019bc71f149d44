/**
 * Keeping the MPs current: the members sync against a stand-in Members API answering in the
 * real shapes (tests/support/members-api.ts), over a database seeded from data/ exactly as
 * `npm start` seeds it. Covers by-elections, party and name changes, vacancies, new addresses,
 * the guard, failures, the change log and the dashboard.
 */
import { resolve } from "node:path";
import { desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { seed } from "../../src/adapters/node/seed";
import { memberSyncs, members } from "../../src/db/schema";
import { expectStatus } from "../support/deps";
import { seededApp, signedIn, WINNER } from "../support/members";
import { seat } from "../support/members-api";
import { useMsw } from "../support/msw";

useMsw();

describe("out of the box", () => {
  it("starts with the 650 real MPs, by-election winners included, and their history in the change log", async () => {
    const t = await seededApp();
    expect(await t.memberOf("E14001350")).toMatchObject({
      status: "sitting",
      parliamentId: 1427,
      name: "Andy Burnham",
      email: "andy.burnham.mp@parliament.uk",
      since: "2026-06-18",
    });
    const log = await t.changes();
    // Five by-elections since July 2024; data/mps-former.csv names the MPs they replaced.
    expect(
      log
        .filter((c) => c.kind === "gained")
        .map((c) => c.code)
        .sort(),
    ).toEqual(["E14001251", "E14001350", "E14001455", "S14000061", "S14000066"].sort());
    expect(log.filter((c) => c.kind === "left")).toContainEqual(
      expect.objectContaining({
        code: "E14001455",
        parliamentId: 4667,
        memberName: "Mike Amesbury",
        after: "Sarah Pochin",
        effectiveOn: "2025-05-01",
      }),
    );
    const [sync] = await t.deps.db.select().from(memberSyncs);
    expect(log.filter((c) => c.kind === "left")).toHaveLength(5);
    expect(sync).toMatchObject({ trigger: "seed", source: "data/mps.csv", status: "applied", changes: 10 });
  });

  it("changes nothing when the Members API agrees with the data, reading contacts in small batches", async () => {
    const t = await seededApp();
    const outcome = await t.sync();
    expect(outcome).toMatchObject({
      status: "applied",
      membersReceived: 650,
      sitting: 650,
      vacant: 0,
      unmatched: [],
      seatsChanged: 0,
      changes: 0,
      contactsChecked: 10,
    });
    // 33 pages of 20, then 10 Contact requests.
    expect(t.api.control.calls.filter((c) => c.startsWith("/api/Members/Search"))).toHaveLength(33);
    expect(t.api.control.calls.filter((c) => c.endsWith("/Contact"))).toHaveLength(10);
    // The next run reads the four MPs without an address again (they may have published one),
    // then the least recently checked: six not read before.
    t.api.control.calls.length = 0;
    await t.sync();
    const second = t.api.control.calls.filter((c) => c.endsWith("/Contact"));
    expect(second).toHaveLength(10);
    for (const id of [3924, 54, 473, 4697]) expect(second).toContain(`/api/Members/${id}/Contact`);
    const [firstRun] = await t.deps.db
      .select({ n: memberSyncs.contactsChecked })
      .from(memberSyncs)
      .where(eq(memberSyncs.trigger, "cli"));
    expect(firstRun?.n).toBe(10);
    const checked = await t.deps.db.select({ at: members.emailCheckedAt }).from(members);
    expect(checked.filter((r) => r.at !== null)).toHaveLength(16);
  });

  it("brings an install seeded from the old election-day snapshot up to date on its next start", async () => {
    const t = await seededApp();
    // The old data/members.json: the 2024 winners, no Parliament ids, no addresses, no titles,
    // and no sync ever recorded (the tables are new).
    for (const [code, name] of [
      ["E14001251", "Andrew Gwynne"],
      ["E14001350", "Josh Simons"],
      ["E14001455", "Mike Amesbury"],
      ["S14000061", "Stephen Flynn"],
      ["S14000066", "Stephen Gethins"],
    ])
      t.sqlite.prepare("update members set name = ? where constituency_code = ?").run(name, code);
    t.sqlite.exec(`
      update members set parliament_id = null, email = null, since = null,
        name = replace(replace(replace(name, 'Sir ', ''), 'Ms ', ''), 'Mr ', '')
        where constituency_code <> 'Z00000001';
      delete from member_changes; delete from member_syncs;`);
    expect(await t.lookup("LS1 1AZ")).toMatchObject({ mp: { name: "Alex Sobel", contactable: false } });

    await seed(t.deps, resolve(ROOT_DIR, "data"));
    expect(await t.lookup("LS1 1AZ")).toMatchObject({ mp: { name: "Alex Sobel", contactable: true } });
    expect(await t.memberOf("E14001350")).toMatchObject({ name: "Andy Burnham", parliamentId: 1427 });
    // Only the by-elections are news: titles, parties and addresses filled in are not.
    const log = await t.changes();
    expect(log.map((c) => `${c.kind} ${c.memberName}`).sort()).toEqual(
      [
        "gained Andy Burnham",
        "gained Douglas Lumsden",
        "gained Hannah Spencer",
        "gained Lara Bird",
        "gained Sarah Pochin",
        "left Andrew Gwynne",
        "left Josh Simons",
        "left Mike Amesbury",
        "left Stephen Flynn",
        "left Stephen Gethins",
      ].sort(),
    );
    // Loaded once: the next start leaves it to the sync.
    await seed(t.deps, resolve(ROOT_DIR, "data"));
    expect(await t.deps.db.select().from(memberSyncs)).toHaveLength(1);
  });
});

describe("changes from the Members API", () => {
  it("applies a by-election: who left and who won go in the change log, and the new MP can be written to", async () => {
    const t = await seededApp();
    Object.assign(seat(t.api.control.roster, "Leeds Central and Headingley"), WINNER);
    const outcome = await t.sync();
    expect(outcome).toMatchObject({ status: "applied", seatsChanged: 1, changes: 2 });
    const recent = (await t.changes()).filter((c) => c.syncId === outcome.syncId);
    expect(recent).toEqual([
      expect.objectContaining({
        code: "E14001319",
        kind: "left",
        parliamentId: 4658,
        memberName: "Alex Sobel",
        after: "Jo Newton",
      }),
      expect.objectContaining({
        code: "E14001319",
        kind: "gained",
        parliamentId: 9001,
        memberName: "Jo Newton",
        before: "Alex Sobel",
        effectiveOn: "2026-11-19",
      }),
    ]);
    // The winner's contact details were read in this run (new MPs first), so letters can go at once.
    expect(t.api.control.calls).toContain("/api/Members/9001/Contact");
    expect(await t.lookup("LS1 1AZ")).toMatchObject({
      seat: "sitting",
      mp: { name: "Jo Newton", parliamentId: 9001, party: "Green Party", contactable: true },
    });
  });

  it("records a party change and a new display name for the same MP", async () => {
    const t = await seededApp();
    const abbott = seat(t.api.control.roster, "Hackney North and Stoke Newington");
    abbott.party = "Labour";
    abbott.name = "Diane Abbott";
    const outcome = await t.sync();
    expect(outcome).toMatchObject({ status: "applied", seatsChanged: 1, changes: 2 });
    expect((await t.changes()).filter((c) => c.syncId === outcome.syncId)).toEqual([
      expect.objectContaining({ kind: "party", parliamentId: 172, before: "Independent", after: "Labour" }),
      expect.objectContaining({
        kind: "name",
        parliamentId: 172,
        before: "Ms Diane Abbott",
        after: "Diane Abbott",
      }),
    ]);
    expect(await t.memberOf("E14001259")).toMatchObject({
      parliamentId: 172,
      party: "Labour",
      since: "2024-07-04",
    });
  });

  it("makes a seat vacant when its MP is no longer listed: the lookup says so and letters are refused", async () => {
    const t = await seededApp();
    // Clacton: left vacant by a resignation on 8 July 2026 (after the data's snapshot).
    t.api.control.roster = t.api.control.roster.filter((r) => r.constituency !== "Clacton");
    const outcome = await t.sync();
    expect(outcome).toMatchObject({ status: "applied", sitting: 649, vacant: 1, seatsChanged: 1 });
    expect((await t.changes()).filter((c) => c.syncId === outcome.syncId)).toEqual([
      expect.objectContaining({
        code: "E14001174",
        kind: "left",
        parliamentId: 5091,
        memberName: "Nigel Farage",
      }),
      expect.objectContaining({ code: "E14001174", kind: "vacant", before: "Nigel Farage" }),
    ]);
    expect(await t.memberOf("E14001174")).toMatchObject({
      status: "vacant",
      parliamentId: null,
      email: null,
    });
    const view = await expectStatus(await t.request("/api/constituencies/E14001174"), 200);
    expect(view).toMatchObject({ seat: "vacant", mp: null, notice: { code: "seat_vacant" } });
  });

  it("records a new address for the same MP", async () => {
    const t = await seededApp({ MEMBERS_SYNC_CONTACTS: "0" });
    seat(t.api.control.roster, "Leeds Central and Headingley").email = "alex.sobel.office@parliament.uk";
    const outcome = await t.sync({ allContacts: true });
    expect(outcome).toMatchObject({ status: "applied", seatsChanged: 1, contactsChecked: 650 });
    expect((await t.changes()).filter((c) => c.syncId === outcome.syncId)).toEqual([
      expect.objectContaining({
        kind: "email",
        parliamentId: 4658,
        before: "alex.sobel.mp@parliament.uk",
        after: "alex.sobel.office@parliament.uk",
      }),
    ]);
  });

  it("keeps a known address when Contact lists none or is down (a missing address never blanks one)", async () => {
    const t = await seededApp({ MEMBERS_SYNC_CONTACTS: "0" });
    seat(t.api.control.roster, "Leeds Central and Headingley").email = null;
    t.api.control.contactDown = new Set([5091]);
    const outcome = await t.sync({ allContacts: true });
    expect(outcome).toMatchObject({ status: "applied", changes: 0 });
    expect(await t.memberOf("E14001319")).toMatchObject({ email: "alex.sobel.mp@parliament.uk" });
    expect(await t.memberOf("E14001174")).toMatchObject({ email: "nigel.farage.mp@parliament.uk" });
  });
});

describe("the guard", () => {
  it("refuses an answer that would change an implausible share of seats, writes nothing, and says so", async () => {
    const t = await seededApp();
    // A broken upstream that lists only half the House, consistently (totalResults agrees).
    t.api.control.roster = t.api.control.roster.slice(0, 325);
    const before = await t.deps.db.select().from(members);
    const outcome = await t.sync();
    expect(outcome).toMatchObject({ status: "refused", seatsChanged: 325, membersReceived: 325 });
    expect(outcome.detail).toMatch(/would change 325 of 650 seats, more than the 65 allowed/);
    expect(await t.deps.db.select().from(members)).toEqual(before);
    const [row] = await t.deps.db.select().from(memberSyncs).orderBy(desc(memberSyncs.finishedAt)).limit(1);
    expect(row).toMatchObject({ status: "refused", seatsChanged: 325, changes: 0 });

    const get = await signedIn(t);
    const page = (await expectStatus(await get("/admin"), 200)) as string;
    expect(page).toContain("The latest members sync was refused");
    expect(page).toContain("would change 325 of 650 seats");
  });

  it("applies the same answer with force (after a general election), and records that it was forced", async () => {
    const t = await seededApp();
    t.api.control.roster = t.api.control.roster.slice(0, 325);
    expect(await t.sync({ force: true })).toMatchObject({ status: "applied", forced: true, vacant: 325 });
  });

  it("follows MEMBERS_SYNC_MAX_CHANGED_SHARE, but always allows a handful of seats", async () => {
    const t = await seededApp({ MEMBERS_SYNC_MAX_CHANGED_SHARE: "0.001" });
    for (const [i, name] of ["Aldershot", "Clacton", "Ipswich"].entries())
      Object.assign(seat(t.api.control.roster, name), { id: 9100 + i, name: `New MP ${i}` });
    expect(await t.sync()).toMatchObject({ status: "applied", seatsChanged: 3 });
    for (const [i, name] of [
      "Aldridge-Brownhills",
      "Altrincham and Sale West",
      "Amber Valley",
      "Arundel and South Downs",
      "Ashfield",
      "Ashford",
    ].entries())
      Object.assign(seat(t.api.control.roster, name), { id: 9200 + i, name: `Newer MP ${i}` });
    expect(await t.sync()).toMatchObject({ status: "refused", seatsChanged: 6 });
  });

  it("records a failed sync, changing nothing, when the API is down, partial or empty", async () => {
    const t = await seededApp();
    const before = await t.deps.db.select().from(members);
    t.api.control.searchStatus = 500;
    expect(await t.sync()).toMatchObject({ status: "failed", membersReceived: null });
    const get = await signedIn(t);
    expect(await expectStatus(await get("/admin"), 200)).toContain("The latest members sync failed");
    t.api.control.searchStatus = undefined;
    t.api.control.announce = 651;
    expect((await t.sync()).detail).toMatch(/partial list: 650 of the 651/);
    t.api.control.announce = undefined;
    t.api.control.roster = [];
    expect((await t.sync()).detail).toMatch(/listed no MPs at all/);
    expect(await t.deps.db.select().from(members)).toEqual(before);
    const statuses = await t.deps.db
      .select({ s: memberSyncs.status })
      .from(memberSyncs)
      .where(eq(memberSyncs.trigger, "cli"));
    expect(statuses.map((r) => r.s)).toEqual(["failed", "failed", "failed"]);
  });
});

describe("dashboard", () => {
  it("shows when the MPs were last synced, the seats without an address, and the recent changes", async () => {
    const t = await seededApp();
    Object.assign(seat(t.api.control.roster, "Leeds Central and Headingley"), WINNER);
    await t.sync();
    const get = await signedIn(t);
    const page = (await expectStatus(await get("/admin"), 200)) as string;
    expect(page).toMatch(
      /Last synced from the UK Parliament Members API: <strong>2026-11-23 10:00 UTC<\/strong>/,
    );
    expect(page).toContain("Jo Newton took the seat from Alex Sobel");
    expect(page).toContain("Alex Sobel left the seat");
    // From the data: a by-election of 2025.
    expect(page).toContain("Sarah Pochin took the seat from Mike Amesbury");
    // The four MPs Parliament lists no address for.
    expect(page).toMatch(/MPs without an email address <strong>4<\/strong>/);
    expect(page).toContain("Órfhlaith Begley (West Tyrone)");
    expect(page).not.toContain("The latest members sync");
  });
});
