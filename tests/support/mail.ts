/**
 * The counting mailer every delivery test uses: a transport at the process edge that records
 * each message it accepts, by recipient, and FAILS THE TEST on a second copy of any Message-ID
 * (unless the test names that message as inside the documented at-least-once window). It can
 * also fail sends on demand, with the facts a real transport would report.
 *
 * The object is the Mailer itself; `mailer` points back at it, and `duplicates` lists any
 * Message-ID handed over twice (a test may also assert it stays empty).
 */
import { onTestFinished } from "vitest";
import type { Mailer, MailMessage } from "../../src/deps";
import { MailError, type MailFailureFacts } from "../../src/modules/delivery/delivery.mail";

export type CountingMailer = Mailer & {
  mailer: Mailer;
  sent: MailMessage[];
  /** Message-IDs handed over more than once. */
  duplicates: string[];
  /** Message-IDs the test allows to arrive twice (the documented window). */
  allowSecondCopy: Set<string>;
  copiesOf(messageId: string): number;
  /** Messages to `address` (case-insensitive). */
  to(address: string): MailMessage[];
};

export type FailWith = (m: MailMessage, n: number) => MailError | Error | null;

/** A MailError as a transport would throw it. */
export const mailError = (message: string, facts: MailFailureFacts) => new MailError(message, facts);

export function countingMailer(
  fail: FailWith = () => null,
  hooks: { afterAccept?: (m: MailMessage) => void } = {},
): CountingMailer {
  const sent: MailMessage[] = [];
  const copies = new Map<string, number>();
  const duplicates: string[] = [];
  const allowSecondCopy = new Set<string>();
  let n = 0;
  try {
    onTestFinished(() => {
      const bad = duplicates.filter((id) => !allowSecondCopy.has(id));
      if (bad.length) throw new Error(`an MP (or supporter) received a second copy of: ${bad.join(", ")}`);
    });
  } catch {
    // Outside a test (e.g. beforeAll): no automatic check.
  }
  const self: CountingMailer = {
    sent,
    duplicates,
    allowSecondCopy,
    get mailer() {
      return self;
    },
    copiesOf: (id) => copies.get(id) ?? 0,
    to: (address) => sent.filter((m) => m.to.address.toLowerCase() === address.toLowerCase()),
    async send(m) {
      const err = fail(m, n++);
      if (err) throw err;
      const c = (copies.get(m.messageId) ?? 0) + 1;
      copies.set(m.messageId, c);
      if (c > 1) duplicates.push(m.messageId);
      sent.push(m);
      hooks.afterAccept?.(m);
      return { messageId: m.messageId, response: "250 2.0.0 OK queued" };
    },
  };
  return self;
}

/** Settings for a mode that hands mail to deps.mailer (the counting one), never to a real relay. */
export const LIVE_TO_FAKE_TRANSPORT = {
  MAIL_MODE: "live",
  // Never dialled: the test replaces deps.mailer before anything is sent.
  SMTP_URL: "smtp://127.0.0.1:1",
  TOKEN_SECRET: "members-sync-test-secret-0123456789",
  MAIL_FROM: "campaign@example.org",
};
