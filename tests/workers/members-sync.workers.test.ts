/**
 * The daily members sync cron in the real Workers runtime (workerd via Miniflare) over local D1
 * seeded from data/. The Members API is answered at the HTTP boundary in its real shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contactBody, dataRoster, searchPage } from "../support/members-api";
import { startWorker, type TestWorker } from "./support";

const MEMBERS_API = "http://members.test";
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
    bindings: { MEMBERS_API_URL: MEMBERS_API, UPSTREAM_RETRIES: "0", MEMBERS_SYNC_CONTACTS: "20" },
    outbound(call) {
      const url = new URL(call.url);
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
