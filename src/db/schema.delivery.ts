/**
 * Delivery health: the relay's state (is the outbox paused?) and representatives' addresses
 * whose mail comes back.
 *
 * Invariants held here:
 * - One relay row (id 'outbox'): a relay-wide failure (wrong password, sender refused, relay
 *   unreachable, TLS, an API key refused) pauses every send until a probe succeeds. Messages are
 *   never consumed by such a failure; the pause is the alert.
 * - One flag per address (lower-cased): a hard bounce flags the representative's address and no
 *   letter is sent to it until the address data changes or a campaign lead clears the flag.
 */
import { sql } from "drizzle-orm";
import { check, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

export const RELAY_STATES = ["ok", "paused"] as const;
export type RelayState = (typeof RELAY_STATES)[number];

export const relayStatus = sqliteTable(
  "relay_status",
  {
    /** Always 'outbox' (room for one row per transport if there is ever more than one). */
    id: text("id").primaryKey(),
    state: text("state", { enum: RELAY_STATES }).notNull(),
    /** Stable reason code: auth, sender_refused, connection, tls, relay_denied, api_auth, ... */
    reason: text("reason"),
    /** The relay's short answer (status line), never message content or addresses. */
    detail: text("detail"),
    /** When the current pause began. */
    since: integer("since"),
    /** Consecutive relay-wide failures; sets the back-off before the next probe. */
    failures: integer("failures").notNull().default(0),
    /** A paused outbox tries the relay again (probe) from then on. */
    nextProbeAt: integer("next_probe_at"),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    check("relay_status_state_ck", sql`${t.state} in ('ok','paused')`),
    check("relay_status_paused_ck", sql`${t.state} <> 'paused' or ${t.nextProbeAt} is not null`),
  ],
);

/** A representative's address that hard-bounced. */
export const recipientFlags = sqliteTable("recipient_flags", {
  /** Lower-cased address, as compared with lower(outbox.to_email). */
  address: text("address").primaryKey(),
  /** Status code (5.1.1) and the remote server's short answer. */
  detail: text("detail").notNull(),
  /** The message whose bounce raised the flag. */
  outboxId: text("outbox_id"),
  /** How we learned: smtp (refused at RCPT), dsn (inbound report), webhook (mail provider). */
  source: text("source").notNull(),
  flaggedAt: integer("flagged_at").notNull(),
});
