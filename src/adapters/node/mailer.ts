/**
 * The Node mail transport: nodemailer over pooled SMTP. Maps nodemailer's errors onto MailError:
 * SMTP 4xx replies and connection/timeouts are temporary (retried with backoff), 5xx replies are
 * permanent. Headers are built by nodemailer, which encodes non-ASCII display names and
 * subjects (RFC 2047) and refuses raw CR/LF; our schemas reject CR/LF before it gets here.
 */
import nodemailer from "nodemailer";
import type { Mailer, MailMessage } from "../../deps";
import { MailError } from "../../modules/delivery/delivery.mail";

export type SmtpOptions = {
  url: string;
  poolSize?: number;
  /** Per-connection timeouts (ms); short in tests. */
  timeoutMs?: number;
};

type NodemailerError = Error & { code?: string; responseCode?: number; command?: string; response?: string };

export function toMailError(e: unknown): MailError {
  const err = e as NodemailerError;
  const code = typeof err?.responseCode === "number" ? err.responseCode : undefined;
  const permanent = code !== undefined && code >= 500 && code < 600;
  const message = (err?.response ?? err?.message ?? String(e)).replace(/\s+/g, " ").slice(0, 200);
  return new MailError(message, permanent, code, err?.command);
}

export function smtpMailer(opts: SmtpOptions): Mailer & { verify(): Promise<boolean> } {
  const timeout = opts.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    url: opts.url,
    pool: true,
    maxConnections: opts.poolSize ?? 5,
    // Keep each pooled connection busy: a fresh TCP+EHLO per message halves throughput.
    maxMessages: 1000,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    // Our messages are built from strings only; never let a field pull in a file or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(m: MailMessage) {
      try {
        const info = await transport.sendMail({
          from: { name: m.from.name ?? "", address: m.from.address },
          to: m.to.name ? { name: m.to.name, address: m.to.address } : m.to.address,
          replyTo: m.replyTo ? { name: m.replyTo.name ?? "", address: m.replyTo.address } : undefined,
          subject: m.subject,
          text: m.text,
          messageId: m.messageId,
          // The envelope sender is the campaign; bounces come to us, not to the supporter.
          envelope: { from: m.from.address, to: [m.to.address] },
        });
        if (info.rejected?.length)
          throw Object.assign(new Error(info.response), { responseCode: 550, command: "RCPT TO" });
        return { messageId: m.messageId, response: info.response };
      } catch (e) {
        throw toMailError(e);
      }
    },
    async verify() {
      try {
        await transport.verify();
        return true;
      } catch {
        return false;
      }
    },
    close: () => transport.close(),
  };
}

/**
 * The Node outbox worker: drain a batch, sleep OUTBOX_POLL_MS when idle, go straight on when the
 * batch was full. `stop()` waits for the pass in progress, so a deploy never abandons a claimed
 * row mid-send (and if the process is killed anyway, the lease brings the row back).
 */
export function startOutboxWorker(
  run: () => Promise<{ claimed: number }>,
  opts: { pollMs: number; batch: number; onError: (e: unknown) => void },
) {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> = Promise.resolve();
  const tick = () => {
    current = (async () => {
      let full = false;
      try {
        full = (await run()).claimed >= opts.batch;
      } catch (e) {
        opts.onError(e);
      }
      if (!stopped) timer = setTimeout(tick, full ? 0 : opts.pollMs);
    })();
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
