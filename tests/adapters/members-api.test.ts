/**
 * The UK Parliament Members API client against msw serving bodies in the API's real shapes
 * (tests/fixtures/members-api).
 */
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { membersApi, parseMembersSearch } from "../../src/adapters/http/members-api";
import { AppError } from "../../src/lib/errors";
import { fixtureJson, MEMBERS_API, membersApiHandlers, membersSearchPages } from "../support/lookup-data";
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
  it("pages through Members/Search with House=1 and IsCurrentMember=true until totalResults", async () => {
    const [first, second] = membersSearchPages() as Page[];
    const requested: URLSearchParams[] = [];
    server.use(
      http.get(`${MEMBERS_API}/api/Members/Search`, ({ request }) => {
        const params = new URL(request.url).searchParams;
        requested.push(params);
        // The live API pages by 20: answer skip=0 with page one, skip=20 with page two.
        const page = params.get("skip") === "0" ? first : second;
        return HttpResponse.json({ ...page, totalResults: 25 });
      }),
    );
    const list = await client().allCurrent();
    expect(
      requested.map((p) => [p.get("House"), p.get("IsCurrentMember"), p.get("skip"), p.get("take")]),
    ).toEqual([
      ["1", "true", "0", "20"],
      ["1", "true", "20", "20"],
    ]);
    expect(list.map((m) => m.name)).toEqual([
      "Alex Baker",
      "Kirsty Blackman",
      "Stephen Kinnock",
      "Rachel Blake",
      "Kemi Badenoch",
    ]);
  });

  it("reads the preferred official email from Members/{id}/Contact, skipping entries without one", async () => {
    const calls: string[] = [];
    server.use(...membersApiHandlers(calls));
    expect(await client().emailFor(4359)).toBe("stephen.kinnock.constituency@parliament.uk");
    expect(await client().emailFor(4357)).toBeNull();
    expect(calls).toEqual(["/api/Members/4359/Contact", "/api/Members/4357/Contact"]);
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

  it("rejects a file that is not a Members/Search response", () => {
    expect(() => parseMembersSearch({ members: [] })).toThrow();
  });
});
