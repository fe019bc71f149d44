/**
 * The database schema, shared by better-sqlite3 (Node) and D1 (Workers). Invariants live here:
 * unique keys, CHECK constraints and foreign keys, so no code path can write a row the domain
 * forbids. Times are integer milliseconds since the epoch, always supplied by deps.clock.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

export const NATIONS = ["England", "Scotland", "Wales", "Northern Ireland", "Test"] as const;
export type Nation = (typeof NATIONS)[number];

/** Westminster constituencies on the 2024 boundaries, keyed by ONS (GSS) code. */
export const constituencies = sqliteTable(
  "constituencies",
  {
    onsCode: text("ons_code").primaryKey(),
    name: text("name").notNull(),
    nation: text("nation", { enum: NATIONS }).notNull(),
    regionCode: text("region_code").notNull(),
    regionName: text("region_name").notNull(),
    /** Cell in the ODI Leeds hex map of the 650 seats (odd-r layout), for the dashboard map. */
    hexQ: integer("hex_q"),
    hexR: integer("hex_r"),
    /** The ZZ9 9ZZ test seat: excluded from public counts and never a real recipient. */
    isTest: integer("is_test", { mode: "boolean" }).notNull().default(false),
  },
  (t) => [
    uniqueIndex("constituencies_name_uq").on(t.name),
    check(
      "constituencies_nation_ck",
      sql`${t.nation} in ('England','Scotland','Wales','Northern Ireland','Test')`,
    ),
  ],
);

export const SEAT_STATUSES = ["sitting", "vacant"] as const;
export type SeatStatus = (typeof SEAT_STATUSES)[number];

/**
 * The MP for each seat: one row per constituency. A seat with no sitting MP (death,
 * resignation, recall) keeps its row with status 'vacant' and no person, so "vacant" is an
 * explicit fact rather than a missing row.
 */
export const members = sqliteTable(
  "members",
  {
    constituencyCode: text("constituency_code")
      .primaryKey()
      .references(() => constituencies.onsCode),
    status: text("status", { enum: SEAT_STATUSES }).notNull(),
    /** UK Parliament Members API id. */
    parliamentId: integer("parliament_id"),
    name: text("name"),
    party: text("party"),
    partyAbbreviation: text("party_abbreviation"),
    /** Official address; null when none is known, which makes the MP not contactable by email. */
    email: text("email"),
    /** Mail to this member comes back to the sender (the ZZ9 9ZZ test MP). */
    reflectsToSender: integer("reflects_to_sender", { mode: "boolean" }).notNull().default(false),
    /** Date (YYYY-MM-DD) the member took the seat, when the source says: a by-election's polling day. */
    since: text("since"),
    /**
     * When the member's contact details were last read from the Members API. The sync reads the
     * least recently checked first, so a capped number of requests per run covers everyone in turn.
     */
    emailCheckedAt: integer("email_checked_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("members_parliament_id_uq").on(t.parliamentId),
    check(
      "members_vacancy_ck",
      sql`(${t.status} = 'vacant' and ${t.name} is null and ${t.parliamentId} is null) or (${t.status} = 'sitting' and ${t.name} is not null)`,
    ),
  ],
);

/** Candidates standing in an election (imported from Democracy Club's CSV). */
export const candidates = sqliteTable(
  "candidates",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    electionId: text("election_id").notNull(),
    constituencyCode: text("constituency_code")
      .notNull()
      .references(() => constituencies.onsCode),
    /** Democracy Club person id. */
    personId: integer("person_id").notNull(),
    name: text("name").notNull(),
    party: text("party"),
    email: text("email"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("candidates_election_person_uq").on(t.electionId, t.personId),
    index("candidates_election_constituency_ix").on(t.electionId, t.constituencyCode),
  ],
);

/**
 * Postcode -> constituency, imported from ONS NSPL/ONSPD. `postcode` is the normalised form
 * ("SW1A 1AA"). Terminated postcodes are kept so we can say "no longer in use" instead of
 * "not found".
 */
export const postcodes = sqliteTable("postcodes", {
  postcode: text("postcode").primaryKey(),
  constituencyCode: text("constituency_code"),
  terminated: integer("terminated", { mode: "boolean" }).notNull().default(false),
});

/** Remote answers (postcodes.io, Members API) reused until `expires_at`. */
export const lookupCache = sqliteTable(
  "lookup_cache",
  {
    key: text("key").primaryKey(),
    value: text("value", { mode: "json" }).notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("lookup_cache_expires_ix").on(t.expiresAt)],
);
export * from "./schema.admin";
export * from "./schema.delivery";
export * from "./schema.devolved";
export * from "./schema.letters";
export * from "./schema.limits";
export * from "./schema.members";
export * from "./schema.partners";
export * from "./schema.pledges";
export * from "./schema.replies";
export * from "./schema.widget";
