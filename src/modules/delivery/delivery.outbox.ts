/**
 * Building outbox rows. Every email the service sends is one outbox row holding the rendered
 * message, so sending is a pure function of the row (no template or letter lookups at send time)
 * and a retry sends byte-for-byte the same message with the same Message-ID.
 */
import type { outbox } from "../../db/schema.letters";
import type { Deps } from "../../deps";
import { insertOutboxWhere, type NewOutboxRow } from "./delivery.machine";

export type { NewOutboxRow };
/** Queueing a row on a condition lives with the state machine (the owner of outbox writes). */
export { insertOutboxWhere };

/** Who actually receives a row's message in the configured mode. */
export function actualRecipient(
  deps: Pick<Deps, "config">,
  row: Pick<typeof outbox.$inferSelect, "alwaysReflect" | "toEmail" | "toName" | "reflectTo">,
): { name?: string; address: string } {
  const reflect =
    row.alwaysReflect ||
    deps.config.MAIL_MODE === "reflect" ||
    /\.invalid$/i.test(row.toEmail) ||
    row.toEmail === "";
  if (reflect && row.reflectTo !== row.toEmail) return { address: row.reflectTo };
  return { name: row.toName ?? undefined, address: row.toEmail };
}

export type OutboxMessage = {
  kind: NewOutboxRow["kind"];
  letterId: string | null;
  /** A new row starts here (the state machine's INITIAL_STATES). */
  state: "awaiting_confirmation" | "queued";
  toName: string | null;
  toEmail: string;
  reflectTo: string;
  alwaysReflect?: boolean;
  fromName: string;
  replyToName?: string | null;
  replyTo?: string | null;
  subject: string;
  bodyText: string;
  /** Not before (defaults to now). */
  notBefore?: number;
  expiresAt?: number | null;
};

/** Message-IDs use the campaign's sending domain, as RFC 5322 recommends. */
export function messageIdFor(deps: Pick<Deps, "config">, id: string): string {
  const domain = deps.config.MAIL_FROM.split("@")[1] ?? "speakup.invalid";
  return `<${id}@${domain}>`;
}

export function outboxRow(deps: Pick<Deps, "config" | "clock" | "ids">, m: OutboxMessage): NewOutboxRow {
  const now = deps.clock.now();
  const id = deps.ids.uuid();
  return {
    id,
    kind: m.kind,
    letterId: m.letterId,
    state: m.state,
    toName: m.toName,
    toEmail: m.toEmail,
    reflectTo: m.reflectTo,
    alwaysReflect: m.alwaysReflect ?? false,
    fromName: m.fromName,
    replyToName: m.replyToName ?? null,
    replyTo: m.replyTo ?? null,
    subject: m.subject,
    bodyText: m.bodyText,
    messageId: messageIdFor(deps, id),
    attempts: 0,
    nextAttemptAt: m.notBefore ?? now,
    expiresAt: m.expiresAt ?? null,
    createdAt: now,
    updatedAt: now,
  };
}
