/**
 * Keeping the MPs current: one row per members sync (applied, refused by the guard, or failed),
 * the change log of what each applied sync changed, and the letters a change stopped.
 *
 * Invariants held here: kinds and statuses are closed sets (CHECK); a letter is stopped at most
 * once (primary key), so a sync run twice never tells a supporter twice.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { BODIES } from "./bodies";
import { constituencies } from "./schema";
import { devolvedAreas } from "./schema.devolved";
import { letters } from "./schema.letters";

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(","));

/** What started a sync: the start-up seed, the Node timer, the Workers cron, the CLI, a file import. */
export const MEMBER_SYNC_TRIGGERS = ["seed", "schedule", "cron", "cli", "import"] as const;
export type MemberSyncTrigger = (typeof MEMBER_SYNC_TRIGGERS)[number];

/**
 * applied: the answer was written (possibly with no change at all). refused: the guard found an
 * implausible share of seats changing and wrote nothing. failed: the source could not be read
 * (down, partial or malformed answer) and nothing was written.
 */
export const MEMBER_SYNC_STATUSES = ["applied", "refused", "failed"] as const;
export type MemberSyncStatus = (typeof MEMBER_SYNC_STATUSES)[number];

export const memberSyncs = sqliteTable(
  "member_syncs",
  {
    /** deps.ids.uuid(): known before the write, so a sync's rows all go in one atomic batch. */
    id: text("id").primaryKey(),
    /** Whose members: the Commons (MPs) or a devolved parliament. Each keeps its own schedule and guard. */
    body: text("body", { enum: BODIES }).notNull().default("uk_parliament"),
    trigger: text("trigger", { enum: MEMBER_SYNC_TRIGGERS }).notNull(),
    /**
     * Where the roster came from: "members-api", "scottish-parliament", "senedd", "ni-assembly"
     * (the official sources) or a file name. Never personal data.
     */
    source: text("source").notNull(),
    status: text("status", { enum: MEMBER_SYNC_STATUSES }).notNull(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at").notNull(),
    /** Members in the answer (null when it could not be read). */
    membersReceived: integer("members_received"),
    /** Seats whose MP, party, name or address would change (refused) or changed (applied). */
    seatsChanged: integer("seats_changed").notNull().default(0),
    /** Rows written to member_changes. */
    changes: integer("changes").notNull().default(0),
    /** Members API contact lookups made. */
    contactsChecked: integer("contacts_checked").notNull().default(0),
    /** Letters stopped because their MP left (the supporters were told). */
    lettersStopped: integer("letters_stopped").notNull().default(0),
    /** Letters not yet sent whose MP's address changed, moved to the new address. */
    lettersRedirected: integer("letters_redirected").notNull().default(0),
    /** Applied past the guard on purpose (`sync:members --force`, or a baseline load). */
    forced: integer("forced", { mode: "boolean" }).notNull().default(false),
    /** Why it was refused or failed, in words a campaign lead can act on. */
    detail: text("detail"),
  },
  (t) => [
    index("member_syncs_finished_ix").on(t.finishedAt),
    index("member_syncs_body_ix").on(t.body, t.finishedAt),
    check("member_syncs_body_ck", sql`${t.body} in (${inList(BODIES)})`),
    check("member_syncs_status_ck", sql`${t.status} in (${inList(MEMBER_SYNC_STATUSES)})`),
    check("member_syncs_trigger_ck", sql`${t.trigger} in (${inList(MEMBER_SYNC_TRIGGERS)})`),
  ],
);

/**
 * gained: a member took the seat. left: the member concerned is no longer the seat's MP.
 * vacant: the seat has nobody (always after a `left`). party / name / email: the same member's
 * details changed (`before` -> `after`).
 */
export const MEMBER_CHANGE_KINDS = ["gained", "left", "vacant", "party", "name", "email"] as const;
export type MemberChangeKind = (typeof MEMBER_CHANGE_KINDS)[number];

export const memberChanges = sqliteTable(
  "member_changes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    syncId: text("sync_id")
      .notNull()
      .references(() => memberSyncs.id),
    body: text("body", { enum: BODIES }).notNull().default("uk_parliament"),
    /** The Westminster seat (MPs). */
    constituencyCode: text("constituency_code").references(() => constituencies.onsCode),
    /** The devolved constituency or region (MSPs, MSs, MLAs). */
    areaCode: text("area_code").references(() => devolvedAreas.code),
    kind: text("kind", { enum: MEMBER_CHANGE_KINDS }).notNull(),
    /**
     * The member concerned (their id at the body's source: the Members API id for MPs, the
     * Scottish Parliament PersonID, the Senedd's or Assembly's member id) and display name; null
     * for a vacancy, or a devolved member the source gave no id.
     */
    parliamentId: integer("parliament_id"),
    memberName: text("member_name"),
    before: text("before"),
    after: text("after"),
    /** When it happened (YYYY-MM-DD), if the source says; otherwise it was noticed at recorded_at. */
    effectiveOn: text("effective_on"),
    recordedAt: integer("recorded_at").notNull(),
  },
  (t) => [
    index("member_changes_recorded_ix").on(t.recordedAt),
    index("member_changes_seat_ix").on(t.constituencyCode, t.recordedAt),
    index("member_changes_area_ix").on(t.areaCode, t.recordedAt),
    check("member_changes_kind_ck", sql`${t.kind} in (${inList(MEMBER_CHANGE_KINDS)})`),
    check("member_changes_body_ck", sql`${t.body} in (${inList(BODIES)})`),
    // An MP's change names a Westminster seat; a devolved member's names their area, never both.
    check(
      "member_changes_place_ck",
      sql`case when ${t.body} = 'uk_parliament' then ${t.constituencyCode} is not null and ${t.areaCode} is null else ${t.areaCode} is not null and ${t.constituencyCode} is null end`,
    ),
  ],
);

export const LETTER_STOP_REASONS = ["member_left", "seat_vacant"] as const;
export type LetterStopReason = (typeof LETTER_STOP_REASONS)[number];

/**
 * Letters that were not sent because their MP left the seat before they went, and what the
 * supporter was told. The letter itself is `cancelled`; this row says why.
 */
export const letterStops = sqliteTable(
  "letter_stops",
  {
    letterId: text("letter_id")
      .primaryKey()
      .references(() => letters.id),
    syncId: text("sync_id")
      .notNull()
      .references(() => memberSyncs.id),
    reason: text("reason", { enum: LETTER_STOP_REASONS }).notNull(),
    /** The seat's MP after the change (null when vacant), as named in the supporter's email. */
    newMemberName: text("new_member_name"),
    at: integer("at").notNull(),
    /**
     * When the supporter's email about it was queued. Stopping happens in the same write as the
     * members change; the email follows (it needs a template), so a crash in between leaves
     * this null and the next sync sends it.
     */
    notifiedAt: integer("notified_at"),
  },
  (t) => [
    index("letter_stops_unnotified_ix").on(t.notifiedAt),
    check("letter_stops_reason_ck", sql`${t.reason} in (${inList(LETTER_STOP_REASONS)})`),
  ],
);
