/**
 * Mail transport helpers shared by every runtime: the error a Mailer throws, and the capture
 * mailer (MAIL_MODE=capture) that stores messages in captured_mail instead of sending them.
 */
import { capturedMail } from "../../db/schema.letters";
import type { Clock, Db, MailAddress, Mailer, MailMessage } from "../../deps";

export class MailError extends Error {
  override name = "MailError";
  constructor(
    message: string,
    /** Retrying cannot help (SMTP 5xx). Temporary failures (4xx, network) are retried. */
    readonly permanent: boolean,
    readonly smtpCode?: number,
    /** The SMTP command that failed ("RCPT TO", "DATA", "CONN"...): a 5xx on RCPT is a bounce. */
    readonly command?: string,
  ) {
    super(message);
  }
}

export const isMailError = (e: unknown): e is MailError => e instanceof MailError;

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
        subject: m.subject,
        text: m.text,
        capturedAt: clock.now(),
      });
      return { messageId: m.messageId, response: "250 captured" };
    },
  };
}
