/**
 * GET /api/lookup and /api/constituencies/:code through the real app, over in-memory SQLite
 * with the real migrations, seeded through the import verbs. postcodes.io and the Members API
 * are msw handlers serving bodies in their real shapes; any other request fails the test.
 */
import { delay, HttpResponse, http } from "msw";
import { afterEach, describe, expect, it } from "vitest";
import { importCandidatesCsv } from "../../src/adapters/node/importers";
import { importPostcodeBatch, TEST_SEAT } from "../../src/modules/lookup/lookup.import";
import { expectStatus, testApp } from "../support/deps";
import {
  fixturePath,
  LOCAL_POSTCODES,
  MEMBERS_API,
  membersApiHandlers,
  POSTCODES_IO,
  postcodesIoHandlers,
  SEATS,
  seedLookup,
} from "../support/lookup-data";
import { useMsw } from "../support/msw";

const server = useMsw();
afterEach(() => server.events.removeAllListeners());

async function seededApp(env: Record<string, string> = {}, opts: { members?: boolean } = {}) {
  const t = testApp(env);
  await seedLookup(t.deps, opts);
  const lookup = (postcode: string) => t.request(`/api/lookup?postcode=${encodeURIComponent(postcode)}`);
  return { ...t, lookup };
}

/** Record every upstream request without answering it: for "no request was made". */
function watchUpstream() {
  const seen: string[] = [];
  server.events.on("request:start", ({ request }) => void seen.push(request.url));
  return seen;
}

type Problem = { code: string; status: number; detail: string; requestId?: string; errors?: unknown[] };

describe("lookup from the local postcode table", () => {
  it("answers a local postcode with its constituency and MP, without asking anyone", async () => {
    const { lookup } = await seededApp();
    const upstream = watchUpstream();
    const body = await expectStatus(await lookup("GU14 7JU"), 200);
    expect(body).toMatchObject({
      postcode: "GU14 7JU",
      source: "local",
      constituency: { code: "E14001063", name: "Aldershot", nation: "England", region: "South East" },
      seat: "sitting",
      mp: { parliamentId: 5215, name: "Alex Baker", party: "Labour", contactable: false },
      election: null,
    });
    expect(upstream).toEqual([]);
  });

  it.each([
    ["  sw1a\t1aa ", "SW1A 1AA"],
    ["SW1A1AA", "SW1A 1AA"],
    ["sw1a 1aa", "SW1A 1AA"],
    ["SW1A\u00a01AA", "SW1A 1AA"],
    ["S W 1 A 1 A A", "SW1A 1AA"],
    ["gu14  7ju", "GU14 7JU"],
  ])("normalises %j to %s", async (input, normal) => {
    const { lookup } = await seededApp();
    expect(await expectStatus(await lookup(input), 200)).toMatchObject({ postcode: normal, source: "local" });
  });

  it.each([
    ["Aberdeen North", "AB16 9UH", "Kirsty Blackman", "Scottish National Party"],
    ["Aberafan Maesteg", "SA13 1PJ", "Stephen Kinnock", "Labour"],
    ["Cities of London and Westminster", "SW1A 1AA", "Rachel Blake", "Labour (Co-op)"],
  ])("finds the MP for %s from a local postcode", async (seat, postcode, mp, party) => {
    const { lookup } = await seededApp();
    expect(await expectStatus(await lookup(postcode), 200)).toMatchObject({
      constituency: { name: seat },
      seat: "sitting",
      mp: { name: mp, party },
    });
  });

  it("maps the test postcode ZZ9 9ZZ to the test MP, who can be written to", async () => {
    const { lookup } = await seededApp();
    expect(await expectStatus(await lookup("zz99zz"), 200)).toMatchObject({
      postcode: "ZZ9 9ZZ",
      source: "local",
      constituency: { code: TEST_SEAT.onsCode, name: TEST_SEAT.name },
      seat: "sitting",
      mp: { name: TEST_SEAT.mpName, contactable: true },
    });
  });

  it("answers a vacant seat with 200, no MP and a seat_vacant notice", async () => {
    const { lookup } = await seededApp();
    const body = await expectStatus(await lookup("BT4 3XX"), 200);
    expect(body).toMatchObject({
      constituency: { code: "N05000001", name: "Belfast East", nation: "Northern Ireland" },
      seat: "vacant",
      mp: null,
      notice: { code: "seat_vacant" },
    });
  });

  it("answers a postcode the local table marks terminated with 410 postcode_terminated", async () => {
    const { lookup } = await seededApp();
    const upstream = watchUpstream();
    const res = await lookup("AB1 0AA");
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await expectStatus(res, 410)).toMatchObject({ code: "postcode_terminated", status: 410 });
    expect(upstream).toEqual([]);
  });

  it("answers a local postcode that lies in no Westminster seat with 404 postcode_not_found", async () => {
    const { deps, lookup } = await seededApp();
    await importPostcodeBatch(deps, [{ postcode: "TR21 0PP", constituencyCode: null, terminated: false }]);
    expect(await expectStatus(await lookup("TR21 0PP"), 404)).toMatchObject({ code: "postcode_not_found" });
  });
});

describe("input that gets a distinct problem", () => {
  it.each([
    ["empty", ""],
    ["only spaces", "   "],
    ["digits only", "123456"],
    ["too long", "SW1A 1AAA"],
    ["a whole address line", "SW1A 1AA, London"],
    ["words", "hello"],
  ])("rejects %s with 400 postcode_malformed and asks no one", async (_what, input) => {
    const { lookup } = await seededApp();
    const upstream = watchUpstream();
    const body = (await expectStatus(await lookup(input), 400)) as Problem;
    expect(body).toMatchObject({ code: "postcode_malformed", status: 400 });
    expect(body.detail).toMatch(/full UK postcode/);
    expect(upstream).toEqual([]);
  });

  it("rejects a postcode longer than any form field allows with 400 validation_failed", async () => {
    const { lookup } = await seededApp();
    const body = (await expectStatus(await lookup("A".repeat(101)), 400)) as Problem;
    expect(body.code).toBe("validation_failed");
    expect(body.errors).toEqual([expect.objectContaining({ path: "postcode" })]);
  });

  it.each([
    ["JE2 3BX", "Jersey"],
    ["gy1 1aa", "Guernsey"],
    ["IM1 1AA", "the Isle of Man"],
  ])("answers %s with 422 postcode_no_westminster_mp without any upstream request", async (pc, territory) => {
    const { lookup } = await seededApp();
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls), ...membersApiHandlers(calls));
    const upstream = watchUpstream();
    const body = (await expectStatus(await lookup(pc), 422)) as Problem;
    expect(body).toMatchObject({ code: "postcode_no_westminster_mp", status: 422, territory });
    expect(body.detail).toContain(territory);
    expect(calls).toEqual([]);
    expect(upstream).toEqual([]);
  });

  it("answers 400 validation_failed when neither postcode nor q is given", async () => {
    const { request } = await seededApp();
    const body = (await expectStatus(await request("/api/lookup"), 400)) as Problem;
    expect(body.code).toBe("validation_failed");
    expect(body.detail).toMatch(/either postcode= or q=/);
  });

  it("answers 400 validation_failed when both postcode and q are given", async () => {
    const { request } = await seededApp();
    const body = (await expectStatus(
      await request("/api/lookup?postcode=GU14+7JU&q=Aldershot"),
      400,
    )) as Problem;
    expect(body.code).toBe("validation_failed");
  });
});

describe("lookup through postcodes.io for postcodes we don't hold", () => {
  it("answers from postcodes.io's 2024 constituency code, then from the cache without a request", async () => {
    const { lookup } = await seededApp();
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));

    expect(await expectStatus(await lookup("NW1 6LG"), 200)).toMatchObject({
      postcode: "NW1 6LG",
      source: "postcodes.io",
      constituency: { code: "E14001172", name: "Cities of London and Westminster", region: "London" },
      mp: { name: "Rachel Blake", party: "Labour (Co-op)" },
    });
    expect(calls).toEqual(["/postcodes/NW1%206LG"]);

    expect(await expectStatus(await lookup("nw16lg"), 200)).toMatchObject({
      postcode: "NW1 6LG",
      source: "cache",
      constituency: { code: "E14001172" },
    });
    expect(calls).toHaveLength(1);
  });

  it("asks postcodes.io again once the cached answer has expired", async () => {
    const { lookup, clock, deps } = await seededApp();
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    await expectStatus(await lookup("NW1 6LG"), 200);

    clock.advance(deps.config.LOOKUP_CACHE_TTL_HOURS * 3_600_000 - 1);
    expect(await expectStatus(await lookup("NW1 6LG"), 200)).toMatchObject({ source: "cache" });
    clock.advance(2);
    expect(await expectStatus(await lookup("NW1 6LG"), 200)).toMatchObject({ source: "postcodes.io" });
    expect(calls).toEqual(["/postcodes/NW1%206LG", "/postcodes/NW1%206LG"]);
  });

  it("answers 404 postcode_not_found when postcodes.io knows it neither live nor terminated", async () => {
    const { lookup } = await seededApp();
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    expect(await expectStatus(await lookup("SW1A 9ZZ"), 404)).toMatchObject({
      code: "postcode_not_found",
      status: 404,
    });
    expect(calls).toEqual(["/postcodes/SW1A%209ZZ"]);
  });

  it("remembers a not-found answer for an hour only, since new postcodes appear", async () => {
    const { lookup, clock } = await seededApp();
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    await expectStatus(await lookup("SW1A 9ZZ"), 404);
    await expectStatus(await lookup("SW1A 9ZZ"), 404);
    expect(calls).toHaveLength(1);
    clock.advance(60 * 60 * 1000 + 1);
    await expectStatus(await lookup("SW1A 9ZZ"), 404);
    expect(calls).toHaveLength(2);
  });

  it("answers 410 postcode_terminated when postcodes.io lists it as terminated", async () => {
    const { lookup } = await seededApp();
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    const body = (await expectStatus(await lookup("e1w 1uu"), 410)) as Problem;
    expect(body.code).toBe("postcode_terminated");
    expect(body.detail).toContain("E1W 1UU");
    // Cached too: asking again costs nothing.
    await expectStatus(await lookup("E1W 1UU"), 410);
    // postcodes.io's 404 says it was terminated: no second request.
    expect(calls).toEqual(["/postcodes/E1W%201UU"]);
  });

  it("answers 404 constituency_not_found when postcodes.io names a seat we don't hold", async () => {
    const { lookup, logger } = await seededApp();
    server.use(...postcodesIoHandlers());
    expect(await expectStatus(await lookup("BD8 7DY"), 404)).toMatchObject({
      code: "constituency_not_found",
    });
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: "warn", fields: { code: "E14001120" } }),
    );
  });

  it("with REMOTE_LOOKUP=off answers an unknown postcode 404 without any request", async () => {
    const { lookup } = await seededApp({ REMOTE_LOOKUP: "off" });
    const upstream = watchUpstream();
    expect(await expectStatus(await lookup("NW1 6LG"), 404)).toMatchObject({ code: "postcode_not_found" });
    expect(upstream).toEqual([]);
  });
});

describe("when postcodes.io is down or slow", () => {
  const expectUnavailable = async (res: Response) => {
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await expectStatus(res, 503)) as Problem & Record<string, unknown>;
    expect(body).toMatchObject({ code: "upstream_unavailable", status: 503 });
    expect(body.detail).toMatch(/postcodes\.io is not answering/);
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+|stack|Error:/);
    return body;
  };

  it("answers 503 upstream_unavailable with Retry-After after retrying a 500, while local postcodes still answer", async () => {
    const { lookup, deps } = await seededApp();
    let attempts = 0;
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () => {
        attempts++;
        return HttpResponse.json({ status: 500, error: "Internal server error" }, { status: 500 });
      }),
    );
    const [remote, local] = await Promise.all([lookup("NW1 6LG"), lookup("GU14 7JU")]);
    const body = await expectUnavailable(remote);
    expect(body.detail).toContain("HTTP 500");
    expect(attempts).toBe(deps.config.UPSTREAM_RETRIES + 1);
    expect(await expectStatus(local, 200)).toMatchObject({ source: "local", mp: { name: "Alex Baker" } });
  });

  it("answers 503 when the connection fails", async () => {
    const { lookup } = await seededApp();
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.error()));
    const body = await expectUnavailable(await lookup("NW1 6LG"));
    expect(body.detail).toContain("network error");
  });

  it("gives up on a slow answer after UPSTREAM_TIMEOUT_MS per attempt and answers 503", async () => {
    const { lookup } = await seededApp({ UPSTREAM_TIMEOUT_MS: "100", UPSTREAM_RETRIES: "1" });
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, async () => {
        await delay(2_000);
        return HttpResponse.json({});
      }),
    );
    const started = performance.now();
    const [remote, local] = await Promise.all([lookup("NW1 6LG"), lookup("AB16 9UH")]);
    const body = await expectUnavailable(remote);
    expect(body.detail).toContain("timed out");
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(await expectStatus(local, 200)).toMatchObject({ source: "local" });
  });

  it("answers 503 when postcodes.io sends a body in an unexpected shape", async () => {
    const { lookup } = await seededApp();
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.json({ status: 200, result: null })),
    );
    expect(await expectStatus(await lookup("NW1 6LG"), 503)).toMatchObject({ code: "upstream_unavailable" });
  });

  it("does not cache a failure: the next lookup asks again and succeeds", async () => {
    const { lookup } = await seededApp({ UPSTREAM_RETRIES: "0" });
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.error()));
    await expectStatus(await lookup("NW1 6LG"), 503);
    server.resetHandlers(...postcodesIoHandlers());
    expect(await expectStatus(await lookup("NW1 6LG"), 200)).toMatchObject({ source: "postcodes.io" });
  });
});

describe("MP from the Members API when we hold no members row", () => {
  it("asks Location/Constituency/Search for the seat's current MP and saves the answer", async () => {
    const { lookup, sqlite } = await seededApp({}, { members: false });
    const calls: string[] = [];
    server.use(...membersApiHandlers(calls));

    expect(await expectStatus(await lookup("GU14 7JU"), 200)).toMatchObject({
      source: "local",
      seat: "sitting",
      mp: { parliamentId: 5215, name: "Alex Baker", party: "Labour", contactable: false },
    });
    expect(calls).toEqual(["/api/Location/Constituency/Search?searchText=Aldershot&skip=0&take=20"]);
    expect(
      sqlite
        .prepare("select status, parliament_id, name from members where constituency_code = ?")
        .get("E14001063"),
    ).toEqual({ status: "sitting", parliament_id: 5215, name: "Alex Baker" });

    await expectStatus(await lookup("GU14 7JU"), 200);
    expect(calls).toHaveLength(1);
  });

  it("records a seat the Members API shows without current representation as vacant", async () => {
    const { lookup, sqlite } = await seededApp({}, { members: false });
    server.use(...membersApiHandlers());
    expect(await expectStatus(await lookup("BT4 3XX"), 200)).toMatchObject({
      seat: "vacant",
      mp: null,
      notice: { code: "seat_vacant" },
    });
    expect(sqlite.prepare("select status from members where constituency_code = ?").get("N05000001")).toEqual(
      {
        status: "vacant",
      },
    );
  });

  it("still answers a local postcode, with the MP unknown, when the Members API is down", async () => {
    const { lookup } = await seededApp({ UPSTREAM_RETRIES: "0" }, { members: false });
    server.use(http.get(`${MEMBERS_API}/api/Location/Constituency/Search`, () => HttpResponse.error()));
    expect(await expectStatus(await lookup("AB16 9UH"), 200)).toMatchObject({
      constituency: { name: "Aberdeen North" },
      seat: "unknown",
      mp: null,
      notice: { code: "mp_unknown" },
    });
  });

  it("moves a member the Members API places in a new seat off their old row instead of failing", async () => {
    const { lookup, sqlite } = await seededApp();
    // Our table still has Alex Baker (5215) for Aldershot; a stale row elsewhere must not
    // block saving the Members API's answer for a seat without a row.
    sqlite.prepare("delete from members where constituency_code = ?").run("E14001063");
    sqlite
      .prepare("update members set parliament_id = 5215 where constituency_code = ?")
      .run(SEATS.citiesOfLondon.ons_code);
    server.use(...membersApiHandlers());
    expect(await expectStatus(await lookup("GU14 7JU"), 200)).toMatchObject({ mp: { parliamentId: 5215 } });
    expect(
      sqlite
        .prepare("select status from members where constituency_code = ?")
        .get(SEATS.citiesOfLondon.ons_code),
    ).toEqual({ status: "vacant" });
  });
});

describe("candidates", () => {
  const ELECTION = "parl.2024-07-04";

  it("lists the configured election's candidates for the seat, by name, with whether they can be written to", async () => {
    const { deps, lookup } = await seededApp({ ELECTION_ID: ELECTION });
    await importCandidatesCsv(deps, fixturePath("import", "dc-candidates.csv"), ELECTION);
    expect(await expectStatus(await lookup("GU14 7JU"), 200)).toMatchObject({
      election: {
        id: ELECTION,
        candidates: [
          { personId: 71001, name: "Alex Baker", party: "Labour Party", contactable: true },
          {
            personId: 2811,
            name: "Leo Docherty",
            party: "Conservative and Unionist Party",
            contactable: false,
          },
        ],
      },
    });
  });

  it("shows no candidates for a seat whose poll was cancelled", async () => {
    const { deps, lookup } = await seededApp({ ELECTION_ID: ELECTION });
    await importCandidatesCsv(deps, fixturePath("import", "dc-candidates.csv"), ELECTION);
    expect(await expectStatus(await lookup("BT4 3XX"), 200)).toMatchObject({
      seat: "vacant",
      election: { id: ELECTION, candidates: [] },
    });
  });

  it("shows no election when ELECTION_ID is not set", async () => {
    const { deps, lookup } = await seededApp();
    await importCandidatesCsv(deps, fixturePath("import", "dc-candidates.csv"), ELECTION);
    expect(await expectStatus(await lookup("GU14 7JU"), 200)).toMatchObject({ election: null });
  });
});

describe("constituency search (?q=)", () => {
  const names = (body: unknown) =>
    (body as { results: { constituency: { name: string } }[] }).results.map((r) => r.constituency.name);

  it("finds seats by case-insensitive substring, sorted by name, with their MPs", async () => {
    const { request } = await seededApp();
    const body = await expectStatus(await request("/api/lookup?q=ABER"), 200);
    expect(body).toMatchObject({ query: "ABER" });
    expect(names(body)).toEqual(["Aberafan Maesteg", "Aberdeen North"]);
    expect(names(await expectStatus(await request("/api/lookup?q=london%20and"), 200))).toEqual([
      "Cities of London and Westminster",
    ]);
    const [first] = (body as { results: { mp: { name: string } }[] }).results;
    expect(first?.mp.name).toBe("Stephen Kinnock");
  });

  it.each([
    ["%25%25", "%%"],
    ["Ab_rdeen", "Ab_rdeen"],
    ["Aber%25North", "Aber%North"],
    ["%5C%25", "\\%"],
  ])("treats LIKE wildcards literally: q=%s matches nothing", async (raw, query) => {
    const { request } = await seededApp();
    expect(await expectStatus(await request(`/api/lookup?q=${raw}`), 200)).toEqual({ query, results: [] });
  });

  it("never lists the test seat", async () => {
    const { request } = await seededApp();
    expect(names(await expectStatus(await request("/api/lookup?q=test"), 200))).toEqual([]);
  });

  it("rejects a one-letter query with 400 validation_failed", async () => {
    const { request } = await seededApp();
    expect(await expectStatus(await request("/api/lookup?q=%20a%20"), 400)).toMatchObject({
      code: "validation_failed",
    });
  });

  it("answers from local data only: a seat without an MP row is 'unknown', with no upstream request", async () => {
    const { request } = await seededApp({}, { members: false });
    const upstream = watchUpstream();
    const body = (await expectStatus(await request("/api/lookup?q=aldershot"), 200)) as {
      results: { seat: string; notice: { code: string } }[];
    };
    expect(body.results).toEqual([
      expect.objectContaining({ seat: "unknown", notice: expect.objectContaining({ code: "mp_unknown" }) }),
    ]);
    expect(upstream).toEqual([]);
  });
});

describe("GET /api/constituencies/:code", () => {
  it("answers one seat by ONS code", async () => {
    const { request } = await seededApp();
    expect(await expectStatus(await request("/api/constituencies/S14000060"), 200)).toMatchObject({
      constituency: { code: "S14000060", name: "Aberdeen North", region: "Scotland" },
      mp: { name: "Kirsty Blackman" },
    });
  });

  it("answers an unknown code with 404 constituency_not_found and a bad one with 400", async () => {
    const { request } = await seededApp();
    expect(await expectStatus(await request("/api/constituencies/E14099999"), 404)).toMatchObject({
      code: "constituency_not_found",
    });
    expect(await expectStatus(await request("/api/constituencies/aldershot"), 400)).toMatchObject({
      code: "validation_failed",
    });
  });
});

describe("privacy", () => {
  it("never writes a postcode to the log, whatever the outcome", async () => {
    const { lookup, request, logger } = await seededApp({ LOG_LEVEL: "debug", UPSTREAM_RETRIES: "0" });
    server.use(...postcodesIoHandlers());
    const inputs = [
      "GU14 7JU",
      "SA13 1PJ",
      "SW1A 9ZZ",
      "E1W 1UU",
      "BD8 7DY",
      "NW1 6LG",
      "JE2 3BX",
      "AB1 0AA",
      "nonsense",
    ];
    for (const pc of inputs) await lookup(pc);
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.error()));
    await lookup("CF10 1EP");
    await request("/find?postcode=GU14+7JU", { headers: { accept: "text/html" } });

    expect(logger.lines.length).toBeGreaterThan(0);
    const logged = JSON.stringify(logger.lines).toUpperCase();
    for (const pc of [...inputs, "CF10 1EP", ...LOCAL_POSTCODES.map((p) => p.postcode)]) {
      expect(logged).not.toContain(pc.toUpperCase());
      expect(logged).not.toContain(pc.replace(" ", "").toUpperCase());
    }
  });
});

describe("lookup pages", () => {
  const html = { headers: { accept: "text/html" } };

  it("shows the MP for a postcode typed in any form", async () => {
    const { request } = await seededApp();
    const res = await request("/find?postcode=%20gu147ju%20", html);
    const page = String(await expectStatus(res, 200));
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(page).toContain("Aldershot");
    expect(page).toContain("Alex Baker");
  });

  it("re-renders the form with the input and the problem for a malformed postcode", async () => {
    const { request } = await seededApp();
    const page = String(await expectStatus(await request("/find?postcode=12345%3Cb%3E", html), 400));
    expect(page).toContain('aria-invalid="true"');
    expect(page).toContain("12345&lt;b&gt;");
    expect(page).not.toContain("12345<b>");
  });

  it("lists constituencies for a name search, and asks for more letters when given one", async () => {
    const { request } = await seededApp();
    const page = String(await expectStatus(await request("/find?q=aber", html), 200));
    expect(page).toContain("Aberafan Maesteg");
    expect(page).toContain("Aberdeen North");
    expect(page).not.toContain("Aldershot");
    const short = String(await expectStatus(await request("/find?q=a", html), 400));
    expect(short).toContain("at least 2 letters");
  });

  it("shows a retry message, not a stack, when postcodes.io is down", async () => {
    const { request } = await seededApp({ UPSTREAM_RETRIES: "0" });
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.error()));
    const page = String(await expectStatus(await request("/find?postcode=NW1+6LG", html), 503));
    expect(page).toContain("not answering");
    expect(page).not.toMatch(/\.ts:\d+/);
  });
});
