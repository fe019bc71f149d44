/**
 * Stand-ins for the devolved parliaments' official member data, for msw, answering in the real
 * shapes (see the headers of src/adapters/http/scottish-parliament.ts, senedd.ts and
 * ni-assembly.ts for where those shapes come from):
 *
 * - data.parliament.scot/api: members, constituencies, regions, MemberElectionConstituencyStatuses,
 *   MemberElectionregionStatuses, memberparties, parties, emailaddresses, websites (plain JSON
 *   arrays, PascalCase, "2026-05-07T00:00:00" dates). As the real data does, it also holds the
 *   abolished 2011 constituencies and regions, a former MSP whose old regional status was never
 *   closed, and the shortened region name "Central Scot and Lothians West".
 * - business.senedd.wales/mgwebservice.asmx/GetCouncillorsByWard: Modern.gov XML by "ward".
 * - data.niassembly.gov.uk/members.asmx/GetAllCurrentMembers_JSON and
 *   GetAllMemberContactDetails_JSON (with its `EmaiAddress` field).
 *
 * The people they serve start as data/devolved/*.csv (the real parliaments of 2026), given ids
 * (the Scottish ones are the real PersonIDs; the Senedd and Assembly ids here are made up) and,
 * for MSs and MLAs, addresses in the parliaments' own patterns. A test edits `control` to stage
 * a resignation, a defection, a new address, an outage or a broken answer.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse } from "csv-parse/sync";
import { HttpResponse, http } from "msw";
import { ROOT_DIR } from "../../src/adapters/node/deps";

export const SCOTTISH_API = "https://data.parliament.scot/api";
export const SENEDD_API = "https://business.senedd.wales";
export const NI_API = "https://data.niassembly.gov.uk";

export type DevolvedEntry = {
  id: number;
  name: string;
  party: string;
  /** The area's name as the parliament spells it. */
  area: string;
  kind: "constituency" | "region";
  email: string | null;
  since: string;
};

const csv = (file: string) =>
  parse(readFileSync(resolve(ROOT_DIR, "data/devolved", file), "utf8"), { columns: true }) as Record<
    string,
    string
  >[];

/** "Jo Bloggs" -> "jo.bloggs" (the parliaments' mailbox pattern). */
const mailbox = (name: string) =>
  name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^A-Za-z -]/g, "")
    .trim()
    .split(/\s+/)
    .join(".");

export function msps(): DevolvedEntry[] {
  return csv("msps.csv").map((r) => ({
    id: Number(r.scotparl_person_id),
    name: r.name ?? "",
    party: r.party ?? "",
    area: (r.seat_type === "constituency" ? r.constituency : r.region) ?? "",
    kind: r.seat_type === "constituency" ? "constituency" : "region",
    email: r.email || null,
    since: r.term_start || "2026-05-07",
  }));
}

export function mss(): DevolvedEntry[] {
  return csv("mss.csv").map((r, i) => ({
    id: 12001 + i,
    name: r.name ?? "",
    party: r.party ?? "",
    area: r.senedd_constituency ?? "",
    kind: "constituency",
    email: `${mailbox(r.name ?? "")}@senedd.wales`,
    since: "2026-05-07",
  }));
}

export function mlas(): DevolvedEntry[] {
  return csv("mlas.csv").map((r, i) => ({
    id: 5001 + i,
    name: r.name ?? "",
    party: r.party ?? "",
    area: r.assembly_constituency ?? "",
    kind: "constituency",
    email: `${mailbox(r.name ?? "")}@mla.niassembly.gov.uk`,
    since: "2022-05-05",
  }));
}

const HOLYROOD_AREAS = csv("holyrood-areas.csv");
/** As data.parliament.scot names this region. */
const API_REGION_NAME: Record<string, string> = {
  "Central Scotland and Lothians West": "Central Scot and Lothians West",
};
const at = (day: string) => `${day}T00:00:00`;

/** The Scottish Parliament's datasets for a list of current MSPs (plus the history the real data keeps). */
export function scottishDatasets(people: DevolvedEntry[]) {
  const regions = HOLYROOD_AREAS.filter((a) => a.area_type === "SPE").map((a, i) => ({
    ID: 31 + i,
    Name: API_REGION_NAME[a.name ?? ""] ?? a.name,
    StartDate: at("2026-05-07"),
    EndDate: null,
  }));
  // The 2011 regions, ended: a region of the same name must not be mistaken for the new one.
  const oldRegions = ["Glasgow", "Lothian", "North East Scotland"].map((name, i) => ({
    ID: 11 + i,
    Name: name,
    StartDate: at("2011-05-05"),
    EndDate: at("2026-05-06"),
  }));
  const regionId = new Map(
    HOLYROOD_AREAS.filter((a) => a.area_type === "SPE").map((a, i) => [a.code ?? "", 31 + i]),
  );
  const constituencies = HOLYROOD_AREAS.filter((a) => a.area_type === "SPC").map((a, i) => ({
    ID: 501 + i,
    Name: a.name,
    ShortName: a.name,
    RegionID: regionId.get(a.region_code ?? "") ?? 0,
    ValidFromDate: at("2026-05-07"),
    ValidUntilDate: null,
  }));
  const oldConstituencies = [
    {
      ID: 104,
      Name: "Edinburgh Central",
      ShortName: "Edinburgh Central",
      RegionID: 12,
      ValidFromDate: at("2011-05-05"),
      ValidUntilDate: at("2026-05-06"),
    },
  ];
  const areaId = (p: DevolvedEntry) =>
    p.kind === "constituency"
      ? constituencies.find((c) => c.Name === p.area)?.ID
      : regions.find((r) => r.Name === (API_REGION_NAME[p.area] ?? p.area))?.ID;
  const partyNames = [...new Set(people.map((p) => p.party))].sort();
  const partyId = (name: string) => 1 + partyNames.indexOf(name);
  const former = {
    PersonID: 999901,
    ParliamentaryName: "Former, Frankie",
    PreferredName: "Frankie",
    IsCurrent: false,
  };
  return {
    members: [
      ...people.map((p) => {
        const words = p.name.split(" ");
        return {
          PersonID: p.id,
          PhotoURL: null,
          Notes: "",
          BirthDate: null,
          BirthDateIsProtected: true,
          ParliamentaryName: `${words.slice(-1)[0]}, ${words.slice(0, -1).join(" ")}`,
          PreferredName: words.slice(0, -1).join(" "),
          GenderTypeID: 3,
          IsCurrent: true,
        };
      }),
      former,
    ],
    constituencies: [...oldConstituencies, ...constituencies],
    regions: [...oldRegions, ...regions],
    MemberElectionConstituencyStatuses: people
      .filter((p) => p.kind === "constituency")
      .map((p) => ({
        PersonID: p.id,
        ConstituencyID: areaId(p),
        ElectionStatusID: 1,
        ValidFromDate: at(p.since),
        ValidUntilDate: null,
      })),
    MemberElectionregionStatuses: [
      ...people
        .filter((p) => p.kind === "region")
        .map((p) => ({
          PersonID: p.id,
          RegionID: areaId(p),
          ElectionStatusID: 1,
          ValidFromDate: at(p.since),
          ValidUntilDate: null,
        })),
      // A former MSP whose 2021 regional status was never closed (the real data has such rows).
      {
        PersonID: former.PersonID,
        RegionID: 12,
        ElectionStatusID: 1,
        ValidFromDate: at("2021-05-06"),
        ValidUntilDate: null,
      },
    ],
    memberparties: people.map((p) => ({
      PersonID: p.id,
      PartyID: partyId(p.party),
      ValidFromDate: at(p.since),
      ValidUntilDate: null,
    })),
    parties: partyNames.map((name) => ({
      ID: partyId(name),
      PreferredName: name,
      ActualName: name,
      Abbreviation: name.slice(0, 4),
      ValidFromDate: at("1999-05-06"),
      ValidUntilDate: null,
    })),
    emailaddresses: people.flatMap((p) =>
      p.email
        ? [
            { PersonID: p.id, Address: p.email, AddressTypeID: 1, IsDefault: true },
            // A second, non-default address: the default one is chosen.
            { PersonID: p.id, Address: `office.${p.id}@example.org`, AddressTypeID: 2, IsDefault: false },
          ]
        : [],
    ),
    websites: people.map((p) => ({
      PersonID: p.id,
      WebURL: `https://www.parliament.scot/msps/current-and-previous-msps/${p.name.toLowerCase().replace(/[^a-z]+/g, "-")}`,
      IsDefault: false,
    })),
  };
}

const xml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** GetCouncillorsByWard for a list of MSs. */
export function seneddXml(people: DevolvedEntry[]) {
  const wards = new Map<string, DevolvedEntry[]>();
  for (const p of people) wards.set(p.area, [...(wards.get(p.area) ?? []), p]);
  const councillor = (p: DevolvedEntry) => `
        <councillor>
          <councillorid>${p.id}</councillorid>
          <fullusername>${xml(p.name)} MS</fullusername>
          <photosmallurl>https://business.senedd.wales/UserData/${p.id}/small.jpg</photosmallurl>
          <politicalpartytitle>${xml(p.party)}</politicalpartytitle>
          <politicalgrouptitle></politicalgrouptitle>
          <districttitle></districttitle>
          <representing></representing>
          <keyposts></keyposts>
          <workaddress>
            <line1>Senedd Cymru</line1><line2>Cardiff Bay</line2><line3>Cardiff</line3><line4></line4><line5></line5>
            <postcode>CF99 1SN</postcode><phone>0300 200 6565</phone><email>${p.email ? xml(p.email) : ""}</email>
          </workaddress>
          <homeaddress><line1>Private</line1><email>home.${p.id}@example.org</email></homeaddress>
          <termsofoffice><termofoffice><startdate>08/05/2026</startdate><enddate>unspecified</enddate></termofoffice></termsofoffice>
        </councillor>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<councillorsbyward>
  <wards>${[...wards]
    .map(
      ([ward, list]) => `
    <ward>
      <wardtitle>${xml(ward)}</wardtitle>
      <councillors>${list.map(councillor).join("")}
      </councillors>
    </ward>`,
    )
    .join("")}
  </wards>
</councillorsbyward>`;
}

/** GetAllCurrentMembers_JSON and GetAllMemberContactDetails_JSON for a list of MLAs. */
export function niJson(people: DevolvedEntry[]) {
  const split = (name: string) => {
    const words = name.split(" ");
    return { first: words.slice(0, -1).join(" "), last: words.slice(-1)[0] ?? "" };
  };
  return {
    members: {
      AllMembersList: {
        Member: people.map((p) => {
          const { first, last } = split(p.name);
          return {
            PersonId: String(p.id),
            AffiliationId: String(20000 + p.id),
            MemberName: `${last}, ${first}`,
            MemberLastName: last,
            MemberFirstName: first,
            MemberFullDisplayName: `Mx ${p.name}`,
            MemberSortName: `${last}${first}`.toUpperCase(),
            MemberTitle: `MLA - ${p.area}`,
            MemberPrefix: "Mx",
            PartyName: p.party,
            PartyOrganisationId: "111",
            ConstituencyName: p.area,
            ConstituencyId: "1",
            MemberImgUrl: `http://aims.niassembly.gov.uk/images/mla/${p.id}_s.jpg`,
          };
        }),
      },
    },
    contacts: {
      AllMembersList: {
        Member: people.flatMap((p) =>
          p.email
            ? [
                {
                  PersonId: String(p.id),
                  AddressType: "NIA Constituency Address",
                  Address1: "1 Main Street",
                  PostCode: "BT1 1AA",
                  EmaiAddress: `office.${p.id}@co.niassembly.gov.uk`,
                },
                {
                  PersonId: String(p.id),
                  AddressType: "Parliament Buildings",
                  Address1: "Stormont",
                  PostCode: "BT4 3XX",
                  EmaiAddress: p.email,
                },
              ]
            : [
                {
                  PersonId: String(p.id),
                  AddressType: "NIA Constituency Address",
                  Address1: "1 Main Street",
                  PostCode: "BT1 1AA",
                  EmaiAddress: "",
                },
              ],
        ),
      },
    },
  };
}

/** msw handlers for the three sources; `control` holds the people they serve and their faults. */
export function devolvedApiServer() {
  const control = {
    msps: msps(),
    mss: mss(),
    mlas: mlas(),
    /** Sources answering HTTP 500. */
    down: new Set<"scottish" | "senedd" | "ni" | "ni-contacts">(),
    /** Paths asked, in order. */
    calls: [] as string[],
  };
  const handlers = [
    http.get(`${SCOTTISH_API}/:dataset`, ({ params, request }) => {
      control.calls.push(new URL(request.url).pathname);
      if (control.down.has("scottish")) return HttpResponse.json({ message: "error" }, { status: 500 });
      const data = scottishDatasets(control.msps) as Record<string, unknown>;
      const body = data[String(params.dataset)];
      return body ? HttpResponse.json(body) : HttpResponse.json({ message: "Not found" }, { status: 404 });
    }),
    http.get(`${SENEDD_API}/mgwebservice.asmx/GetCouncillorsByWard`, ({ request }) => {
      control.calls.push(new URL(request.url).pathname);
      if (control.down.has("senedd")) return new HttpResponse("<html>Server Error</html>", { status: 500 });
      return new HttpResponse(seneddXml(control.mss), {
        headers: { "content-type": "text/xml; charset=utf-8" },
      });
    }),
    http.get(`${NI_API}/members.asmx/:method`, ({ params, request }) => {
      control.calls.push(new URL(request.url).pathname);
      const json = niJson(control.mlas);
      if (params.method === "GetAllCurrentMembers_JSON")
        return control.down.has("ni")
          ? HttpResponse.json({}, { status: 500 })
          : HttpResponse.json(json.members);
      if (params.method === "GetAllMemberContactDetails_JSON")
        return control.down.has("ni-contacts")
          ? HttpResponse.json({}, { status: 500 })
          : HttpResponse.json(json.contacts);
      return HttpResponse.json({}, { status: 404 });
    }),
  ];
  return { control, handlers };
}

export const person = (list: DevolvedEntry[], name: string) => {
  const p = list.find((x) => x.name === name);
  if (!p) throw new Error(`no ${name} in the stand-in roster`);
  return p;
};
