/**
 * Letters and their delivery. `letters` is what a supporter wrote (one row per letter, the
 * reporting unit for the dashboard); `outbox` is the source of truth for every email we send
 * (the letter itself, confirmation, reminder, "sent" notice, follow-up, pledge/privacy service
 * mail), one row per message;
 * `delivery_log` has one row per send attempt; `captured_mail` holds what MAIL_MODE=capture
 * kept instead of sending.
 *
 * Invariants held here rather than in code: states are a closed set (CHECK), one letter per
 * idempotency key (UNIQUE), at most one letter-bearing outbox row per letter (partial UNIQUE),
 * one log row per (outbox row, attempt).
 */
import { sql } from "drizzle-orm";
import { check, index, integer, real, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { constituencies } from "./schema";
import { devolvedAreas } from "./schema.devolved";

/** mp, candidate: Westminster. msp, ms, mla: a member of the Scottish Parliament, the Senedd, the NI Assembly. */
export const RECIPIENT_KINDS = ["mp", "candidate", "msp", "ms", "mla"] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];

/**
 * The letter's life as the supporter and the dashboard see it. Delivery detail (attempts,
 * retries) lives in the outbox row; this is kept in step by the same atomic writes.
 */
export const LETTER_STATUSES = [
  "awaiting_confirmation",
  "confirmed", // queued for sending
  "held", // confirmed but flagged as a near-duplicate: waits for a moderator
  "sent",
  "undeliverable", // dead or bounced
  "cancelled",
  "expired", // never confirmed
] as const;
export type LetterStatus = (typeof LETTER_STATUSES)[number];

export const REPLY_ANSWERS = ["yes", "no", "not_yet"] as const;
export type ReplyAnswer = (typeof REPLY_ANSWERS)[number];

const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(","));

export const letters = sqliteTable(
  "letters",
  {
    id: text("id").primaryKey(),
    campaignId: text("campaign_id").notNull(),
    /** The supporter's Westminster seat (every letter has one: counts by seat and nation use it). */
    constituencyCode: text("constituency_code")
      .notNull()
      .references(() => constituencies.onsCode),
    recipientKind: text("recipient_kind", { enum: RECIPIENT_KINDS }).notNull(),
    /**
     * Parliament member id (MP), Democracy Club person id (candidate), or our devolved_members id
     * (MSP, MS, MLA), when known.
     */
    recipientPersonId: integer("recipient_person_id"),
    /** The devolved constituency or region the MSP, MS or MLA sits for. */
    areaCode: text("area_code").references(() => devolvedAreas.code),
    /**
     * Letters written together (to the MP and the devolved members, each with the asks their
     * parliament can act on) share a group: one confirmation sends them all.
     */
    groupId: text("group_id"),
    recipientName: text("recipient_name").notNull(),
    /** Partner site the letter came through (widget), if any. */
    partnerKey: text("partner_key"),
    status: text("status", { enum: LETTER_STATUSES }).notNull(),
    /** Ask ids chosen, JSON array. */
    asks: text("asks", { mode: "json" }).$type<string[]>().notNull(),
    subject: text("subject").notNull(),
    /** The full plain-text body as sent, sign-off included. Scrubbed by the retention job. */
    body: text("body").notNull(),
    supporterName: text("supporter_name").notNull(),
    /** As typed (trimmed): where the supporter's mail goes. */
    supporterEmail: text("supporter_email").notNull(),
    /**
     * One key per mailbox (lib/email.ts emailKey: lower case, punycode domain, Gmail dots and
     * +tags dropped): what limits, the one-letter-per-representative rule, the similarity check
     * and privacy requests compare. NULL only for rows written before it existed.
     */
    supporterEmailKey: text("supporter_email_key"),
    /** Full postal address, one line per element, joined by "\n". */
    supporterAddress: text("supporter_address").notNull(),
    supporterPostcode: text("supporter_postcode").notNull(),
    /** sha256(supporter email + client key): a double submit finds the first letter. */
    idempotencyKey: text("idempotency_key").notNull(),
    /** MinHash signature of the supporter's own words (JSON numbers), null if too short to compare. */
    signature: text("signature", { mode: "json" }).$type<number[]>(),
    /** Highest estimated similarity to another supporter's letter, when checked. */
    similarity: real("similarity"),
    similarTo: text("similar_to"),
    /**
     * Why the letter goes to a moderator instead of out when it is confirmed (JSON array of
     * reasons: letters.flags.ts), besides a high `similarity`. Empty or null: nothing found.
     */
    flags: text("flags", { mode: "json" }).$type<string[]>(),
    /** When names, email addresses and the postal address were removed (privacy: retention). */
    anonymisedAt: integer("anonymised_at"),
    createdAt: integer("created_at").notNull(),
    confirmedAt: integer("confirmed_at"),
    sentAt: integer("sent_at"),
    /**
     * Last time a confirmation link for this letter was queued: "send the link again" waits a
     * short pause after it, so the button cannot be used to flood an inbox.
     */
    confirmSentAt: integer("confirm_sent_at"),
    /** Follow-up answer: did the representative reply? */
    replyAnswer: text("reply_answer", { enum: REPLY_ANSWERS }),
    replyAnsweredAt: integer("reply_answered_at"),
    /**
     * A chase letter ("I wrote on ... and have had no reply") names the letter it follows up: at
     * most one chase per letter (UNIQUE), so a double click or a replayed link sends one.
     */
    chaseOf: text("chase_of"),
    /**
     * Outbox id of the "no reply yet? send a follow-up" email, queued when the supporter says
     * there was no reply before the chase is due: the claim that makes it one per letter.
     */
    chasePromptMailId: text("chase_prompt_mail_id"),
    /**
     * The separate, unticked box "my MP's office may read my story in a summary" (digests): which
     * wording and when; `sharedStory` is the supporter's own words, kept only with that consent
     * and scrubbed with the letter body (retention, erasure).
     */
    storyShareConsentVersion: text("story_share_consent_version"),
    storyShareConsentAt: integer("story_share_consent_at"),
    sharedStory: text("shared_story"),
  },
  (t) => [
    uniqueIndex("letters_idempotency_uq").on(t.idempotencyKey),
    index("letters_constituency_created_ix").on(t.constituencyCode, t.createdAt),
    index("letters_email_key_created_ix").on(t.supporterEmailKey, t.createdAt),
    index("letters_campaign_created_ix").on(t.campaignId, t.createdAt),
    index("letters_status_ix").on(t.status),
    index("letters_group_ix").on(t.groupId),
    uniqueIndex("letters_chase_of_uq").on(t.chaseOf).where(sql`${t.chaseOf} is not null`),
    // Reply rates by representative read only the letters someone answered the follow-up for.
    index("letters_reply_ix")
      .on(t.recipientKind, t.recipientPersonId)
      .where(sql`${t.replyAnswer} is not null`),
    check("letters_status_ck", sql`${t.status} in (${inList(LETTER_STATUSES)})`),
    check("letters_recipient_kind_ck", sql`${t.recipientKind} in (${inList(RECIPIENT_KINDS)})`),
    // A devolved member's letter names their area; an MP's or candidate's never does.
    check("letters_area_ck", sql`(${t.recipientKind} in ('msp','ms','mla')) = (${t.areaCode} is not null)`),
    check(
      "letters_reply_answer_ck",
      sql`${t.replyAnswer} is null or ${t.replyAnswer} in (${inList(REPLY_ANSWERS)})`,
    ),
  ],
);

/** MinHash LSH bands of a letter's signature: letters sharing a band are similarity candidates. */
export const letterBands = sqliteTable(
  "letter_bands",
  {
    band: text("band").notNull(),
    letterId: text("letter_id")
      .notNull()
      .references(() => letters.id, { onDelete: "cascade" }),
  },
  (t) => [index("letter_bands_band_ix").on(t.band), index("letter_bands_letter_ix").on(t.letterId)],
);

export const OUTBOX_STATES = [
  "awaiting_confirmation",
  "held",
  "queued",
  "sending",
  "sent",
  "failed",
  "dead",
  "bounced",
  "cancelled",
  "expired",
] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/**
 * `service`: pledge and privacy service mail (pledge confirm, MP/candidate pledge link, export
 * and erasure links). Not tied to a letter; sent, retried and marked dead like the rest.
 * `bounce_notice`: telling the supporter their letter was returned by the representative's mail
 * server, with a copy of it.
 * `webhook`: not an email. A signed JSON event POSTed to a partner's webhook URL (which is read
 * from partner_webhooks at send time, so a corrected URL applies to what is still waiting). The
 * row holds the event body (body_text), its type (subject) and id (message_id, the
 * `webhook-id`); to_email, reflect_to and from_name are unused (''). Same states, claims,
 * retries, backoff and dead state as mail, through the same state machine, but its own
 * transport: a partner's endpoint being down never pauses the mail relay, nor the reverse.
 */
export const OUTBOX_KINDS = [
  "letter",
  "confirm",
  "reminder",
  "sent_notice",
  "followup",
  "service",
  "bounce_notice",
  "webhook",
] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    kind: text("kind", { enum: OUTBOX_KINDS }).notNull(),
    letterId: text("letter_id").references(() => letters.id),
    state: text("state", { enum: OUTBOX_STATES }).notNull(),
    /** The intended recipient. */
    toName: text("to_name"),
    toEmail: text("to_email").notNull(),
    /**
     * Where the message goes instead in reflect mode, and always for a recipient who reflects
     * (the test MP): the supporter's own address.
     */
    reflectTo: text("reflect_to").notNull(),
    alwaysReflect: integer("always_reflect", { mode: "boolean" }).notNull().default(false),
    /** Display name on From (the supporter's name for letters). */
    fromName: text("from_name").notNull(),
    replyToName: text("reply_to_name"),
    replyTo: text("reply_to"),
    subject: text("subject").notNull(),
    bodyText: text("body_text").notNull(),
    /** `<outbox id@domain>`; the same on every attempt so a resend is recognisably one message. */
    messageId: text("message_id").notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** When a queued/failed row may next be claimed. */
    nextAttemptAt: integer("next_attempt_at").notNull(),
    /** A row in `sending` belongs to its claimer until then; afterwards anyone may reclaim it. */
    leaseUntil: integer("lease_until"),
    /**
     * Set by each claim (one random value per claim pass): every outcome write names it, so a
     * worker whose claim was taken over can never record anything on the newer claim.
     */
    claimToken: text("claim_token"),
    /**
     * Attempts after which the row is dead; null means OUTBOX_MAX_ATTEMPTS. A requeue from the
     * dashboard or CLI raises it, so attempt numbers (and the delivery log) stay unique.
     */
    attemptLimit: integer("attempt_limit"),
    /** Why a cancelled row was cancelled ("replaced", "erased", "rejected", "mp_left", ...). */
    cancelReason: text("cancel_reason"),
    /** An awaiting_confirmation row expires then; a reminder goes out half-way. */
    expiresAt: integer("expires_at"),
    remindedAt: integer("reminded_at"),
    lastError: text("last_error"),
    /**
     * Workers: when the outbox sweep last put the row's id on the delivery queue because the
     * queue seemed to have lost it (so it does so at most once per grace period).
     */
    enqueuedAt: integer("enqueued_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    sentAt: integer("sent_at"),
    /** Webhook rows: the partner whose endpoint receives it (and who alone may see the row). */
    partnerKey: text("partner_key"),
    /**
     * Webhook rows: what the event is about ("letter.confirmed:<letter id>"): one event per
     * partner and subject (UNIQUE), however often a confirmation is replayed.
     */
    eventKey: text("event_key"),
  },
  (t) => [
    check("outbox_state_ck", sql`${t.state} in (${inList(OUTBOX_STATES)})`),
    check("outbox_kind_ck", sql`${t.kind} in (${inList(OUTBOX_KINDS)})`),
    check("outbox_webhook_partner_ck", sql`(${t.kind} = 'webhook') = (${t.partnerKey} is not null)`),
    check("outbox_sending_lease_ck", sql`${t.state} <> 'sending' or ${t.leaseUntil} is not null`),
    check("outbox_attempts_ck", sql`${t.attempts} >= 0`),
    uniqueIndex("outbox_message_id_uq").on(t.messageId),
    // One letter mail, one "sent" notice and one follow-up per letter: however often a confirm
    // is replayed or a stale worker finishes a send late, nobody gets these twice.
    uniqueIndex("outbox_letter_kind_uq")
      .on(t.letterId, t.kind)
      .where(sql`${t.kind} in ('letter', 'sent_notice', 'followup', 'bounce_notice')`),
    // The claim query: due rows by state and time.
    index("outbox_due_ix").on(t.state, t.nextAttemptAt),
    index("outbox_letter_ix").on(t.letterId, t.kind),
    uniqueIndex("outbox_webhook_event_uq").on(t.partnerKey, t.eventKey).where(sql`${t.eventKey} is not null`),
    // A partner's deliveries, newest first (its own page).
    index("outbox_partner_ix").on(t.partnerKey, t.createdAt),
  ],
);

/**
 * `reclaimed`: the lease lapsed with the outcome unknown (the sender died). `lost`: the relay
 * accepted the message but the row had already moved on (its claim was taken over), so the
 * acceptance could not be recorded on it: an alarm, never a normal outcome.
 */
export const DELIVERY_OUTCOMES = [
  "sent",
  "temporary_failure",
  "permanent_failure",
  "reclaimed",
  "lost",
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/**
 * One row per attempt (UNIQUE): a relay-wide failure (which pauses the outbox) gives the attempt
 * back instead of logging it. `detail` is the relay's short answer, never message content.
 */
export const deliveryLog = sqliteTable(
  "delivery_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    outboxId: text("outbox_id")
      .notNull()
      .references(() => outbox.id),
    attempt: integer("attempt").notNull(),
    outcome: text("outcome", { enum: DELIVERY_OUTCOMES }).notNull(),
    smtpCode: integer("smtp_code"),
    detail: text("detail"),
    at: integer("at").notNull(),
  },
  (t) => [
    uniqueIndex("delivery_log_attempt_uq").on(t.outboxId, t.attempt),
    check("delivery_log_outcome_ck", sql`${t.outcome} in (${inList(DELIVERY_OUTCOMES)})`),
  ],
);

/** MAIL_MODE=capture: what would have been sent. Viewable at /dev/mail. */
export const capturedMail = sqliteTable(
  "captured_mail",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    messageId: text("message_id").notNull(),
    fromHeader: text("from_header").notNull(),
    toHeader: text("to_header").notNull(),
    replyTo: text("reply_to"),
    /**
     * The bare addresses of To and Reply-To, lower-cased: erasure finds a person's captured mail
     * by exact match (an index lookup, and no LIKE pattern that D1 would refuse over 50 bytes).
     */
    toAddress: text("to_address"),
    replyToAddress: text("reply_to_address"),
    subject: text("subject").notNull(),
    text: text("text").notNull(),
    capturedAt: integer("captured_at").notNull(),
  },
  (t) => [
    index("captured_mail_message_ix").on(t.messageId),
    index("captured_mail_to_ix").on(t.toAddress),
    index("captured_mail_reply_to_ix").on(t.replyToAddress),
  ],
);
