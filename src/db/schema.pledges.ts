/**
 * Pledges, their running tallies, and the privacy tables.
 *
 * Invariants held here:
 * - One supporter pledge per mailbox per campaign: UNIQUE (campaign_id, email_norm), where
 *   email_norm is the mailbox's key (lib/email.ts emailKey; Gmail dots and +tags don't make a
 *   second pledge). `email` keeps the address as typed, for sending.
 *   Two parallel submits therefore make one row; the loser's INSERT ... ON CONFLICT DO NOTHING
 *   finds the winner's row.
 * - Consent is explicit: the pledge consent's wording version and time are NOT NULL; the
 *   optional updates consent has its version and time exactly when it was given (CHECK).
 * - One representative pledge per (campaign, kind, person): UNIQUE. Verified rows say how (CHECK).
 * - Counts live in `pledge_tallies`, bumped in the same atomic write that confirms a pledge and
 *   never decremented by retention or erasure, so scrubbing personal data leaves counts intact
 *   and the dashboard reads a few hundred rows instead of a million.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { constituencies } from "./schema";
import { devolvedAreas } from "./schema.devolved";

export const SUPPORTER_PLEDGE_STATUSES = ["unconfirmed", "confirmed"] as const;
export type SupporterPledgeStatus = (typeof SUPPORTER_PLEDGE_STATUSES)[number];

export const supporterPledges = sqliteTable(
  "supporter_pledges",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /**
     * 128 random bits (base64url): what the emailed confirm link names, so a link never reveals
     * how many pledges came before it. Always set by pledges.service (rows from before it was
     * added were given one by the migration); NULL-able only because SQLite can't add a NOT NULL
     * column to a table that has rows.
     */
    publicId: text("public_id"),
    campaignId: text("campaign_id").notNull(),
    /**
     * One key per mailbox (lib/email.ts emailKey: lower case, punycode domain, Gmail dots and
     * +tags dropped): the uniqueness key, so one mailbox makes one pledge however it is typed.
     */
    emailNorm: text("email_norm").notNull(),
    /** The address as typed (trimmed): where confirmation mail goes. NULL: rows from before, use email_norm. */
    email: text("email"),
    /** HMAC of email_norm (see suppressions): lets exports leave out suppressed addresses by join. */
    emailHash: text("email_hash").notNull(),
    name: text("name").notNull(),
    postcode: text("postcode").notNull(),
    constituencyCode: text("constituency_code")
      .notNull()
      .references(() => constituencies.onsCode),
    partnerKey: text("partner_key"),
    status: text("status", { enum: SUPPORTER_PLEDGE_STATUSES }).notNull(),
    /** The pledge box, ticked by the supporter: which wording they saw and when they ticked it. */
    pledgeConsentVersion: text("pledge_consent_version").notNull(),
    pledgeConsentAt: integer("pledge_consent_at").notNull(),
    /** The separate, optional box for campaign updates. */
    updatesConsentVersion: text("updates_consent_version"),
    updatesConsentAt: integer("updates_consent_at"),
    /** Set once the confirm has been added to pledge_tallies (guards against counting twice). */
    counted: integer("counted", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    /** Last confirmation email; a repeat submit resends only after a pause. */
    confirmSentAt: integer("confirm_sent_at"),
    /**
     * Outbox id of the last confirmation email. Written in the same atomic batch as that email,
     * whose insert is conditional on it: the mail is queued exactly when this request won the
     * right to send it (see createPledge), and neither happens without the other.
     */
    confirmMailId: text("confirm_mail_id"),
    confirmedAt: integer("confirmed_at"),
    /**
     * Ticked on a letter's details form: confirming that letter (one email, one click) confirms
     * this pledge too, so no second confirmation email is sent.
     */
    letterId: text("letter_id"),
  },
  (t) => [
    uniqueIndex("supporter_pledges_email_uq").on(t.campaignId, t.emailNorm),
    uniqueIndex("supporter_pledges_public_id_uq").on(t.publicId),
    // Retention: unconfirmed rows by age.
    index("supporter_pledges_status_created_ix").on(t.status, t.createdAt),
    index("supporter_pledges_letter_ix").on(t.letterId),
    check("supporter_pledges_status_ck", sql`${t.status} in ('unconfirmed','confirmed')`),
    check(
      "supporter_pledges_confirmed_ck",
      sql`(${t.status} = 'confirmed') = (${t.confirmedAt} is not null)`,
    ),
    check(
      "supporter_pledges_updates_consent_ck",
      sql`(${t.updatesConsentVersion} is null) = (${t.updatesConsentAt} is null)`,
    ),
    check("supporter_pledges_email_ck", sql`${t.emailNorm} = lower(trim(${t.emailNorm}))`),
  ],
);

/** mp, candidate: Westminster. msp, ms, mla: members of the Scottish Parliament, the Senedd, the NI Assembly. */
export const REP_KINDS = ["mp", "candidate", "msp", "ms", "mla"] as const;
export const DEVOLVED_REP_KINDS = ["msp", "ms", "mla"] as const;
export type RepKind = (typeof REP_KINDS)[number];
export const REP_PLEDGE_STATUSES = ["requested", "verified"] as const;
export const REP_VERIFIED_BY = ["link", "admin"] as const;

/**
 * Representatives' pledges: MPs, candidates, MSPs, MSs and MLAs. A row is made when a
 * verification link is sent to the official address (requested) or when a campaign lead records
 * a pledge; it becomes `verified` by the link or by the lead, whose note says how they know
 * (e.g. "signed at the launch event"). An MP's or candidate's row names their Westminster seat,
 * a devolved member's their devolved area.
 */
export const repPledges = sqliteTable(
  "rep_pledges",
  {
    id: text("id").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    kind: text("kind", { enum: REP_KINDS }).notNull(),
    /**
     * Parliament member id (MP), Democracy Club person id (candidate), or our devolved_members id
     * (MSP, MS, MLA: the shipped Senedd and Assembly lists carry no official ids).
     */
    personId: integer("person_id").notNull(),
    electionId: text("election_id"),
    constituencyCode: text("constituency_code").references(() => constituencies.onsCode),
    areaCode: text("area_code").references(() => devolvedAreas.code),
    /** Snapshot at pledge time: the wall shows who pledged, even after an election changes the MP. */
    name: text("name").notNull(),
    party: text("party"),
    status: text("status", { enum: REP_PLEDGE_STATUSES }).notNull(),
    verifiedBy: text("verified_by", { enum: REP_VERIFIED_BY }),
    verifiedNote: text("verified_note"),
    verifiedByUser: text("verified_by_user"),
    requestedAt: integer("requested_at").notNull(),
    linkSentAt: integer("link_sent_at"),
    /** Outbox id of the last verification link mail (same pattern as supporter_pledges.confirm_mail_id). */
    linkMailId: text("link_mail_id"),
    verifiedAt: integer("verified_at"),
  },
  (t) => [
    uniqueIndex("rep_pledges_person_uq").on(t.campaignId, t.kind, t.personId),
    index("rep_pledges_status_ix").on(t.campaignId, t.status),
    index("rep_pledges_constituency_ix").on(t.constituencyCode),
    index("rep_pledges_area_ix").on(t.areaCode),
    check("rep_pledges_kind_ck", sql`${t.kind} in ('mp','candidate','msp','ms','mla')`),
    check(
      "rep_pledges_place_ck",
      sql`case when ${t.kind} in ('mp','candidate') then ${t.constituencyCode} is not null and ${t.areaCode} is null else ${t.areaCode} is not null and ${t.constituencyCode} is null end`,
    ),
    check("rep_pledges_status_ck", sql`${t.status} in ('requested','verified')`),
    check(
      "rep_pledges_verified_ck",
      sql`(${t.status} = 'verified') = (${t.verifiedAt} is not null and ${t.verifiedBy} is not null)`,
    ),
    check("rep_pledges_admin_note_ck", sql`${t.verifiedBy} is not 'admin' or ${t.verifiedNote} is not null`),
  ],
);

export const TALLY_DIMENSIONS = ["day", "constituency", "partner", "partner_day", "partner_nation"] as const;
export type TallyDimension = (typeof TALLY_DIMENSIONS)[number];

/**
 * Confirmed supporter pledges per day (key "2026-11-23"), per constituency (ONS code) and per
 * partner ("" = none). Region, nation and party are derived by joining the constituency tallies
 * (650 rows) to constituencies and members. A partner's own page reads `partner` (its total, the
 * dashboard's figure) and, for pledges credited to a partner, `partner_day`
 * ("acme|2026-11-23") and `partner_nation` ("acme|Wales"), bumped in the same guarded write.
 */
export const pledgeTallies = sqliteTable(
  "pledge_tallies",
  {
    campaignId: text("campaign_id").notNull(),
    dimension: text("dimension", { enum: TALLY_DIMENSIONS }).notNull(),
    key: text("key").notNull(),
    n: integer("n").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.dimension, t.key] }),
    check(
      "pledge_tallies_dimension_ck",
      sql`${t.dimension} in ('day','constituency','partner','partner_day','partner_nation')`,
    ),
  ],
);

/**
 * Addresses whose owner asked us to erase their data, kept only as an HMAC (under the fingerprint
 * key derived from TOKEN_SECRET, see lib/tokens.ts) of the normalised address: enough to keep them off any marketing list, useless to anyone
 * reading the table.
 */
export const suppressions = sqliteTable("suppressions", {
  emailHash: text("email_hash").primaryKey(),
  reason: text("reason").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const PRIVACY_REQUEST_KINDS = ["export", "erase"] as const;

/**
 * A supporter's request to export or erase their data, made from the privacy page. The emailed
 * link's token names this row, so the address itself never appears in a link. Rows expire
 * with the link and are deleted by the retention job.
 */
export const privacyRequests = sqliteTable(
  "privacy_requests",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: PRIVACY_REQUEST_KINDS }).notNull(),
    /** The mailbox's key (lib/email.ts emailKey). */
    emailNorm: text("email_norm").notNull(),
    /** The address as typed, where the link goes (cleared once the request is processed). */
    email: text("email"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    /**
     * Requests are answered off the response path (privacy.service processPrivacyRequests): the
     * page does one insert whoever asks, and the outbox worker decides whether there is anything
     * to send. NULL: not yet processed.
     */
    processedAt: integer("processed_at"),
    /** A link was mailed for this request (at most one per address and kind per window). */
    mailed: integer("mailed", { mode: "boolean" }).notNull().default(false),
    completedAt: integer("completed_at"),
  },
  (t) => [
    index("privacy_requests_expires_ix").on(t.expiresAt),
    index("privacy_requests_pending_ix").on(t.processedAt),
    index("privacy_requests_email_ix").on(t.emailNorm, t.kind, t.createdAt),
    check("privacy_requests_kind_ck", sql`${t.kind} in ('export','erase')`),
  ],
);

export const LETTER_TALLY_DIMENSIONS = [
  "day",
  "constituency",
  "partner",
  "recipient",
  "partner_day",
  "partner_nation",
] as const;

/**
 * Letters confirmed by their writers, per day of confirmation ("2026-11-23"), constituency,
 * partner ("" = none) and recipient ("mp|E14001063|Jane Smith"); for letters credited to a
 * partner, also per partner and day ("acme|2026-11-23") and per partner and the writer's nation
 * ("acme|Scotland"), for the partner's own page. Scanning 200,000 letters with
 * their bodies takes seconds; these few thousand rows answer the dashboard in milliseconds.
 * A letter counts once it is confirmed, whatever happens to it later (held, sent, bounced).
 */
export const letterTallies = sqliteTable(
  "letter_tallies",
  {
    campaignId: text("campaign_id").notNull(),
    dimension: text("dimension", { enum: LETTER_TALLY_DIMENSIONS }).notNull(),
    key: text("key").notNull(),
    n: integer("n").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.dimension, t.key] }),
    check(
      "letter_tallies_dimension_ck",
      sql`${t.dimension} in ('day','constituency','partner','recipient','partner_day','partner_nation')`,
    ),
  ],
);

/** Letters already added to letter_tallies: makes counting idempotent whoever triggers it. */
export const letterCounted = sqliteTable("letter_counted", {
  letterId: text("letter_id").primaryKey(),
});

/** Where the background tally pass resumes (letters' rowid). */
export const tallyCursors = sqliteTable("tally_cursors", {
  name: text("name").primaryKey(),
  position: integer("position").notNull(),
});
