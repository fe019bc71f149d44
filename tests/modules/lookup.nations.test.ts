/**
 * A fresh install, offline: the database seeded from data/ exactly as `npm start` does, and any
 * outbound request fails the test (msw with no handlers), except the one a Scottish postcode
 * makes for its Holyrood constituency, which fails as the network would offline. Every real
 * postcode in data/postcodes.csv, the README's examples, all four nations, through the JSON API
 * and the supporter's pages; outward codes and closed postcodes as people type them.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { HttpResponse, http } from "msw";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { seed } from "../../src/adapters/node/seed";
import { expectStatus, testApp } from "../support/deps";
import { mswServer, useMsw } from "../support/msw";

useMsw();

type Row = Record<string, string>;
const csv = (file: string) =>
  parse(readFileSync(resolve(ROOT_DIR, "data", file), "utf8"), { columns: true }) as Row[];
const POSTCODES = csv("postcodes.csv");
const MPS = new Map(csv("mps.csv").map((r) => [r.ons_code, r]));
const SEATS = new Map(csv("constituencies.csv").map((r) => [r.ons_code, r]));

type Devolved = {
  body: string;
  status: string;
  source: string | null;
  constituency: { code: string; name: string } | null;
  region: { code: string; name: string } | null;
  members: { name: string; contactable: boolean }[];
  regionalMembers: { name: string }[];
  choices: { code: string }[];
  notice?: { code: string };
};

type Answer = {
  postcode?: string;
  source?: string;
  code?: string;
  constituency?: { code: string; name: string; nation: string };
  seat?: string;
  mp?: { name: string; parliamentId: number; contactable: boolean; contactUrl: string | null } | null;
  outcode?: string;
  seats?: { constituency: { code: string; name: string }; mp: { name: string } | null }[];
  terminated?: boolean;
  devolved?: Devolved | null;
};

let t: ReturnType<typeof testApp>;
const upstream: string[] = [];
beforeAll(async () => {
  t = testApp({ LETTER_LIMIT_PER_EMAIL_DAY: "50", LETTER_LIMIT_PER_IP_HOUR: "500" });
  await seed(t.deps, resolve(ROOT_DIR, "data"));
  mswServer.events.on("request:start", ({ request }) => void upstream.push(request.url));
});
// Offline: the Holyrood lookup a Scottish postcode makes fails as a dead network does.
beforeEach(() => {
  upstream.length = 0;
  mswServer.use(http.get("https://api.postcodes.io/scotland/postcodes/:pc", () => HttpResponse.error()));
});
/** Nothing was asked upstream but the Holyrood constituency of Scottish postcodes. */
const onlyHolyroodAsked = () => {
  for (const url of upstream)
    expect(url).toMatch(/^https:\/\/api\.postcodes\.io\/scotland\/postcodes\/(AB|DD|DG|EH|G|IV|KY)\d/);
  upstream.length = 0;
};

const api = async (postcode: string, extra = "") =>
  (await t.request(`/api/lookup?postcode=${encodeURIComponent(postcode)}${extra}`)) as Response;
const page = async (path: string, status = 200) =>
  (await expectStatus(await t.request(path), status)) as string;

describe("every postcode in data/postcodes.csv, offline", () => {
  it("answers each live one with its 2024 seat and that seat's MP from data/mps.csv, contactable when Parliament lists an address", async () => {
    const byNation = new Map<string, number>();
    for (const r of POSTCODES.filter((p) => p.status === "live" && p.pcon24)) {
      const body = (await expectStatus(await api((r.postcode ?? "").toLowerCase()), 200)) as Answer;
      const mp = MPS.get(r.pcon24 ?? "");
      expect(body, r.postcode).toMatchObject({
        postcode: r.postcode,
        source: "local",
        constituency: { code: r.pcon24, name: SEATS.get(r.pcon24 ?? "")?.name },
        seat: "sitting",
        mp: {
          name: mp?.name,
          parliamentId: Number(mp?.members_api_id),
          contactable: !!mp?.email,
          contactUrl: `https://members.parliament.uk/member/${mp?.members_api_id}/contact`,
        },
      });
      const nation = body.constituency?.nation ?? "";
      if (body.mp?.contactable) byNation.set(nation, (byNation.get(nation) ?? 0) + 1);
      // The devolved parliament: Wales by the seat's pairing, Northern Ireland by the Assembly
      // constituency; Scotland only where the postcode's Holyrood seat is known (offline: one).
      if (nation === "England") expect(body.devolved, r.postcode).toBeNull();
      else if (nation === "Wales" || nation === "Northern Ireland")
        expect(body.devolved, r.postcode).toMatchObject({ status: "known", members: expect.any(Array) });
      else if (r.postcode === "EH1 2NG")
        expect(body.devolved).toMatchObject({
          status: "known",
          source: "postcode",
          constituency: { code: "S16000182", name: "Edinburgh Central" },
          region: { code: "S17000022", name: "Edinburgh and Lothians East" },
        });
      else
        expect(body.devolved, r.postcode).toMatchObject({
          body: "scottish_parliament",
          status: "unknown",
          constituency: null,
          members: [],
          notice: { code: "area_unavailable" },
        });
      if (nation === "Wales") expect(body.devolved?.members, r.postcode).toHaveLength(6);
      if (nation === "Northern Ireland") expect(body.devolved?.members, r.postcode).toHaveLength(5);
    }
    expect([...byNation.keys()].sort()).toEqual(["England", "Northern Ireland", "Scotland", "Wales"]);
    for (const n of byNation.values()) expect(n).toBeGreaterThanOrEqual(4);
    onlyHolyroodAsked();
  });

  it("answers each closed one with 410, naming the seat it was in when the data knows it", async () => {
    for (const r of POSTCODES.filter((p) => p.status === "terminated")) {
      const body = (await expectStatus(await api(r.postcode ?? ""), 410)) as Answer;
      expect(body.code, r.postcode).toBe("postcode_terminated");
      if (r.pcon24) expect(body.constituency, r.postcode).toMatchObject({ code: r.pcon24 });
      else expect(body.constituency, r.postcode).toBeUndefined();
    }
    expect(upstream).toEqual([]);
  });

  it("answers Jersey, Guernsey and the Isle of Man with 422: no MP at Westminster", async () => {
    for (const r of POSTCODES.filter((p) => p.status === "crown"))
      expect(await expectStatus(await api(r.postcode ?? ""), 422), r.postcode).toMatchObject({
        code: "postcode_no_westminster_mp",
      });
  });
});

describe("the README's examples", () => {
  const readme = readFileSync(resolve(ROOT_DIR, "README.md"), "utf8");
  const from = readme.indexOf("### Try these postcodes");
  const table = readme.slice(from, readme.indexOf("\n## ", from));
  const rows = [...table.matchAll(/^\| `([A-Z0-9 ]+)` \| (.+) \|$/gm)].map((m) => ({
    postcode: m[1] as string,
    says: m[2] as string,
  }));

  it("lists examples from all four nations", () => {
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const nation of ["England", "Scotland", "Wales", "Northern Ireland"])
      expect(
        rows.some((r) => r.says.startsWith(`${nation}:`)),
        nation,
      ).toBe(true);
  });

  it("all work offline, and the seats and MPs the README names are the ones the app answers", async () => {
    for (const { postcode, says } of rows) {
      const res = await api(postcode);
      const body = (await res.json()) as Answer;
      expect([200, 410, 422], `${postcode}: ${JSON.stringify(body)}`).toContain(res.status);
      if (body.constituency && body.mp && body.constituency.nation !== "Test") {
        expect(says, postcode).toContain(body.constituency.name);
        expect(says, postcode).toContain(body.mp.name);
      }
      if (body.outcode)
        for (const s of body.seats ?? []) expect(says, postcode).toContain(s.constituency.name);
      if (res.status === 410) expect(says).toContain(body.constituency?.name);
    }
    onlyHolyroodAsked();
  });
});

describe("the supporter's pages, one postcode per nation", () => {
  it.each([
    ["England", "LS1 1AZ", "Alex Sobel"],
    ["Scotland", "EH1 1AD", "Chris Murray"],
    ["Wales", "CF10 1AA", "Stephen Doughty"],
    ["Northern Ireland", "BT1 1AA", "John Finucane"],
  ])("%s: %s finds %s and opens the letter form", async (_nation, postcode, name) => {
    const found = await page(`/find?postcode=${encodeURIComponent(postcode)}`);
    expect(found).toContain(`Your MP is <strong>${name}</strong>`);
    const write = found.match(/href="(\/write\?[^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
    expect(write).toBe(`/write?postcode=${encodeURIComponent(postcode)}&to=mp`);
    expect(await page(write as string)).toContain(`Write to ${name}`);
  });

  it("shows an MP Parliament lists no address for, with their official contact page instead of a letter form", async () => {
    const found = await page("/find?postcode=BT47+2GD");
    expect(found).toContain("Órfhlaith Begley");
    expect(found).toContain('href="https://members.parliament.uk/member/4697/contact"');
    expect(found).not.toContain("/write?");
    const res = await t.request("/api/letters", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        asks: ["prevention"],
        supporter: {
          name: "A Supporter",
          email: "a@example.org",
          address: { line1: "1 Main St", town: "Omagh", postcode: "BT47 2GD" },
        },
      }),
    });
    expect(await expectStatus(res, 422)).toMatchObject({ code: "recipient_not_contactable" });
  });
});

describe("only the first half of a postcode", () => {
  it("lists the seats an outcode spans in local data, most postcodes first, with their MPs", async () => {
    const body = (await expectStatus(await api(" g78 "), 200)) as Answer;
    expect(body.outcode).toBe("G78");
    expect(body.seats?.map((s) => [s.constituency.name, s.mp?.name]).sort()).toEqual([
      ["North Ayrshire and Arran", "Irene Campbell"],
      ["Paisley and Renfrewshire South", "Johanna Baxter"],
    ]);
    // Every AB10 postcode we hold is in one seat (closed ones don't count).
    expect(
      ((await expectStatus(await api("AB10"), 200)) as Answer).seats?.map((s) => s.constituency.code),
    ).toEqual(["S14000061"]);
  });

  it("answers an outcode we hold no postcodes for with 400 postcode_incomplete, and never asks upstream", async () => {
    expect(await expectStatus(await api("SW1A"), 400)).toMatchObject({
      code: "postcode_incomplete",
      outcode: "SW1A",
    });
    expect(await expectStatus(await api("JE2"), 422)).toMatchObject({ code: "postcode_no_westminster_mp" });
    expect(upstream).toEqual([]);
  });

  it("lets the supporter choose a seat on the page, then asks for the full postcode to write", async () => {
    const list = await page("/find?postcode=G78");
    expect(list).toContain("Which constituency is yours?");
    expect(list).toContain('value="S14000102"');
    expect(list).toContain('value="S14000048"');
    const chosen = await page("/find?postcode=G78&seat=S14000102");
    expect(chosen).toContain("Paisley and Renfrewshire South");
    expect(chosen).toContain("Johanna Baxter");
    expect(chosen).toContain("enter your full postcode");
    expect(chosen).not.toContain("/write?");
    // A seat the outcode doesn't span is not taken: the list again.
    expect(await page("/find?postcode=G78&seat=E14001319")).toContain("Which constituency is yours?");
  });

  it("a letter needs the full postcode", async () => {
    const res = await t.request("/api/letters/preview", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ asks: ["prevention"], supporter: { address: { postcode: "LS1" } } }),
    });
    expect(await expectStatus(res, 400)).toMatchObject({ code: "postcode_incomplete" });
  });
});

describe("a postcode that has closed", () => {
  it("says which seat it was in and asks whether the supporter still lives there; yes leads to the letter", async () => {
    const home = await page("/find?postcode=ab10+1hq", 410);
    expect(home).toContain("That postcode has closed. It was in <strong>Aberdeen South</strong>");
    const yes = home.match(/href="(\/find\?postcode=[^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
    expect(yes).toBe("/find?postcode=ab10%201hq&seat=S14000061");
    const result = await page(yes as string);
    expect(result).toContain("has closed. You told us you still live in the constituency it was in");
    expect(result).toContain("Douglas Lumsden");
    const write = result.match(/href="(\/write\?[^"]+)"/)?.[1]?.replaceAll("&amp;", "&");
    expect(write).toBe("/write?postcode=AB10%201HQ&seat=S14000061&to=mp");
    const form = await page(write as string);
    expect(form).toContain("Write to Douglas Lumsden");
    expect(form).toContain('name="seat" value="S14000061"');
  });

  it("takes a letter for the confirmed seat through the API, and refuses it without the confirmation", async () => {
    const letter = (seat?: string) => ({
      asks: ["prevention"],
      story: "We moved in before the postcode changed.",
      ...(seat ? { seat } : {}),
      supporter: {
        name: "Moira Grant",
        email: `moira${seat ?? ""}@example.org`,
        address: { line1: "2 Union St", town: "Aberdeen", postcode: "AB10 1HQ" },
      },
    });
    const post = (body: unknown) =>
      t.request("/api/letters", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect(await expectStatus(await post(letter()), 410)).toMatchObject({ code: "postcode_terminated" });
    // Confirming a seat the postcode was not in changes nothing.
    expect(await expectStatus(await post(letter("E14001319")), 410)).toMatchObject({
      code: "postcode_terminated",
    });
    expect(await expectStatus(await post(letter("S14000061")), 201)).toMatchObject({
      recipient: { name: "Douglas Lumsden", constituency: "S14000061" },
    });
  });

  it("without a known seat, just says it has closed", async () => {
    const home = await page("/find?postcode=E1W+1UU", 410);
    expect(home).toContain("no longer in use");
    expect(home).not.toContain("Is that still where you live");
  });
});
