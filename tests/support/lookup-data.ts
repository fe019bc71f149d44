/**
 * Lookup test data: a handful of real 2024 constituencies, their MPs from a Members API search
 * response saved under tests/fixtures/members-api/, and local postcodes, all loaded through the
 * real import verbs. Plus helpers that read the postcodes.io / Members API fixture bodies.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { HttpResponse, http, type JsonBodyType } from "msw";
import { parseMembersSearch } from "../../src/adapters/http/members-api";
import type { Deps } from "../../src/deps";
import {
  ensureTestSeat,
  importConstituencies,
  importPostcodeBatch,
  type PostcodeRecord,
} from "../../src/modules/lookup/lookup.import";
import type { ConstituencyRow } from "../../src/modules/lookup/lookup.schemas";
import { importMembers } from "../../src/modules/members/members.sync";

export const FIXTURES = resolve(import.meta.dirname, "../fixtures");
/** Real postcodes.io responses, collected with the data in data/ (see data/SOURCES.md). */
const POSTCODES_IO_FIXTURES = resolve(import.meta.dirname, "../../data/fixtures/postcodes-io");

export const fixturePath = (...parts: string[]) => resolve(FIXTURES, ...parts);
export const fixtureJson = <T = JsonBodyType>(...parts: string[]): T =>
  JSON.parse(readFileSync(fixturePath(...parts), "utf8")) as T;
export const postcodesIoFixture = (file: string): JsonBodyType =>
  JSON.parse(readFileSync(resolve(POSTCODES_IO_FIXTURES, file), "utf8"));

export const POSTCODES_IO = "https://api.postcodes.io";
export const MEMBERS_API = "https://members-api.parliament.uk";

/** Real ONS codes, 2024 names, nations and regions (as in data/constituencies.csv). */
export const SEATS = {
  aldershot: {
    ons_code: "E14001063",
    name: "Aldershot",
    nation: "England",
    region_code: "E12000008",
    region_name: "South East",
  },
  citiesOfLondon: {
    ons_code: "E14001172",
    name: "Cities of London and Westminster",
    nation: "England",
    region_code: "E12000007",
    region_name: "London",
  },
  aberdeenNorth: {
    ons_code: "S14000060",
    name: "Aberdeen North",
    nation: "Scotland",
    region_code: "S92000003",
    region_name: "Scotland",
  },
  aberafanMaesteg: {
    ons_code: "W07000081",
    name: "Aberafan Maesteg",
    nation: "Wales",
    region_code: "W92000004",
    region_name: "Wales",
  },
  belfastEast: {
    ons_code: "N05000001",
    name: "Belfast East",
    nation: "Northern Ireland",
    region_code: "N92000002",
    region_name: "Northern Ireland",
  },
} satisfies Record<string, ConstituencyRow>;

/**
 * Local postcodes. Belfast East has no MP in the members fixture, so after `importMembers` it is
 * a vacant seat. NW1 6LG (Cities of London and Westminster) is deliberately NOT local: it is the
 * postcodes.io example, with a real saved response.
 */
export const LOCAL_POSTCODES: PostcodeRecord[] = [
  { postcode: "SW1A 1AA", constituencyCode: SEATS.citiesOfLondon.ons_code, terminated: false },
  { postcode: "GU14 7JU", constituencyCode: SEATS.aldershot.ons_code, terminated: false },
  { postcode: "AB16 9UH", constituencyCode: SEATS.aberdeenNorth.ons_code, terminated: false },
  { postcode: "SA13 1PJ", constituencyCode: SEATS.aberafanMaesteg.ons_code, terminated: false },
  { postcode: "BT4 3XX", constituencyCode: SEATS.belfastEast.ons_code, terminated: false },
  // Terminated in June 1996; NSPL keeps it with its last constituency.
  { postcode: "AB1 0AA", constituencyCode: "S14000061", terminated: true },
];

/** The Members API search response (two pages) of current Commons members used to seed MPs. */
export const membersSearchPages = () => fixtureJson<unknown[]>("members-api", "members-search.json");

/**
 * Constituencies, MPs (Belfast East left vacant), local postcodes and the ZZ9 9ZZ test seat,
 * through the same verbs the CLI uses. `members: false` leaves the members table empty, so a
 * lookup has to ask the Members API.
 */
export async function seedLookup(deps: Deps, opts: { members?: boolean } = {}) {
  await importConstituencies(deps, Object.values(SEATS));
  if (opts.members !== false) await importMembers(deps, parseMembersSearch(membersSearchPages()));
  await importPostcodeBatch(deps, LOCAL_POSTCODES);
  await ensureTestSeat(deps);
}

/** postcodes.io answers by normalised postcode, as the real service has them. */
const POSTCODES_IO_FOUND: Record<string, string> = {
  "NW1 6LG": "NW16LG.json",
  // Bradford West: a seat the lookup tests don't load, for "constituency we don't hold".
  "BD8 7DY": "BD87DY.json",
};
const POSTCODES_IO_TERMINATED: Record<string, string> = { "E1W 1UU": "terminated-E1W1UU.json" };
/** /scotland/postcodes answers (the Scottish Postcode Directory, 2026 fields). */
const POSTCODES_IO_SCOTLAND: Record<string, string> = { "EH1 2NG": "scotland-EH12NG.json" };
/** The /postcodes 404 of a closed postcode, with `terminated` (postcodes.io 17.7.0 on). */
const POSTCODES_IO_TERMINATED_404: Record<string, string> = { "E1W 1UU": "404-terminated-E1W1UU.json" };

/** postcodes.io normalises its input the same way: case and spaces don't matter. */
const pcKey = (raw: string) => {
  const compact = decodeURIComponent(raw).replace(/\s+/g, "").toUpperCase();
  return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
};

/**
 * msw handlers for postcodes.io's /postcodes/:pc and /terminated_postcodes/:pc with the real
 * response bodies saved in data/fixtures/postcodes-io. Each request's path is pushed on `calls`.
 *
 * By default they answer as postcodes.io does since 17.7.0: a 404 for a closed postcode carries
 * `terminated`. `legacy: true` answers as an older copy (a bare 404 body); `base` serves the
 * handlers at another address (a self-hosted copy).
 */
export function postcodesIoHandlers(calls: string[] = [], opts: { base?: string; legacy?: boolean } = {}) {
  const base = opts.base ?? POSTCODES_IO;
  return [
    http.get(`${base}/postcodes/:postcode`, ({ request, params }) => {
      calls.push(new URL(request.url).pathname);
      const key = pcKey(String(params.postcode));
      const file = POSTCODES_IO_FOUND[key];
      if (file) return HttpResponse.json(postcodesIoFixture(file));
      const terminated = !opts.legacy && POSTCODES_IO_TERMINATED_404[key];
      return HttpResponse.json(postcodesIoFixture(terminated || "404-postcode-not-found.json"), {
        status: 404,
      });
    }),
    http.get(`${base}/scotland/postcodes/:postcode`, ({ request, params }) => {
      calls.push(new URL(request.url).pathname);
      const file = POSTCODES_IO_SCOTLAND[pcKey(String(params.postcode))];
      return file
        ? HttpResponse.json(postcodesIoFixture(file))
        : HttpResponse.json(postcodesIoFixture("404-postcode-not-found.json"), { status: 404 });
    }),
    http.get(`${base}/terminated_postcodes/:postcode`, ({ request, params }) => {
      calls.push(new URL(request.url).pathname);
      const file = POSTCODES_IO_TERMINATED[pcKey(String(params.postcode))];
      return file
        ? HttpResponse.json(postcodesIoFixture(file))
        : HttpResponse.json(postcodesIoFixture("404-terminated-postcode-not-found.json"), { status: 404 });
    }),
  ];
}

/** Location/Constituency/Search answers by search text (the Members API matches substrings). */
const CONSTITUENCY_SEARCH: Record<string, string> = {
  aldershot: "constituency-search-aldershot.json",
  "belfast east": "constituency-search-belfast-east-vacant.json",
};

/** msw handlers for the Members API endpoints the app uses, with saved real-shape bodies. */
export function membersApiHandlers(calls: string[] = []) {
  return [
    http.get(`${MEMBERS_API}/api/Location/Constituency/Search`, ({ request }) => {
      const url = new URL(request.url);
      calls.push(`${url.pathname}${url.search}`);
      const file = CONSTITUENCY_SEARCH[(url.searchParams.get("searchText") ?? "").toLowerCase()];
      return HttpResponse.json(
        file
          ? fixtureJson("members-api", file)
          : {
              items: [],
              totalResults: 0,
              resultContext: url.searchParams.get("searchText"),
              skip: 0,
              take: 20,
              links: [],
            },
      );
    }),
    http.get(`${MEMBERS_API}/api/Members/:id/Contact`, ({ request, params }) => {
      calls.push(new URL(request.url).pathname);
      if (params.id === "4359") return HttpResponse.json(fixtureJson("members-api", "contact-4359.json"));
      return HttpResponse.json({ value: [], links: [] });
    }),
  ];
}
