/**
 * Mail transport helpers shared by every runtime: the error a Mailer throws, the ONE
 * classification of failures both transports (SMTP on Node, the HTTP mail API on Workers) go
 * through, and the capture mailer (MAIL_MODE=capture) that stores messages instead of sending.
 *
 * Rules (classifyFailure):
 * - Scope `relay`: the relay or our configuration is at fault, not this message: AUTH refused
 *   (530/534/535/538), the sender refused at MAIL FROM, TLS, no connection or a dropped one,
 *   421 (service closing), "relaying denied", an API key refused (HTTP 401/403), a wrong API
 *   URL (404/405), the API's rate limit (429). The outbox pauses; the message keeps its attempt.
 * - Scope `message`, by what the recipient's side said about this message:
 *   RCPT 5xx: the address is refused, a hard bounce (`refuse`). 552 / x.2.2 (mailbox full):
 *   retried, but no sooner than two hours (`retry_late`). Other 4xx: retried with backoff
 *   (`retry`). DATA 5xx and HTTP 400/422: the message itself is refused (`give_up`). HTTP 5xx
 *   and anything unrecognised: retried.
 * - A connection that drops after DATA but before the 250 is `relay`: the relay may have stored
 *   the message, so the resend after the pause carries the same Message-ID (the documented
 *   at-least-once window).
 */
import { capturedMail } from "../../db/schema.letters";
import type { Clock, Db, MailAddress, Mailer, MailMessage } from "../../deps";

/** What a transport knows about a failed send: facts, not a verdict. */
export type MailFailureFacts = {
  /** SMTP reply code (e.g. 550), when the relay answered. */
  smtpCode?: number;
  /** Enhanced status code (RFC 3463), e.g. "5.1.1", when the reply carried one. */
  enhanced?: string;
  /** The SMTP command that failed ("MAIL FROM", "RCPT TO", "DATA", "AUTH PLAIN", "CONN"...). */
  command?: string;
  /** The transport's error code (nodemailer: EAUTH, ECONNECTION, ETLS...; "NETWORK" for fetch). */
  errorCode?: string;
  /** HTTP status from a mail API. */
  httpStatus?: number;
  /** Retry-After from a mail API, in seconds. */
  retryAfterSeconds?: number;
};

export class MailError extends Error {
  override name = "MailError";
  constructor(
    /** The relay's short answer; never message content or addresses. */
    message: string,
    readonly facts: MailFailureFacts = {},
  ) {
    super(message);
  }
  get smtpCode() {
    return this.facts.smtpCode ?? this.facts.httpStatus;
  }
}

export const isMailError = (e: unknown): e is MailError => e instanceof MailError;

export type FailureVerdict =
  | { scope: "relay"; reason: RelayReason; retryAfterMs?: number }
  | { scope: "message"; action: "retry" | "retry_late" | "give_up" | "refuse" };

export type RelayReason =
  | "auth"
  | "sender_refused"
  | "relay_denied"
  | "connection"
  | "tls"
  | "relay_unavailable"
  | "api_auth"
  | "api_config"
  | "rate_limited";

const NETWORK = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPROXY",
  "NETWORK",
]);
const AUTH_CODES = new Set([530, 534, 535, 538]);

/** RFC 3463 enhanced status code at the start of a reply text ("5.1.1 ..."), if any. */
export function enhancedStatus(text: string | undefined): string | undefined {
  return /(?:^|\s)([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/.exec(text ?? "")?.[1];
}

export function classifyFailure(e: unknown): FailureVerdict {
  if (!isMailError(e)) return { scope: "message", action: "retry" };
  const f = e.facts;
  if (f.httpStatus !== undefined) {
    const s = f.httpStatus;
    if (s === 401 || s === 403) return { scope: "relay", reason: "api_auth" };
    if (s === 404 || s === 405) return { scope: "relay", reason: "api_config" };
    if (s === 429)
      return {
        scope: "relay",
        reason: "rate_limited",
        retryAfterMs: f.retryAfterSeconds ? f.retryAfterSeconds * 1000 : undefined,
      };
    if (s === 400 || s === 422) return { scope: "message", action: "give_up" };
    return { scope: "message", action: "retry" };
  }
  const code = f.smtpCode;
  const command = (f.command ?? "").toUpperCase();
  const text = e.message;
  if (f.errorCode === "ETLS" || f.errorCode === "EREQUIRETLS" || command === "STARTTLS")
    return { scope: "relay", reason: "tls" };
  if (
    f.errorCode === "EAUTH" ||
    f.errorCode === "ENOAUTH" ||
    f.errorCode === "EOAUTH2" ||
    command.startsWith("AUTH") ||
    (code !== undefined && AUTH_CODES.has(code))
  )
    return { scope: "relay", reason: "auth" };
  // A size refusal is reported at MAIL FROM (SIZE extension) but is about this message.
  if (f.errorCode === "EMESSAGE" && code === undefined) return { scope: "message", action: "give_up" };
  if (command === "MAIL FROM") return { scope: "relay", reason: "sender_refused" };
  if (code === 421) return { scope: "relay", reason: "relay_unavailable" };
  if (f.errorCode && NETWORK.has(f.errorCode)) return { scope: "relay", reason: "connection" };
  if (command === "CONN" || command === "EHLO" || command === "HELO" || command === "LHLO")
    return { scope: "relay", reason: "connection" };
  const enhanced = f.enhanced ?? enhancedStatus(text.replace(/^\d{3}[ -]/, ""));
  if (command === "RCPT TO") {
    // Our own relay refusing to relay is configuration (not authenticated, wrong relay), not
    // the recipient: 5.7.1 / 554 "Relay access denied".
    if (
      /relay(ing)?\s+(access\s+)?(denied|not permitted|not allowed)/i.test(text) ||
      (enhanced === "5.7.1" && /relay/i.test(text))
    )
      return { scope: "relay", reason: "relay_denied" };
    if (code === 552 || enhanced?.endsWith(".2.2")) return { scope: "message", action: "retry_late" };
    if (code !== undefined && code >= 500) return { scope: "message", action: "refuse" };
    return { scope: "message", action: "retry" };
  }
  // DATA (or its final answer).
  if (enhanced === "5.3.4") return { scope: "message", action: "give_up" }; // too big, for good
  if (code === 552 || enhanced?.endsWith(".2.2")) return { scope: "message", action: "retry_late" };
  if (code !== undefined && code >= 500) return { scope: "message", action: "give_up" };
  return { scope: "message", action: "retry" };
}

/** `"Name" <address>` for display and captured headers (quotes and backslashes escaped). */
export function formatAddress(a: MailAddress): string {
  return a.name ? `"${a.name.replace(/(["\\])/g, "\\$1")}" <${a.address}>` : `<${a.address}>`;
}

export function captureMailer(db: Db, clock: Clock): Mailer {
  return {
    async send(m: MailMessage) {
      await db.insert(capturedMail).values({
        messageId: m.messageId,
        fromHeader: formatAddress(m.from),
        toHeader: formatAddress(m.to),
        replyTo: m.replyTo ? formatAddress(m.replyTo) : null,
        toAddress: m.to.address.toLowerCase(),
        replyToAddress: m.replyTo?.address.toLowerCase() ?? null,
        subject: m.subject,
        text: m.text,
        capturedAt: clock.now(),
      });
      return { messageId: m.messageId, response: "250 captured" };
    },
  };
}
