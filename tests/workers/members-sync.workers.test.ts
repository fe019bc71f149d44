/**
 * The daily members sync cron in the real Workers runtime (workerd via Miniflare) over local D1
 * seeded from data/. The Members API is answered at the HTTP boundary in its real shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlas, msps, mss, niJson, scottishDatasets, seneddXml } from "../support/devolved-api";
import { contactBody, dataRoster, searchPage } from "../support/members-api";
import { startWorker, type TestWorker } from "./support";

const MEMBERS_API = "http://members.test";
/** The devolved parliaments' sources (SCOTTISH_PARLIAMENT_API_URL, SENEDD_API_URL, NI_ASSEMBLY_API_URL). */
const SCOTTISH_API = "http://scotparl.test/api";
const SENEDD_API = "http://senedd.test";
const NI_API = "http://niassembly.test";
// Stand-ins in the real shapes (tests/support/devolved-api.ts); one MSP has resigned.
const scottish = scottishDatasets(msps().filter((m) => m.name !== "Lorna Slater")) as Record<string, unknown>;
const senedd = seneddXml(mss());
const ni = niJson(mlas());
/** wrangler.toml [triggers] and MEMBERS_SYNC_CRON in src/adapters/workers/worker.ts. */
const SYNC_CRON = "23 5 * * *";

// Clacton is vacant (a resignation after the data's snapshot); Leeds Central has a by-election winner.
const roster = dataRoster().filter((r) => r.constituency !== "Clacton");
Object.assign(roster.find((r) => r.constituency === "Leeds Central and Headingley") ?? {}, {
  id: 9001,
  name: "Jo Newton",
  email: "jo.newton.mp@parliament.uk",
  since: "2026-11-19",
});

let w: TestWorker;
beforeAll(async () => {
  w = await startWorker({
    bindings: {
      MEMBERS_API_URL: MEMBERS_API,
      SCOTTISH_PARLIAMENT_API_URL: SCOTTISH_API,
      SENEDD_API_URL: SENEDD_API,
      NI_ASSEMBLY_API_URL: NI_API,
      UPSTREAM_RETRIES: "0",
      MEMBERS_SYNC_CONTACTS: "20",
    },
    outbound(call) {
      const url = new URL(call.url);
      if (call.url.startsWith(`${SCOTTISH_API}/`)) {
        const body = scottish[url.pathname.split("/").pop() ?? ""];
        return body ? Response.json(body) : Response.json({ message: "Not found" }, { status: 404 });
      }
      if (call.url.startsWith(`${SENEDD_API}/mgwebservice.asmx/GetCouncillorsByWard`))
        return new Response(senedd, { headers: { "content-type": "text/xml; charset=utf-8" } });
      if (url.pathname === "/members.asmx/GetAllCurrentMembers_JSON" && url.origin === NI_API)
        return Response.json(ni.members);
      if (url.pathname === "/members.asmx/GetAllMemberContactDetails_JSON" && url.origin === NI_API)
        return Response.json(ni.contacts);
      if (url.origin !== MEMBERS_API) return undefined;
      if (url.pathname === "/api/Members/Search") {
        const skip = Number(url.searchParams.get("skip"));
        return Response.json(searchPage(roster, skip, Number(url.searchParams.get("take"))));
      }
      const id = /^\/api\/Members\/(\d+)\/Contact$/.exec(url.pathname)?.[1];
      const member = roster.find((r) => String(r.id) === id);
      return member ? Response.json(contactBody(member)) : new Response("not found", { status: 404 });
    },
  });
});
afterAll(() => w?.dispose());

describe("members sync cron on Workers + D1", () => {
  it("is listed in wrangler.toml's triggers", async () => {
    const toml = await import("node:fs").then((fs) => fs.readFileSync("wrangler.toml", "utf8"));
    expect(toml).toMatch(/crons = \[[^\]]*"23 5 \* \* \*"/);
  });

  it("applies the Members API's answer to D1, logging each change, within the Worker's request budget", async () => {
    expect(await w.scheduled(SYNC_CRON)).toMatchObject({ outcome: "ok" });
    expect(w.unhandled).toEqual([]);
    const searches = w.calls.filter((c) => c.url.includes("/api/Members/Search"));
    const contacts = w.calls.filter((c) => c.url.endsWith("/Contact"));
    expect(searches).toHaveLength(33);
    expect(contacts).toHaveLength(20);
    // The new MP's address is read first.
    expect(contacts[0]?.url).toBe(`${MEMBERS_API}/api/Members/9001/Contact`);

    const sync = await w.db
      .prepare("select trigger, status, seats_changed, changes from member_syncs where trigger = 'cron'")
      .first();
    expect(sync).toEqual({ trigger: "cron", status: "applied", seats_changed: 2, changes: 4 });
    const seats = await w.db
      .prepare(
        "select constituency_code, status, name, email from members where constituency_code in ('E14001174','E14001319') order by 1",
      )
      .all();
    expect(seats.results).toEqual([
      { constituency_code: "E14001174", status: "vacant", name: null, email: null },
      {
        constituency_code: "E14001319",
        status: "sitting",
        name: "Jo Newton",
        email: "jo.newton.mp@parliament.uk",
      },
    ]);
    const body = (await (await w.fetch("/api/lookup?postcode=LS1%201AZ")).json()) as {
      mp: { name: string; contactable: boolean };
    };
    expect(body.mp).toMatchObject({ name: "Jo Newton", contactable: true });
  });

  it("syncs the MSPs, MSs and MLAs in the same cron run, from each parliament's data", async () => {
    const syncs = await w.db
      .prepare("select body, status, changes from member_syncs where trigger = 'cron' order by body")
      .all();
    expect(syncs.results).toEqual([
      { body: "ni_assembly", status: "applied", changes: 0 },
      { body: "scottish_parliament", status: "applied", changes: 2 },
      { body: "senedd", status: "applied", changes: 0 },
      { body: "uk_parliament", status: "applied", changes: 4 },
    ]);
    expect(w.unhandled).toEqual([]);
    const logged = await w.db
      .prepare(
        "select kind, area_code, member_name from member_changes where body = 'scottish_parliament' order by kind",
      )
      .all();
    expect(logged.results).toEqual([
      { kind: "left", area_code: "S16000182", member_name: "Lorna Slater" },
      { kind: "vacant", area_code: "S16000182", member_name: null },
    ]);
    // The Senedd's and the Assembly's addresses are filled in (the shipped lists have none).
    const filled = await w.db
      .prepare(
        "select body, count(*) n from devolved_members where email is not null group by body order by body",
      )
      .all();
    expect(filled.results).toEqual([
      { body: "ni_assembly", n: 90 },
      { body: "scottish_parliament", n: 128 },
      { body: "senedd", n: 96 },
    ]);
    const body = (await (await w.fetch("/api/lookup?postcode=EH1%202NG")).json()) as {
      devolved: { constituency: { name: string }; members: unknown[] };
    };
    expect(body.devolved).toMatchObject({ constituency: { name: "Edinburgh Central" }, members: [] });
  });

  it("does nothing when MEMBERS_SYNC_INTERVAL_HOURS=0", async () => {
    const off = await startWorker({
      bindings: { MEMBERS_SYNC_INTERVAL_HOURS: "0", MEMBERS_API_URL: MEMBERS_API },
    });
    try {
      expect(await off.scheduled(SYNC_CRON)).toMatchObject({ outcome: "ok" });
      expect(off.calls).toEqual([]);
      expect(
        await off.db.prepare("select count(*) n from member_syncs where trigger = 'cron'").first(),
      ).toEqual({ n: 0 });
    } finally {
      await off.dispose();
    }
  });
});
