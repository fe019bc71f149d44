/**
 * A stand-in UK Parliament Members API for msw, answering in the API's real shapes:
 *
 * - `GET /api/Members/Search?House=1&IsCurrentMember=true&skip=&take=` ->
 *   `{ items: [{ value: Member, links }], totalResults, resultContext, skip, take, links }`
 * - `GET /api/Members/{id}/Contact` -> `{ value: [ContactInformation…], links }`
 *
 * (Field names and nesting as in the API's published schema, the generated client docs of
 * BillyRuffian/portcullis's parliament_members gem, and the saved real answers in
 * tests/fixtures/members-api.) The roster it serves starts as data/mps.csv, the real House of
 * 27 June 2026, and a test edits it to stage a by-election, a party change, a vacancy or a new
 * address. Party ids and colours are illustrative except Labour (15) and Independent (8).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { HttpResponse, http } from "msw";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { MEMBERS_API } from "./lookup-data";

export type RosterEntry = {
  id: number;
  name: string;
  party: string;
  constituency: string;
  /** The address the Contact endpoint lists (null: it lists none, as for four real MPs). */
  email: string | null;
  since: string;
};

const PARTIES: Record<string, { id: number; abbreviation: string; colour: string }> = {
  Labour: { id: 15, abbreviation: "Lab", colour: "d50000" },
  "Labour (Co-op)": { id: 17, abbreviation: "Lab/Co-op", colour: "d50000" },
  Conservative: { id: 4, abbreviation: "Con", colour: "0063ba" },
  "Liberal Democrat": { id: 31, abbreviation: "LD", colour: "faa61a" },
  Independent: { id: 8, abbreviation: "Ind", colour: "C0C0C0" },
  "Scottish National Party": { id: 29, abbreviation: "SNP", colour: "fff95d" },
};

/** The real House as data/mps.csv has it (fresh copy each call: tests edit it). */
export function dataRoster(): RosterEntry[] {
  const rows = parse(readFileSync(resolve(ROOT_DIR, "data/mps.csv"), "utf8"), { columns: true }) as Record<
    string,
    string
  >[];
  return rows.map((r) => ({
    id: Number(r.members_api_id),
    name: r.name ?? "",
    party: r.party ?? "",
    constituency: r.constituency ?? "",
    email: r.email || null,
    since: r.since ?? "2024-07-04",
  }));
}

/** One Members/Search item, as the API writes it. */
export function memberItem(e: RosterEntry) {
  const party = PARTIES[e.party] ?? {
    id: 1000 + (e.party.length % 50),
    abbreviation: e.party.slice(0, 6),
    colour: "999999",
  };
  const words = e.name.split(" ");
  return {
    value: {
      id: e.id,
      nameListAs: `${words.slice(-1)[0]}, ${words.slice(0, -1).join(" ")}`,
      nameDisplayAs: e.name,
      nameFullTitle: `${e.name} MP`,
      nameAddressAs: null,
      latestParty: {
        id: party.id,
        name: e.party,
        abbreviation: party.abbreviation,
        backgroundColour: party.colour,
        foregroundColour: "ffffff",
        isLordsMainParty: false,
        isLordsSpiritualParty: false,
        governmentType: null,
        isIndependentParty: e.party === "Independent",
      },
      gender: "F",
      latestHouseMembership: {
        membershipFrom: e.constituency,
        membershipFromId: 4000 + (e.id % 1000),
        house: 1,
        membershipStartDate: `${e.since}T00:00:00`,
        membershipEndDate: null,
        membershipEndReason: null,
        membershipEndReasonNotes: null,
        membershipEndReasonId: null,
        membershipStatus: {
          statusIsActive: true,
          statusDescription: "Current Member",
          statusNotes: null,
          statusId: 0,
          status: 0,
          statusStartDate: `${e.since}T00:00:00`,
        },
      },
      thumbnailUrl: `https://members-api.parliament.uk/api/Members/${e.id}/Thumbnail`,
    },
    links: [
      { rel: "self", href: `/Members/${e.id}`, method: "GET" },
      { rel: "overview", href: `/Members/${e.id}`, method: "GET" },
      { rel: "synopsis", href: `/Members/${e.id}/Synopsis`, method: "GET" },
      { rel: "contactInformation", href: `/Members/${e.id}/Contact`, method: "GET" },
    ],
  };
}

/** One page of Members/Search. */
export function searchPage(roster: RosterEntry[], skip: number, take: number, totalResults = roster.length) {
  return {
    items: roster.slice(skip, skip + take).map(memberItem),
    totalResults,
    resultContext: "",
    skip,
    take,
    links: [
      {
        rel: "self",
        href: `/Members/Search?House=1&IsCurrentMember=true&skip=${skip}&take=${take}`,
        method: "GET",
      },
      {
        rel: "page.next",
        href: `/Members/Search?House=1&IsCurrentMember=true&skip=${skip + take}&take=${take}`,
        method: "GET",
      },
      {
        rel: "page.previous",
        href: `/Members/Search?House=1&IsCurrentMember=true&skip=${Math.max(0, skip - take)}&take=${take}`,
        method: "GET",
      },
    ],
  };
}

/** Members/{id}/Contact: the Parliamentary office (with the address, if any), a constituency office, a web page. */
export function contactBody(e: RosterEntry) {
  const office = (over: Record<string, unknown>) => ({
    type: "Parliamentary office",
    typeDescription: "Parliamentary office",
    typeId: 1,
    isPreferred: false,
    isWebAddress: false,
    notes: null,
    line1: "House of Commons",
    line2: "London",
    line3: null,
    line4: null,
    line5: null,
    postcode: "SW1A 0AA",
    phone: "020 7219 3000",
    fax: null,
    email: null,
    ...over,
  });
  return {
    value: [
      office({ email: e.email }),
      office({
        type: "Constituency office",
        typeDescription: "Constituency office",
        typeId: 4,
        isPreferred: true,
        line1: `${e.constituency} office`,
        line2: null,
        postcode: null,
        phone: null,
      }),
      office({
        type: "Website",
        typeDescription: "Website",
        typeId: 6,
        isWebAddress: true,
        line1: `https://members.parliament.uk/member/${e.id}`,
        line2: null,
        postcode: null,
        phone: null,
      }),
    ],
    links: [{ rel: "self", href: `/Members/${e.id}/Contact`, method: "GET" }],
  };
}

export type MembersApiControl = {
  /** The House it serves: edit it to stage a change. */
  roster: RosterEntry[];
  /** Paths requested (with query), in order. */
  calls: string[];
  /** Answer Members/Search with this HTTP status instead (e.g. 500). */
  searchStatus?: number;
  /** Announce this many results but serve only the roster (a partial answer). */
  announce?: number;
  /** Answer Contact for these ids with HTTP 503. */
  contactDown?: Set<number>;
};

/** msw handlers serving `control.roster` in the real shapes, 20 per page like the live API. */
export function membersApiServer(roster: RosterEntry[] = dataRoster()) {
  const control: MembersApiControl = { roster, calls: [] };
  const handlers = [
    http.get(`${MEMBERS_API}/api/Members/Search`, ({ request }) => {
      const url = new URL(request.url);
      control.calls.push(`${url.pathname}${url.search}`);
      if (control.searchStatus) return new HttpResponse(null, { status: control.searchStatus });
      const skip = Number(url.searchParams.get("skip") ?? 0);
      const take = Math.min(20, Number(url.searchParams.get("take") ?? 20));
      return HttpResponse.json(
        searchPage(control.roster, skip, take, control.announce ?? control.roster.length),
      );
    }),
    http.get(`${MEMBERS_API}/api/Members/:id/Contact`, ({ request, params }) => {
      control.calls.push(new URL(request.url).pathname);
      const id = Number(params.id);
      if (control.contactDown?.has(id)) return new HttpResponse(null, { status: 503 });
      const e = control.roster.find((r) => r.id === id);
      return e
        ? HttpResponse.json(contactBody(e))
        : HttpResponse.json({ status: 404, title: "Not Found" }, { status: 404 });
    }),
  ];
  return { control, handlers };
}

/** Edit a roster entry by constituency name (throws if the seat isn't in it). */
export function seat(roster: RosterEntry[], constituency: string): RosterEntry {
  const e = roster.find((r) => r.constituency === constituency);
  if (!e) throw new Error(`no roster entry for ${constituency}`);
  return e;
}
