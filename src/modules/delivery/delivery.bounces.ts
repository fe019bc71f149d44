/**
 * Bounces: what happens when a representative's mail server refuses a letter, told to us by
 * the relay at RCPT (synchronously), by a delivery status notification sent to the message's
 * VERP address (RFC 3464, the Node bounce listener), or by the mail provider's webhook.
 *
 * Rules:
 * - Only a signed token names the message (delivery.verp.ts). A forged or malformed token is
 *   ignored and logged; a valid token for a row we no longer hold is ignored and logged.
 * - Only a hard bounce counts: a DSN whose recipient Action is `failed` with a 5.x.x Status
 *   (except 5.2.2, mailbox full, which is temporary by nature), or a provider's "Permanent"
 *   bounce. Delays, soft bounces and auto-replies (RFC 3834 Auto-Submitted, out-of-office)
 *   are logged and change nothing.
 * - A hard bounce of a letter sent to the representative's real address, in one atomic write:
 *   the message becomes `bounced` (its letter `undeliverable`, its pending follow-up
 *   cancelled), the supporter is sent a notice with a copy of their letter and what they can do
 *   instead, and the address is flagged: the dashboard shows it and no further letter is sent to
 *   it until the address data changes or a campaign lead clears the flag. A letter that was
 *   reflected back to the supporter (test MP, reflect mode) bounced at the supporter's own
 *   address: no flag, and no notice to an address that does not work.
 * - Nothing personal is logged: outbox ids, status codes and where the report came from.
 */
import { and, eq, sql } from "drizzle-orm";
import { recipientFlags } from "../../db/schema.delivery";
import { letters, outbox } from "../../db/schema.letters";
import type { Deps, Statement } from "../../deps";
import { bounceNoticeEmail } from "../letters/letters.emails";
import {
  announceInserted,
  EVENTS,
  insertOutboxWhen,
  type NewOutboxRow,
  transition,
} from "./delivery.machine";
import { actualRecipient } from "./delivery.outbox";
import { readBounceToken } from "./delivery.verp";

type OutboxRow = typeof outbox.$inferSelect;
export type BounceSource = "smtp" | "dsn" | "webhook";

/** Addresses are not repeated in logs or on the dashboard's detail line. */
export const withoutAddresses = (s: string) =>
  s
    .replace(/<?[^\s<>@]+@[^\s<>@]+>?/g, "<address>")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);

/**
 * The statements that go with a hard bounce of `row`, each guarded by the row being `bounced`
 * when it runs (so they do nothing if the transition did not happen): the supporter's notice
 * and the address flag. Rendered before the write.
 */
export async function bounceStatements(
  deps: Pick<Deps, "db" | "config" | "clock" | "ids" | "templates">,
  row: OutboxRow,
  info: { detail: string; source: BounceSource },
  /** Receives the notice row, to announce once the write has committed. */
  ready: NewOutboxRow[] = [],
): Promise<Statement[]> {
  if (row.kind !== "letter" || !row.letterId) return [];
  const reachedRepresentative =
    actualRecipient(deps, row).address.toLowerCase() === row.toEmail.toLowerCase();
  if (!reachedRepresentative) return [];
  const now = deps.clock.now();
  const out: Statement[] = [
    deps.db
      .insert(recipientFlags)
      .select(
        deps.db
          .select({
            address: sql`lower(${outbox.toEmail})`.as("address"),
            detail: sql`${withoutAddresses(info.detail)}`.as("detail"),
            outboxId: outbox.id,
            source: sql`${info.source}`.as("source"),
            flaggedAt: sql`${now}`.as("flagged_at"),
          })
          .from(outbox)
          .where(and(eq(outbox.id, row.id), eq(outbox.state, "bounced"))),
      )
      .onConflictDoNothing(),
  ];
  const [l] = await deps.db
    .select({
      id: letters.id,
      supporterName: letters.supporterName,
      supporterEmail: letters.supporterEmail,
      recipientName: letters.recipientName,
      recipientKind: letters.recipientKind,
      subject: letters.subject,
      body: letters.body,
    })
    .from(letters)
    .where(eq(letters.id, row.letterId));
  if (l) {
    const notice = bounceNoticeEmail(deps, l, info.detail);
    ready.push(notice);
    out.push(insertOutboxWhen(deps, notice, { id: row.id, state: "bounced" }));
  }
  return out;
}

export type BounceReport = {
  /** The signed token from the VERP address or the provider's tag. */
  token: string;
  hard: boolean;
  /** Enhanced status (5.1.1) or the provider's bounce type. */
  status?: string;
  /** The remote server's short answer. */
  detail: string;
  source: Exclude<BounceSource, "smtp">;
};

/**
 * `bounced`: recorded now. `already`: recorded before (a duplicate report). `soft`: not a hard
 * bounce. `forged` / `unknown`: ignored. `not_sent`: the row never left. `busy`: the row is being
 * sent right now; the reporter should try again later (SMTP 451, HTTP 503).
 */
export type BounceResult = "bounced" | "already" | "soft" | "forged" | "unknown" | "not_sent" | "busy";

export async function recordBounce(deps: Deps, report: BounceReport): Promise<BounceResult> {
  const check = await readBounceToken(deps.config.TOKEN_SECRET, report.token);
  if (!check.ok) {
    deps.logger.warn("bounce report ignored: the token is not one of ours", {
      source: report.source,
      why: check.why,
    });
    return "forged";
  }
  const [row] = await deps.db.select().from(outbox).where(eq(outbox.id, check.outboxId));
  if (!row) {
    deps.logger.warn("bounce report ignored: no such message (deleted?)", {
      source: report.source,
      outboxId: check.outboxId,
    });
    return "unknown";
  }
  const fields = { source: report.source, outboxId: row.id, kind: row.kind, status: report.status };
  if (!report.hard) {
    deps.logger.info("soft bounce or delay reported; nothing changes", fields);
    return "soft";
  }
  if (row.state === "bounced") return "already";
  if (row.state === "sending") return "busy";
  if (!(EVENTS.bounce.from as readonly string[]).includes(row.state)) {
    deps.logger.warn("bounce report for a message that was never sent; ignored", {
      ...fields,
      state: row.state,
    });
    return "not_sent";
  }
  const detail = withoutAddresses(`${report.status ?? ""} ${report.detail}`);
  const notices: NewOutboxRow[] = [];
  const n = await transition(
    deps,
    "bounce",
    { id: row.id },
    {
      guard: eq(outbox.state, row.state),
      set: { lastError: `bounced: ${detail}` },
      after: await bounceStatements(deps, row, { detail, source: report.source }, notices),
    },
  );
  if (n === 0) return "already";
  await announceInserted(deps, notices);
  deps.logger.warn("message bounced", fields);
  return "bounced";
}

// --- delivery status notifications (RFC 3464) ------------------------------------------------

export type DeliveryStatus = { message: Record<string, string>; recipients: Record<string, string>[] };

/** Parse a message/delivery-status body: blocks of header fields, folded lines joined. */
export function parseDeliveryStatus(text: string): DeliveryStatus {
  const blocks: Record<string, string>[] = [];
  let current: Record<string, string> = {};
  let last: string | null = null;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (line.trim() === "") {
      if (Object.keys(current).length) blocks.push(current);
      current = {};
      last = null;
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      current[last] = `${current[last]} ${line.trim()}`;
      continue;
    }
    const m = /^([A-Za-z0-9-]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    last = (m[1] as string).toLowerCase();
    current[last] = (m[2] as string).trim();
  }
  if (Object.keys(current).length) blocks.push(current);
  const [message = {}, ...recipients] = blocks;
  return { message, recipients };
}

export type InboundVerdict =
  | { kind: "dsn"; hard: boolean; status?: string; detail: string }
  | { kind: "auto_reply" }
  | { kind: "not_a_report" };

/** Header values the auto-reply test looks at. */
export type InboundMail = {
  header(name: string): string | undefined;
  subject?: string;
  /** The message/delivery-status part, when the mail is a multipart/report. */
  deliveryStatus?: string;
};

/**
 * What an inbound message to a VERP address is. Only a delivery status report is a bounce: an
 * out-of-office or any other auto-reply (RFC 3834) that a mailbox sent to the envelope sender is
 * not, whatever it says.
 */
export function inboundVerdict(mail: InboundMail): InboundVerdict {
  if (mail.deliveryStatus) {
    const ds = parseDeliveryStatus(mail.deliveryStatus);
    const failed = ds.recipients.find((r) => /^failed\b/i.test(r.action ?? ""));
    const r = failed ?? ds.recipients[0];
    const status = /([245]\.\d{1,3}\.\d{1,3})/.exec(r?.status ?? "")?.[1];
    const hard = !!failed && !!status?.startsWith("5.") && status !== "5.2.2";
    const detail = (r?.["diagnostic-code"] ?? r?.action ?? "").replace(/^smtp;\s*/i, "");
    return { kind: "dsn", hard, status, detail };
  }
  const auto = mail.header("auto-submitted");
  if (
    (auto && !/^\s*no\b/i.test(auto)) ||
    mail.header("x-autoreply") ||
    mail.header("x-autorespond") ||
    /auto[-_]?reply/i.test(mail.header("precedence") ?? "") ||
    /^(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|away from)/i.test(mail.subject ?? "")
  )
    return { kind: "auto_reply" };
  return { kind: "not_a_report" };
}
