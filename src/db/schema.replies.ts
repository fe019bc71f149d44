/**
 * The MP's side of the conversation: what supporters tell us about replies, and the digests each
 * representative's office can get.
 *
 * Invariants held here: one reply record per letter (PRIMARY KEY); stances are a JSON object
 * (CHECK); one opt-out per office (PRIMARY KEY); one digest per office per period (UNIQUE), which
 * is what makes a digest run idempotent on Node and D1 alike.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { letters } from "./schema.letters";

/** What a reply said about one ask, as the supporter read it. */
export const REPLY_STANCES = ["supports", "partly", "against", "not_mentioned"] as const;
export type ReplyStance = (typeof REPLY_STANCES)[number];

/**
 * A reply the supporter pasted in (optional) and its stance on each ask of their letter. The text
 * is the supporter's to give and to take back: scrubbed by retention and erasure like the letter
 * body; the stances (no personal data) stay for the campaign's figures.
 */
export const letterReplies = sqliteTable(
  "letter_replies",
  {
    letterId: text("letter_id")
      .primaryKey()
      .references(() => letters.id),
    replyText: text("reply_text"),
    /** { askId: stance } for the asks of the letter the supporter rated. */
    stances: text("stances", { mode: "json" }).$type<Record<string, ReplyStance>>().notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("letter_replies_stances_ck", sql`json_valid(${t.stances}) and json_type(${t.stances}) = 'object'`),
  ],
);

/** mp, msp, ms, mla: the offices that can get a digest (candidates have none). */
export const DIGEST_RECIPIENT_KINDS = ["mp", "msp", "ms", "mla"] as const;

/**
 * An office that asked for no more digests (the one-click link in every digest: a page with a
 * button; the POST records it). Per campaign and representative: a new MP for the seat starts
 * with digests on.
 */
export const digestOptOuts = sqliteTable(
  "digest_opt_outs",
  {
    campaignId: text("campaign_id").notNull(),
    recipientKind: text("recipient_kind", { enum: DIGEST_RECIPIENT_KINDS }).notNull(),
    personId: integer("person_id").notNull(),
    optedOutAt: integer("opted_out_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.recipientKind, t.personId] }),
    check("digest_opt_outs_kind_ck", sql`${t.recipientKind} in ('mp','msp','ms','mla')`),
  ],
);

/**
 * One digest per office per period (periodStart: "2026-11-23", the Monday a weekly period
 * starts). Written in the same atomic write as its outbox row, which is inserted only if this
 * row names it: a second run, or a second process, queues nothing.
 */
export const digests = sqliteTable(
  "digests",
  {
    id: text("id").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    recipientKind: text("recipient_kind", { enum: DIGEST_RECIPIENT_KINDS }).notNull(),
    personId: integer("person_id").notNull(),
    periodStart: text("period_start").notNull(),
    outboxId: text("outbox_id").notNull(),
    /** Letters from constituents in the period, as the digest said. */
    letters: integer("letters").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("digests_period_uq").on(t.campaignId, t.recipientKind, t.personId, t.periodStart),
    index("digests_outbox_ix").on(t.outboxId),
    check("digests_kind_ck", sql`${t.recipientKind} in ('mp','msp','ms','mla')`),
  ],
);
