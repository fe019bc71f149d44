/**
 * The UK Parliament Members API client against msw serving bodies in the API's real shapes
 * (tests/fixtures/members-api).
 */
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { membersApi, parseMembersSearch, pickContactEmail } from "../../src/adapters/http/members-api";
import { AppError } from "../../src/lib/errors";
import { fixtureJson, MEMBERS_API, membersApiHandlers, membersSearchPages } from "../support/lookup-data";
import { membersApiServer } from "../support/members-api";
import { useMsw } from "../support/msw";

const server = useMsw();
const client = () => membersApi(MEMBERS_API, { timeoutMs: 300, retries: 0 });

type Page = { items: { value: { latestHouseMembership: Record<string, unknown> } }[]; totalResults: number };

describe("Members API: current representation of a seat", () => {
  it("finds the sitting MP of the 2024 seat, ignoring the abolished seat of the same name", async () => {
    const calls: string[] = [];
    server.use(...membersApiHandlers(calls));
    expect(await client().seatFor("Aldershot")).toEqual({
      kind: "sitting",
      member: {
        parliamentId: 5215,
        name: "Alex Baker",
        party: "Labour",
        partyAbbreviation: "Lab",
        constituencyName: "Aldershot",
        since: "2024-07-04",
      },
    });
    expect(calls).toEqual(["/api/Location/Constituency/Search?searchText=Aldershot&skip=0&take=20"]);
  });

  it("reports a current seat without representation as vacant", async () => {
    server.use(...membersApiHandlers());
    expect(await client().seatFor("Belfast East")).toEqual({ kind: "vacant" });
  });

  it("reports unknown when no current seat has exactly that name", async () => {
    server.use(
      http.get(`${MEMBERS_API}/api/Location/Constituency/Search`, () =>
        HttpResponse.json(fixtureJson("members-api", "constituency-search-aldershot.json")),
      ),
    );
    expect(await client().seatFor("Alder")).toEqual({ kind: "unknown" });
  });

  it("fails with upstream_unavailable when the API answers 500 or an unexpected shape", async () => {
    server.use(
      http.get(
        `${MEMBERS_API}/api/Location/Constituency/Search`,
        () => new HttpResponse(null, { status: 500 }),
      ),
    );
    await expect(client().seatFor("Aldershot")).rejects.toMatchObject({ code: "upstream_unavailable" });
    server.use(
      http.get(`${MEMBERS_API}/api/Location/Constituency/Search`, () => HttpResponse.json({ items: "no" })),
    );
    await expect(client().seatFor("Aldershot")).rejects.toBeInstanceOf(AppError);
  });
});

describe("Members API: all current MPs", () => {
  it("pages through Members/Search with House=1 and IsCurrentMember=true, 20 at a time, to totalResults", async () => {
    const api = membersApiServer();
    server.use(...api.handlers);
    const list = await client().allCurrent();
    expect(list).toHaveLength(650);
    const searches = api.control.calls.map((c) => new URL(c, MEMBERS_API).searchParams);
    expect(searches).toHaveLength(33);
    expect(searches.map((p) => [p.get("House"), p.get("IsCurrentMember"), p.get("take")])).toEqual(
      Array(33).fill(["1", "true", "20"]),
    );
    expect(searches.map((p) => Number(p.get("skip")))).toEqual(Array.from({ length: 33 }, (_, i) => i * 20));
    expect(list.find((m) => m.constituencyName === "Makerfield")).toMatchObject({
      parliamentId: 1427,
      name: "Andy Burnham",
      party: "Labour (Co-op)",
      since: "2026-06-18",
    });
  });

  it("refuses a partial answer (fewer members than totalResults) instead of returning part of the House", async () => {
    const api = membersApiServer();
    api.control.announce = 700;
    server.use(...api.handlers);
    const e = await client()
      .allCurrent()
      .catch((err: unknown) => err);
    expect(e).toMatchObject({ code: "upstream_unavailable" });
    expect((e as AppError).detail).toMatch(/partial list: 650 of the 700/);
  });

  it("reads the member's own ….mp@parliament.uk address from Members/{id}/Contact, as data/mps.csv does", async () => {
    const calls: string[] = [];
    server.use(...membersApiHandlers(calls));
    // Two offices have addresses; the constituency office is marked preferred. The source of
    // data/mps.csv picks the …mp@parliament.uk mailbox, and so do we.
    expect(await client().emailFor(4359)).toBe("stephen.kinnock.mp@parliament.uk");
    expect(await client().emailFor(4357)).toBeNull();
    expect(calls).toEqual(["/api/Members/4359/Contact", "/api/Members/4357/Contact"]);
  });

  it("falls back to another parliament.uk address, then the preferred entry, then the first", () => {
    expect(
      pickContactEmail([
        { email: "office@example.org", isPreferred: true },
        { email: "jane.smith@parliament.uk" },
      ]),
    ).toBe("jane.smith@parliament.uk");
    expect(
      pickContactEmail([{ email: "a@example.org" }, { email: "b@example.org", isPreferred: true }]),
    ).toBe("b@example.org");
    expect(pickContactEmail([{ email: "not an address" }, { email: null }, { email: "a@example.org" }])).toBe(
      "a@example.org",
    );
    expect(pickContactEmail([])).toBeNull();
  });
});

describe("parseMembersSearch", () => {
  it("reads a saved file of several pages into current Commons members", () => {
    expect(parseMembersSearch(membersSearchPages())).toEqual([
      expect.objectContaining({ parliamentId: 5215, name: "Alex Baker", constituencyName: "Aldershot" }),
      expect.objectContaining({
        parliamentId: 4357,
        party: "Scottish National Party",
        partyAbbreviation: "SNP",
      }),
      expect.objectContaining({ parliamentId: 4359, constituencyName: "Aberafan Maesteg" }),
      expect.objectContaining({ parliamentId: 5220, party: "Labour (Co-op)" }),
      expect.objectContaining({ parliamentId: 4597, constituencyName: "North West Essex" }),
    ]);
  });

  it("leaves out peers and members whose membership has ended", () => {
    const [page] = membersSearchPages() as Page[];
    if (!page) throw new Error("fixture has no pages");
    const [lord, former, current] = structuredClone(page.items);
    if (!lord || !former || !current) throw new Error("fixture page too short");
    lord.value.latestHouseMembership.house = 2;
    former.value.latestHouseMembership.membershipEndDate = "2025-05-01T00:00:00";
    former.value.latestHouseMembership.membershipStatus = null;
    const parsed = parseMembersSearch({ ...page, items: [lord, former, current] });
    expect(parsed.map((m) => m.name)).toEqual(["Stephen Kinnock"]);
  });

  it("keeps a member whose status is inactive but whose membership has not ended (e.g. suspended)", () => {
    const [page] = membersSearchPages() as Page[];
    if (!page) throw new Error("fixture has no pages");
    const [first] = structuredClone(page.items);
    if (!first) throw new Error("fixture page too short");
    first.value.latestHouseMembership.membershipStatus = {
      statusIsActive: false,
      statusDescription: "Suspended",
    };
    expect(parseMembersSearch({ ...page, items: [first] }).map((m) => m.name)).toEqual(["Alex Baker"]);
  });

  it("rejects a file that is not a Members/Search response", () => {
    expect(() => parseMembersSearch({ members: [] })).toThrow();
  });
});
