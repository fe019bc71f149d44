/**
 * The parliaments a supporter can write to, and what the app needs to know about each: its
 * name, what its members are called, the nation it serves, the source its members are synced
 * from, and where a member's official contact page is.
 */
import type { Body, DevolvedBody } from "../../db/schema.devolved";
import type { RepKind } from "../../db/schema.pledges";

export type BodyInfo = {
  body: Body;
  /** "the Scottish Parliament" reads naturally in a sentence. */
  name: string;
  shortName: string;
  /** What a member is called after their name: MP, MSP, MS, MLA. */
  role: string;
  roleLong: string;
  /** The nation whose supporters write to it (null: the Commons, every nation). */
  nation: "Scotland" | "Wales" | "Northern Ireland" | null;
  /** The rep_pledges / letters kind of its members. */
  repKind: RepKind;
  /** member_syncs.source of a sync from its official data. */
  syncSource: string;
  /** Where anyone can find a member's contact details when we hold none for them. */
  directoryUrl: string;
};

export const BODY_INFO: Record<Body, BodyInfo> = {
  uk_parliament: {
    body: "uk_parliament",
    name: "the UK Parliament",
    shortName: "UK Parliament",
    role: "MP",
    roleLong: "Member of Parliament",
    nation: null,
    repKind: "mp",
    syncSource: "members-api",
    directoryUrl: "https://members.parliament.uk/members/commons",
  },
  scottish_parliament: {
    body: "scottish_parliament",
    name: "the Scottish Parliament",
    shortName: "Scottish Parliament",
    role: "MSP",
    roleLong: "Member of the Scottish Parliament",
    nation: "Scotland",
    repKind: "msp",
    syncSource: "scottish-parliament",
    directoryUrl: "https://www.parliament.scot/msps/current-and-previous-msps",
  },
  senedd: {
    body: "senedd",
    name: "the Senedd (Welsh Parliament)",
    shortName: "Senedd",
    role: "MS",
    roleLong: "Member of the Senedd",
    nation: "Wales",
    repKind: "ms",
    syncSource: "senedd",
    directoryUrl: "https://senedd.wales/find-a-member-of-the-senedd/",
  },
  ni_assembly: {
    body: "ni_assembly",
    name: "the Northern Ireland Assembly",
    shortName: "NI Assembly",
    role: "MLA",
    roleLong: "Member of the Legislative Assembly",
    nation: "Northern Ireland",
    repKind: "mla",
    syncSource: "ni-assembly",
    directoryUrl: "https://www.niassembly.gov.uk/your-mlas/",
  },
};

/** The devolved parliament of a nation (England has none). */
export function devolvedBodyOf(nation: string): DevolvedBody | null {
  if (nation === "Scotland") return "scottish_parliament";
  if (nation === "Wales") return "senedd";
  if (nation === "Northern Ireland") return "ni_assembly";
  return null;
}

export const bodyOfRepKind = (kind: RepKind): Body =>
  kind === "msp"
    ? "scottish_parliament"
    : kind === "ms"
      ? "senedd"
      : kind === "mla"
        ? "ni_assembly"
        : "uk_parliament";

/**
 * A member's official page, by their id at the body's own data (the Senedd's and the Assembly's
 * member pages are keyed by those ids). Without an id, the body's directory of members.
 */
export function memberContactUrl(body: DevolvedBody, sourceId: number | null): string {
  if (sourceId !== null && sourceId > 0) {
    if (body === "senedd") return `https://business.senedd.wales/mgUserInfo.aspx?UID=${sourceId}`;
    if (body === "ni_assembly")
      return `https://aims.niassembly.gov.uk/mlas/details.aspx?per=${sourceId}&sel=1&ind=0&prv=0`;
  }
  return BODY_INFO[body].directoryUrl;
}

/** Members each kind of area elects (used when loading areas and to show vacancies). */
export const SEATS_PER_AREA = {
  scottish_parliament: { constituency: 1, region: 7 },
  senedd: { constituency: 6, region: 0 },
  ni_assembly: { constituency: 5, region: 0 },
} as const;
