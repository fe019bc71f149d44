/**
 * Partners as users of the service: their contacts' invitations, the supporters who agreed to
 * hear from a partner, and each partner's signed webhook.
 *
 * Invariants held here:
 * - An invitation names one partner and one address; it is accepted at most once (accepted_at)
 *   and only before it expires. The account it makes is an admin_users row with role 'partner'
 *   and that partner's key (schema.admin.ts), so sign-in, sessions and the password rules are
 *   the campaign leads' own.
 * - A partner consent is the supporter's own tick on a box naming the partner, recorded with the
 *   wording's version and time, against the letter (group) or pledge it was given with. It
 *   counts only once that letter or pledge is confirmed from the supporter's inbox
 *   (confirmed_at), so nobody can sign someone else up by typing their address. One row per
 *   partner and source (UNIQUE): a double submit records one consent.
 * - A webhook's signing secret is never stored: the row keeps a random nonce per secret and the
 *   secret is derived from it and TOKEN_SECRET (HKDF, see modules/partners/partners.webhooks.ts).
 *   During a rotation the previous nonce is kept until `previous_until`, and each delivery
 *   carries a signature under both secrets.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { partners } from "./schema.widget";

export const partnerInvitations = sqliteTable(
  "partner_invitations",
  {
    id: text("id").primaryKey(),
    partnerKey: text("partner_key")
      .notNull()
      .references(() => partners.key, { onDelete: "cascade" }),
    /** Lower-cased: the account's sign-in address. */
    email: text("email").notNull(),
    /** The campaign lead who sent it (admin_users.id). */
    invitedBy: text("invited_by"),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    acceptedAt: integer("accepted_at"),
  },
  (t) => [
    index("partner_invitations_partner_ix").on(t.partnerKey),
    index("partner_invitations_expires_ix").on(t.expiresAt),
    check("partner_invitations_email_ck", sql`${t.email} = lower(${t.email})`),
  ],
);

export const PARTNER_CONSENT_SOURCES = ["letter", "pledge"] as const;
export type PartnerConsentSource = (typeof PARTNER_CONSENT_SOURCES)[number];

export const partnerConsents = sqliteTable(
  "partner_consents",
  {
    id: text("id").primaryKey(),
    partnerKey: text("partner_key")
      .notNull()
      .references(() => partners.key, { onDelete: "cascade" }),
    /** What the consent was given with: a letter (group id = its first letter's id) or a pledge. */
    source: text("source", { enum: PARTNER_CONSENT_SOURCES }).notNull(),
    /** letters.group_id (or the letter's id when written alone), or supporter_pledges.public_id. */
    sourceRef: text("source_ref").notNull(),
    /** Trimmed, lower-cased: what erasure and export look for. */
    emailNorm: text("email_norm").notNull(),
    name: text("name").notNull(),
    /** The wording the supporter ticked (modules/partners/partners.consent.ts) and when. */
    wordingVersion: text("wording_version").notNull(),
    consentedAt: integer("consented_at").notNull(),
    /** The letter or pledge was confirmed from the supporter's inbox: only then does it count. */
    confirmedAt: integer("confirmed_at"),
  },
  (t) => [
    uniqueIndex("partner_consents_source_uq").on(t.partnerKey, t.source, t.sourceRef),
    index("partner_consents_partner_ix").on(t.partnerKey, t.confirmedAt),
    index("partner_consents_email_ix").on(t.emailNorm),
    index("partner_consents_source_ix").on(t.source, t.sourceRef),
    check("partner_consents_source_ck", sql`${t.source} in ('letter','pledge')`),
    check("partner_consents_email_ck", sql`${t.emailNorm} = lower(trim(${t.emailNorm}))`),
  ],
);

export const WEBHOOK_EVENTS = ["letter.confirmed", "pledge.confirmed", "representative.pledged"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const partnerWebhooks = sqliteTable(
  "partner_webhooks",
  {
    /** One endpoint per partner. */
    partnerKey: text("partner_key")
      .primaryKey()
      .references(() => partners.key, { onDelete: "cascade" }),
    /** https:// (http:// only to loopback where WEBHOOK_ALLOW_PRIVATE allows it). Read at send time. */
    url: text("url").notNull(),
    /** JSON array of subscribed event types (WEBHOOK_EVENTS). */
    events: text("events", { mode: "json" }).$type<WebhookEvent[]>().notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    /** Random nonce the current signing secret is derived from. */
    secretNonce: text("secret_nonce").notNull(),
    secretCreatedAt: integer("secret_created_at").notNull(),
    /** The secret before the last rotation, still signed with until `previous_until`. */
    previousNonce: text("previous_nonce"),
    previousUntil: integer("previous_until"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("partner_webhooks_events_ck", sql`json_valid(${t.events}) and json_type(${t.events}) = 'array'`),
    check("partner_webhooks_previous_ck", sql`(${t.previousNonce} is null) = (${t.previousUntil} is null)`),
  ],
);
