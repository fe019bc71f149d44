/**
 * Keeping the MSPs, MSs and MLAs current: the sync of each devolved parliament against stand-ins
 * of its official data in the real shapes (tests/support/devolved-api.ts), over a database seeded
 * from data/ exactly as `npm start` seeds it. The same change log and guard as the MPs' sync.
 */
import { and, desc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { devolvedMembers, memberChanges, memberSyncs } from "../../src/db/schema";
import type { DevolvedBody } from "../../src/db/schema.devolved";
import { expectStatus } from "../support/deps";
import { person } from "../support/devolved-api";
import { seededApp, signedIn } from "../support/members";
import { useMsw } from "../support/msw";

useMsw();

async function held(t: Awaited<ReturnType<typeof seededApp>>, body: DevolvedBody) {
  return t.deps.db.select().from(devolvedMembers).where(eq(devolvedMembers.body, body));
}

async function changesOf(t: Awaited<ReturnType<typeof seededApp>>, body: DevolvedBody) {
  return t.deps.db
    .select({
      kind: memberChanges.kind,
      area: memberChanges.areaCode,
      memberName: memberChanges.memberName,
      parliamentId: memberChanges.parliamentId,
      before: memberChanges.before,
      after: memberChanges.after,
    })
    .from(memberChanges)
    .where(eq(memberChanges.body, body))
    .orderBy(memberChanges.id);
}

describe("out of the box", () => {
  it("holds the 129 MSPs (with the Parliament's ids and addresses), 96 MSs and 90 MLAs, and their areas", async () => {
    const t = await seededApp();
    const msps = await held(t, "scottish_parliament");
    expect(msps).toHaveLength(129);
    expect(msps.every((m) => m.sourceId !== null && m.email?.endsWith("@parliament.scot"))).toBe(true);
    expect(msps.filter((m) => m.areaCode.startsWith("S17"))).toHaveLength(56);
    // The shipped Senedd and Assembly lists have no ids and no addresses: shown, not contactable.
    for (const body of ["senedd", "ni_assembly"] as const) {
      const rows = await held(t, body);
      expect(rows).toHaveLength(body === "senedd" ? 96 : 90);
      expect(
        rows.every((m) => m.sourceId === null && m.email === null && m.contactUrl?.startsWith("https://")),
      ).toBe(true);
    }
    const seeds = await t.deps.db.select().from(memberSyncs).where(eq(memberSyncs.trigger, "seed"));
    expect(seeds.map((s) => [s.body, s.source, s.status]).sort()).toEqual(
      [
        ["ni_assembly", "data/devolved/mlas.csv", "applied"],
        ["scottish_parliament", "data/devolved/msps.csv", "applied"],
        ["senedd", "data/devolved/mss.csv", "applied"],
        ["uk_parliament", "data/mps.csv", "applied"],
      ].sort(),
    );
    // A baseline, not news: nothing in the devolved change log.
    expect(await changesOf(t, "scottish_parliament")).toEqual([]);
  });
});

describe("the Scottish Parliament's open data", () => {
  it("changes nothing when it agrees with the data, reading all nine datasets (old areas and stale rows ignored)", async () => {
    const t = await seededApp();
    const outcome = await t.syncBody("scottish_parliament");
    expect(outcome).toMatchObject({
      status: "applied",
      membersReceived: 129,
      sitting: 129,
      vacant: 0,
      unmatched: [],
      seatsChanged: 0,
      changes: 0,
    });
    expect(t.devolved.control.calls.filter((c) => c.startsWith("/api/")).sort()).toEqual(
      [
        "/api/MemberElectionConstituencyStatuses",
        "/api/MemberElectionregionStatuses",
        "/api/constituencies",
        "/api/emailaddresses",
        "/api/memberparties",
        "/api/members",
        "/api/parties",
        "/api/regions",
        "/api/websites",
      ].sort(),
    );
    // The member's own page from the Parliament's websites dataset.
    const [slater] = await t.deps.db
      .select()
      .from(devolvedMembers)
      .where(eq(devolvedMembers.sourceId, 16215));
    expect(slater).toMatchObject({
      name: "Lorna Slater",
      email: "Lorna.Slater.msp@parliament.scot",
      contactUrl: "https://www.parliament.scot/msps/current-and-previous-msps/lorna-slater",
    });
  });

  it("logs a regional MSP's resignation and successor, a party change and a new address; the lookup follows", async () => {
    const t = await seededApp();
    const list = t.devolved.control.msps;
    const leaving = person(list, "Iris Duane");
    list.splice(list.indexOf(leaving), 1, {
      ...leaving,
      id: 30001,
      name: "Morag Successor",
      email: "Morag.Successor.msp@parliament.scot",
      since: "2026-11-20",
    });
    person(list, "Bob Doris").party = "Independent";
    person(list, "Lorna Slater").email = "lorna.slater.new@parliament.scot";
    const outcome = await t.syncBody("scottish_parliament");
    expect(outcome).toMatchObject({ status: "applied", seatsChanged: 4, changes: 4 });
    expect(await changesOf(t, "scottish_parliament")).toEqual(
      expect.arrayContaining([
        {
          kind: "left",
          area: "S17000023",
          memberName: "Iris Duane",
          parliamentId: 21001,
          before: "Iris Duane",
          after: null,
        },
        {
          kind: "gained",
          area: "S17000023",
          memberName: "Morag Successor",
          parliamentId: 30001,
          before: null,
          after: "Morag Successor",
        },
        {
          kind: "party",
          area: "S16000199",
          memberName: "Bob Doris",
          parliamentId: 3771,
          before: "Scottish National Party",
          after: "Independent",
        },
        {
          kind: "email",
          area: "S16000182",
          memberName: "Lorna Slater",
          parliamentId: 16215,
          before: "Lorna.Slater.msp@parliament.scot",
          after: "lorna.slater.new@parliament.scot",
        },
      ]),
    );
    // EH1 2NG is in Edinburgh Central (Edinburgh and Lothians East); G78 1TW's area is unknown offline.
    const answer = await t.lookup("EH1 2NG");
    expect(answer.devolved?.members.map((m) => m.name)).toEqual(["Lorna Slater"]);
    expect(answer.devolved?.regionalMembers).toHaveLength(7);
  });

  it("records a failed sync, changing nothing, when the Parliament's API is down", async () => {
    const t = await seededApp({ UPSTREAM_RETRIES: "0" });
    t.devolved.control.down.add("scottish");
    const outcome = await t.syncBody("scottish_parliament");
    expect(outcome.status).toBe("failed");
    expect(outcome.detail).toMatch(/Scottish Parliament data could not be read/);
    expect(await held(t, "scottish_parliament")).toHaveLength(129);
    const [last] = await t.deps.db
      .select()
      .from(memberSyncs)
      .where(eq(memberSyncs.body, "scottish_parliament"))
      .orderBy(desc(memberSyncs.finishedAt))
      .limit(1);
    expect(last).toMatchObject({ status: "failed", source: "scottish-parliament", trigger: "cli" });
  });
});

describe("the Senedd's members service", () => {
  it("fills in the Senedd's ids and addresses on the first sync, matching the shipped list by name (and surname and party)", async () => {
    const t = await seededApp();
    // The Senedd lists him as "Joe Martin"; data/devolved/mss.csv has "Joseph Martin".
    person(t.devolved.control.mss, "Joseph Martin").name = "Joe Martin";
    const outcome = await t.syncBody("senedd");
    expect(outcome).toMatchObject({ status: "applied", membersReceived: 96, sitting: 96, unmatched: [] });
    const rows = await held(t, "senedd");
    expect(rows.every((r) => r.sourceId !== null && r.email?.endsWith("@senedd.wales"))).toBe(true);
    expect(rows.find((r) => r.name === "Joe Martin")?.contactUrl).toMatch(
      /^https:\/\/business\.senedd\.wales\/mgUserInfo\.aspx\?UID=\d+$/,
    );
    // Same person, new name: a "name" change, not a departure.
    const log = await changesOf(t, "senedd");
    expect(log.filter((c) => c.kind === "left" || c.kind === "gained")).toEqual([]);
    expect(log).toContainEqual(
      expect.objectContaining({ kind: "name", before: "Joseph Martin", after: "Joe Martin" }),
    );
    // The lookup now offers them as contactable.
    const answer = await t.lookup("CF10 1AA");
    expect(answer.devolved?.members).toHaveLength(6);
    expect(answer.devolved?.members.every((m) => m.contactable)).toBe(true);
    // Home addresses are never read.
    expect(JSON.stringify(rows)).not.toContain("example.org");
  });

  it("refuses an answer missing three constituencies (18 MSs) and writes nothing; applies it with force", async () => {
    const t = await seededApp();
    await t.syncBody("senedd");
    const missing = new Set(["Caerdydd Penarth", "Clwyd", "Sir Gaerfyrddin"]);
    t.devolved.control.mss = t.devolved.control.mss.filter((m) => !missing.has(m.area));
    const refused = await t.syncBody("senedd");
    expect(refused).toMatchObject({ status: "refused", seatsChanged: 18 });
    expect(refused.detail).toMatch(/would change 18 of 96 MSs, more than the 9 allowed/);
    expect(refused.detail).toMatch(/sync:members --body senedd --force/);
    expect(await held(t, "senedd")).toHaveLength(96);
    const forced = await t.syncBody("senedd", { force: true });
    expect(forced).toMatchObject({ status: "applied", forced: true, sitting: 78, vacant: 18 });
    const log = await changesOf(t, "senedd");
    expect(log.filter((c) => c.kind === "left")).toHaveLength(18);
    expect(
      log
        .filter((c) => c.kind === "vacant")
        .map((c) => c.area)
        .sort(),
    ).toEqual(["W09000053", "W09000056", "W09000063"].sort());
  });

  it("records a failed sync when the service answers an error page", async () => {
    const t = await seededApp({ UPSTREAM_RETRIES: "0" });
    t.devolved.control.down.add("senedd");
    expect(await t.syncBody("senedd")).toMatchObject({ status: "failed", membersReceived: null });
    expect(await held(t, "senedd")).toHaveLength(96);
  });
});

describe("the Northern Ireland Assembly's open data", () => {
  it("reads the Assembly's ids and mailboxes (its EmaiAddress field), the MLA's own before the office's", async () => {
    const t = await seededApp();
    const outcome = await t.syncBody("ni_assembly");
    // Confirming the shipped list: ids and addresses filled in, nothing changed, the guard untouched.
    expect(outcome).toMatchObject({
      status: "applied",
      membersReceived: 90,
      sitting: 90,
      seatsChanged: 0,
      changes: 0,
    });
    const kelly = (await held(t, "ni_assembly")).find((m) => m.name === "Gerry Kelly");
    expect(kelly).toMatchObject({
      email: "Gerry.Kelly@mla.niassembly.gov.uk",
      contactUrl: expect.stringMatching(/^https:\/\/aims\.niassembly\.gov\.uk\/mlas\/details\.aspx\?per=\d+/),
    });
  });

  it("keeps the addresses it holds when the contact details are unavailable", async () => {
    const t = await seededApp({ UPSTREAM_RETRIES: "0" });
    await t.syncBody("ni_assembly");
    t.devolved.control.down.add("ni-contacts");
    person(t.devolved.control.mlas, "Gerry Kelly").party = "Independent";
    const outcome = await t.syncBody("ni_assembly");
    expect(outcome).toMatchObject({ status: "applied", changes: 1 });
    const kelly = (await held(t, "ni_assembly")).find((m) => m.name === "Gerry Kelly");
    expect(kelly).toMatchObject({ party: "Independent", email: "Gerry.Kelly@mla.niassembly.gov.uk" });
  });

  it("records a failed sync when the Assembly lists no members", async () => {
    const t = await seededApp();
    t.devolved.control.mlas = [];
    expect(await t.syncBody("ni_assembly")).toMatchObject({ status: "failed" });
    expect(await held(t, "ni_assembly")).toHaveLength(90);
  });
});

describe("dashboard", () => {
  it("shows each parliament's members: last sync, seats without an address, refusals and changes", async () => {
    const t = await seededApp();
    const list = t.devolved.control.msps;
    const leaving = person(list, "Iris Duane");
    list.splice(list.indexOf(leaving), 1, { ...leaving, id: 30001, name: "Morag Successor" });
    await t.syncBody("scottish_parliament");
    t.devolved.control.mss = t.devolved.control.mss.slice(0, 40);
    await t.syncBody("senedd");
    const get = await signedIn(t);
    const page = (await expectStatus(await get("/admin"), 200)) as string;
    expect(page).toMatch(
      /Last synced from the Scottish Parliament&#x27;s open data: <strong>2026-11-23 10:00 UTC<\/strong>/,
    );
    expect(page).toContain("Morag Successor took a seat");
    expect(page).toContain("Iris Duane left the seat");
    expect(page).toContain("The latest members sync of the MSs was refused");
    expect(page).toMatch(/MLAs without an email address <strong>90<\/strong>/);
    expect(page).toMatch(/Seats with an MSP <strong>129<\/strong>/);
    expect(page).not.toContain("The latest members sync of the MSPs");
    const [change] = await t.deps.db
      .select()
      .from(memberChanges)
      .where(and(eq(memberChanges.body, "scottish_parliament"), eq(memberChanges.kind, "gained")));
    expect(change).toMatchObject({ constituencyCode: null, areaCode: "S17000023" });
  });
});
