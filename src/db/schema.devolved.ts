/**
 * The devolved parliaments: the Scottish Parliament (MSPs), the Senedd (MSs) and the Northern
 * Ireland Assembly (MLAs). Their areas, how those areas relate to the 2024 Westminster seats,
 * their members (kept current by the same sync, change log and guard as the MPs), and what a
 * postcode is known to lie in.
 *
 * Invariants held here:
 * - Bodies, area kinds and link shares are closed sets (CHECK); a region belongs to Scotland only,
 *   and a Scottish constituency names its region.
 * - One member row per person a body's source knows (UNIQUE (body, source_id)); a member sits
 *   for one area of their own body (FK, and the body is checked against the area's by code
 *   prefix: S16/S17 Scotland, W09 Wales, N06 Northern Ireland).
 * - A postcode's devolved areas are codes we hold (FK), so an import can't point anyone at an
 *   abolished or mistyped area.
 */
import { sql } from "drizzle-orm";
import {
  type AnySQLiteColumn,
  check,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { DEVOLVED_BODIES } from "./bodies";
import { constituencies } from "./schema";

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(","));

/**
 * Parliaments a supporter can write to. `uk_parliament` is the Commons (members, candidates).
 * Defined in ./bodies (no imports): schema.members needs them while this module may still be
 * loading (this module imports ./schema, which loads schema.members).
 */
export { BODIES, type Body, DEVOLVED_BODIES, type DevolvedBody } from "./bodies";

/** A constituency elects one member (Holyrood) or several (Senedd: 6, Assembly: 5); a region 7 list MSPs. */
export const AREA_KINDS = ["constituency", "region"] as const;
export type AreaKind = (typeof AREA_KINDS)[number];

/** GSS code prefixes of each body's areas (Holyrood constituencies S16, regions S17). */
const AREA_CODE_CK = sql.raw(
  "(body = 'scottish_parliament' and ((kind = 'constituency' and code glob 'S16[0-9]*') or (kind = 'region' and code glob 'S17[0-9]*')))" +
    " or (body = 'senedd' and kind = 'constituency' and code glob 'W09[0-9]*')" +
    " or (body = 'ni_assembly' and kind = 'constituency' and code glob 'N06[0-9]*')",
);

export const devolvedAreas = sqliteTable(
  "devolved_areas",
  {
    /** GSS code: S16 (Holyrood constituency), S17 (Holyrood region), W09 (Senedd), N06 (Assembly). */
    code: text("code").primaryKey(),
    body: text("body", { enum: DEVOLVED_BODIES }).notNull(),
    kind: text("kind", { enum: AREA_KINDS }).notNull(),
    name: text("name").notNull(),
    /** Welsh name (Senedd constituencies), where it differs or is known. */
    nameCy: text("name_cy"),
    /** A Holyrood constituency's region. */
    regionCode: text("region_code").references((): AnySQLiteColumn => devolvedAreas.code),
    /** Members the area elects: 1 (Holyrood constituency), 7 (region), 6 (Senedd), 5 (Assembly). */
    seats: integer("seats").notNull(),
    /** First day of these boundaries (YYYY-MM-DD). */
    validFrom: text("valid_from"),
  },
  (t) => [
    uniqueIndex("devolved_areas_name_uq").on(t.body, t.kind, t.name),
    check("devolved_areas_body_ck", sql`${t.body} in (${inList(DEVOLVED_BODIES)})`),
    check("devolved_areas_kind_ck", sql`${t.kind} in (${inList(AREA_KINDS)})`),
    check("devolved_areas_code_ck", AREA_CODE_CK),
    check("devolved_areas_seats_ck", sql`${t.seats} between 1 and 10`),
    check(
      "devolved_areas_region_ck",
      sql`(${t.body} = 'scottish_parliament' and ${t.kind} = 'constituency') = (${t.regionCode} is not null)`,
    ),
  ],
);

/**
 * whole: every postcode of the Westminster seat lies in the area (a Senedd constituency is the
 * union of two 2024 seats). most: the area the seat mostly lies in (an Assembly constituency on
 * the 2010 boundaries and its successor seat). part: the seat also takes in part of this area,
 * so a supporter there is asked to choose.
 */
export const LINK_SHARES = ["whole", "most", "part"] as const;
export type LinkShare = (typeof LINK_SHARES)[number];

/** Which devolved areas a 2024 Westminster seat's postcodes can lie in (Wales and Northern Ireland). */
export const devolvedAreaLinks = sqliteTable(
  "devolved_area_links",
  {
    westminsterCode: text("westminster_code")
      .notNull()
      .references(() => constituencies.onsCode),
    areaCode: text("area_code")
      .notNull()
      .references(() => devolvedAreas.code),
    share: text("share", { enum: LINK_SHARES }).notNull(),
    /** Where the relationship comes from (a file and its source), shown to nobody but kept for audit. */
    source: text("source").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.westminsterCode, t.areaCode] }),
    index("devolved_area_links_area_ix").on(t.areaCode),
    check("devolved_area_links_share_ck", sql`${t.share} in (${inList(LINK_SHARES)})`),
  ],
);

/**
 * The sitting members of the devolved parliaments: one row per member. A seat nobody holds has
 * no row (an area with fewer rows than `seats` has vacancies), so a vacancy is visible without
 * placeholder rows in multi-member areas.
 */
export const devolvedMembers = sqliteTable(
  "devolved_members",
  {
    /** Ours, stable while the member sits: MS/MLA/MSP pledges are keyed by it. */
    id: integer("id").primaryKey({ autoIncrement: true }),
    body: text("body", { enum: DEVOLVED_BODIES }).notNull(),
    areaCode: text("area_code")
      .notNull()
      .references(() => devolvedAreas.code),
    /**
     * The member's id at the body's own data: the Scottish Parliament's PersonID, the Senedd's
     * (ModernGov) member id, the Assembly's (AIMS) PersonId. Null until a sync has read it (the
     * shipped Senedd and Assembly lists have none).
     */
    sourceId: integer("source_id"),
    name: text("name").notNull(),
    party: text("party"),
    /** Official address; null makes the member shown but not contactable. */
    email: text("email"),
    /** Official page where the member can be contacted (shown when we can't send a letter). */
    contactUrl: text("contact_url"),
    /** When the member took the seat (YYYY-MM-DD), when the source says. */
    since: text("since"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("devolved_members_source_uq").on(t.body, t.sourceId),
    index("devolved_members_area_ix").on(t.areaCode),
    check("devolved_members_body_ck", sql`${t.body} in (${inList(DEVOLVED_BODIES)})`),
    check(
      "devolved_members_area_body_ck",
      sql`(${t.body} = 'scottish_parliament' and (${t.areaCode} glob 'S16*' or ${t.areaCode} glob 'S17*')) or (${t.body} = 'senedd' and ${t.areaCode} glob 'W09*') or (${t.body} = 'ni_assembly' and ${t.areaCode} glob 'N06*')`,
    ),
  ],
);

/**
 * The devolved areas a postcode lies in, from official postcode lookups (the Scottish Postcode
 * Directory, an ONS file with a Senedd column, ...) or the shipped samples whose areas are known.
 * A postcode absent here is answered from postcodes.io, or from the Westminster seat's links.
 */
export const postcodeAreas = sqliteTable("postcode_areas", {
  postcode: text("postcode").primaryKey(),
  holyroodConstituency: text("holyrood_constituency").references(() => devolvedAreas.code),
  holyroodRegion: text("holyrood_region").references(() => devolvedAreas.code),
  senedd: text("senedd").references(() => devolvedAreas.code),
  assembly: text("assembly").references(() => devolvedAreas.code),
  /** The file the row came from (never personal data). */
  source: text("source").notNull(),
});
