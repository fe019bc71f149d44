/**
 * A transport at the process edge that counts what it is given: every message, by recipient,
 * and any second copy of a message (same Message-ID), which must never happen.
 */
import type { Mailer, MailMessage } from "../../src/deps";

export function countingMailer() {
  const sent: MailMessage[] = [];
  const seen = new Set<string>();
  /** Message-IDs handed over more than once. A test asserts this stays empty. */
  const duplicates: string[] = [];
  const mailer: Mailer = {
    async send(m) {
      if (seen.has(m.messageId)) duplicates.push(m.messageId);
      seen.add(m.messageId);
      sent.push(m);
      return { messageId: m.messageId, response: "250 OK" };
    },
  };
  /** Messages to `address` (case-insensitive). */
  const to = (address: string) => sent.filter((m) => m.to.address.toLowerCase() === address.toLowerCase());
  return { mailer, sent, duplicates, to };
}

/** Settings for a mode that hands mail to deps.mailer (the counting one), never to a real relay. */
export const LIVE_TO_FAKE_TRANSPORT = {
  MAIL_MODE: "live",
  // Never dialled: the test replaces deps.mailer before anything is sent.
  SMTP_URL: "smtp://127.0.0.1:1",
  TOKEN_SECRET: "members-sync-test-secret-0123456789",
  MAIL_FROM: "campaign@example.org",
};
