/**
 * Building outbox rows. Every email the service sends is one outbox row holding the rendered
 * message, so sending is a pure function of the row (no template or letter lookups at send time)
 * and a retry sends byte-for-byte the same message with the same Message-ID.
 */
import { getTableColumns, is, SQL, sql } from "drizzle-orm";
import { outbox } from "../../db/schema.letters";
import type { Deps, Statement } from "../../deps";

export type NewOutboxRow = typeof outbox.$inferInsert;

export type OutboxMessage = {
  kind: NewOutboxRow["kind"];
  letterId: string | null;
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

/**
 * An INSERT of `row` that takes effect only if `condition` holds when it runs: `INSERT INTO outbox
 * SELECT <row> WHERE <condition>`. For atomic batches where a mail must be queued exactly when
 * another statement of the batch took effect (a conditional UPDATE that claimed the right to send
 * it), with no read in between, so it works the same in a SQLite transaction and a D1 batch.
 */
export function insertOutboxWhere(deps: Pick<Deps, "db">, row: NewOutboxRow, condition: SQL): Statement {
  const values = Object.entries(getTableColumns(outbox)).map(([key, column]) => {
    const value = (row as Record<string, unknown>)[key];
    if (value !== undefined) return sql.param(value, column);
    const fallback = column.default;
    if (fallback === undefined || fallback === null) return sql`null`;
    return is(fallback, SQL) ? fallback : sql.param(fallback, column);
  });
  return deps.db.insert(outbox).select(sql`select ${sql.join(values, sql`, `)} where ${condition}`);
}
