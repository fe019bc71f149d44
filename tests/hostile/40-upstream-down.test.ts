/**
 * HOSTILE 40: postcodes.io times out, returns 500 or 429 -> a friendly retry answer, a circuit
 * breaker stops hammering it, local data keeps answering, and forms keep what the supporter typed.
 * Findings: no circuit breaker for postcodes.io; the site's pledge form lost what was typed.
 */
import { delay, HttpResponse, http } from "msw";
import { afterEach, describe, expect, it } from "vitest";
import { supporterPledges } from "../../src/db/schema";
import { expectStatus, testApp } from "../support/deps";
import { MEMBERS_API, POSTCODES_IO, seedLookup } from "../support/lookup-data";
import { useMsw } from "../support/msw";
import { form } from "../support/pledges";

const server = useMsw();
afterEach(() => server.events.removeAllListeners());

/** NW1 6LG is not in the local table: only postcodes.io can answer it. SW1A 1AA is local. */
const REMOTE = "NW1 6LG";
const LOCAL = "SW1A 1AA";

async function app(env: Record<string, string> = {}) {
  const t = testApp({ UPSTREAM_RETRIES: "0", UPSTREAM_BREAKER_FAILURES: "3", ...env });
  await seedLookup(t.deps);
  const calls: string[] = [];
  server.events.on("request:start", ({ request }) => void calls.push(request.url));
  return { ...t, calls, lookup: (pc: string) => t.request(`/api/lookup?postcode=${encodeURIComponent(pc)}`) };
}

const failures = {
  "500": () => HttpResponse.json({ status: 500, error: "boom" }, { status: 500 }),
  "429": () => HttpResponse.json({ status: 429, error: "slow down" }, { status: 429 }),
  timeout: async () => {
    await delay(2_000);
    return HttpResponse.json({});
  },
} as const;

describe("40: postcodes.io failing", () => {
  it.each(Object.keys(failures) as (keyof typeof failures)[])(
    "%s: a friendly 503 with Retry-After; after 3 failures the breaker stops calling it; local postcodes answer",
    async (kind) => {
      server.use(http.get(`${POSTCODES_IO}/*`, failures[kind]));
      const t = await app({ UPSTREAM_TIMEOUT_MS: "100" });
      for (let i = 0; i < 3; i++) {
        const res = await t.lookup(REMOTE);
        const problem = (await expectStatus(res, 503)) as { code: string; detail: string };
        expect(problem.code).toBe("upstream_unavailable");
        expect(problem.detail).toMatch(/postcodes\.io is not answering/);
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
      }
      const before = t.calls.length;
      expect(before).toBe(3);
      // Open: twenty more lookups, not one more call upstream, each answered at once.
      for (let i = 0; i < 20; i++) {
        const res = await t.lookup(REMOTE);
        expect(((await expectStatus(res, 503)) as { detail: string }).detail).toMatch(/giving it a rest/);
        expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(30);
      }
      expect(t.calls.length).toBe(before);
      // Local data never needed postcodes.io.
      await expectStatus(await t.lookup(LOCAL), 200);
    },
  );

  it("lets one probe through after the cool-down and closes again when postcodes.io is back", async () => {
    server.use(http.get(`${POSTCODES_IO}/*`, failures["500"]));
    const t = await app({ UPSTREAM_BREAKER_COOLDOWN_SECONDS: "30" });
    for (let i = 0; i < 3; i++) await expectStatus(await t.lookup(REMOTE), 503);
    t.clock.advance(31_000);
    server.resetHandlers();
    const { postcodesIoHandlers, membersApiHandlers } = await import("../support/lookup-data");
    server.use(...postcodesIoHandlers(), ...membersApiHandlers());
    await expectStatus(await t.lookup(REMOTE), 200);
  });

  it("the Members API has its own breaker: the lookup still answers from local data, without the MP", async () => {
    server.use(http.get(`${MEMBERS_API}/*`, failures["500"]), http.get(`${POSTCODES_IO}/*`, failures["500"]));
    const t = await app({ UPSTREAM_BREAKER_FAILURES: "1" });
    // A seat we hold without an MP row asks the Members API; it fails, the answer still comes.
    const { SEATS } = await import("../support/lookup-data");
    t.sqlite.prepare("delete from members where constituency_code = ?").run(SEATS.citiesOfLondon.ons_code);
    const first = (await expectStatus(await t.lookup(LOCAL), 200)) as { seat: string };
    expect(first.seat).toBe("unknown");
    const calls = t.calls.length;
    await expectStatus(await t.lookup(LOCAL), 200);
    expect(t.calls.length).toBe(calls);
  });

  it("the site's pledge form keeps everything typed when postcodes.io fails", async () => {
    server.use(http.get(`${POSTCODES_IO}/*`, failures["500"]));
    const t = await app();
    const fields = {
      name: "Zoë Ó Briain",
      email: "zoe@example.org",
      postcode: REMOTE,
      pledgeConsent: "pledge-2026-11",
      updatesConsent: "updates-2026-11",
    };
    const res = await t.request("/pledge", form(fields, { accept: "text/html", origin: "http://localhost" }));
    const html = await res.text();
    expect(res.status, html).toBe(503);
    expect(res.headers.get("retry-after")).toBeTruthy();
    expect(html).toContain("postcodes.io is not answering");
    expect(html).toContain('value="Zoë Ó Briain"');
    expect(html).toContain('value="zoe@example.org"');
    expect(html).toContain(`value="${REMOTE}"`);
    expect(html).toMatch(/id="pledge-consent"[^>]*checked/);
    expect(html).toMatch(/id="pledge-updates"[^>]*checked/);
    expect(await t.deps.db.select().from(supporterPledges)).toEqual([]);
  });

  it("the journey's postcode step keeps the postcode typed", async () => {
    server.use(http.get(`${POSTCODES_IO}/*`, failures["500"]));
    const t = await app();
    const find = await t.request(`/find?postcode=${encodeURIComponent(REMOTE)}`, {
      headers: { accept: "text/html" },
    });
    expect(find.status).toBe(503);
    expect(await find.text()).toContain(`value="${REMOTE}"`);
  });
});
