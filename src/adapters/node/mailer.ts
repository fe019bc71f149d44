/**
 * The Node mail transport: nodemailer over pooled SMTP. It reports what happened (SMTP code,
 * enhanced status, command, nodemailer's error code) as a MailError; the shared
 * `classifyFailure` (modules/delivery/delivery.mail.ts) decides what that means, exactly as it
 * does for the Workers mail API. Headers are built by nodemailer, which encodes non-ASCII
 * display names and subjects (RFC 2047) and refuses raw CR/LF; our schemas reject CR/LF before
 * it gets here. The envelope sender is the message's VERP address when it has one, so a bounce
 * comes back to us naming the message.
 */
import nodemailer from "nodemailer";
import type { Mailer, MailMessage } from "../../deps";
import { enhancedStatus, MailError } from "../../modules/delivery/delivery.mail";

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
  const response = err?.response;
  const message = (response ?? err?.message ?? String(e)).replace(/\s+/g, " ").slice(0, 200);
  return new MailError(message, {
    smtpCode: code,
    enhanced: enhancedStatus(response?.replace(/^\d{3}[ -]/, "")),
    command: err?.command,
    errorCode: err?.code,
  });
}

export function smtpMailer(opts: SmtpOptions): Mailer & { verify(): Promise<void> } {
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
          // The envelope sender is ours (the VERP address): bounces come to us, never to the
          // supporter or the MP.
          envelope: { from: m.envelopeFrom ?? m.from.address, to: [m.to.address] },
        });
        if (info.rejected?.length)
          throw Object.assign(new Error(info.response), {
            responseCode: 550,
            command: "RCPT TO",
            response: info.response,
          });
        return { messageId: m.messageId, response: info.response };
      } catch (e) {
        throw toMailError(e);
      }
    },
    async verify() {
      try {
        await transport.verify();
      } catch (e) {
        throw toMailError(e);
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
  opts: { pollMs: number; batch: number; onError: (e: unknown) => void; wakeGapMs?: number },
) {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current: Promise<void> = Promise.resolve();
  let running = false;
  let wakeRequested = false;
  let lastStart = 0;
  // Wake-ups are coalesced: at most one extra pass per WAKE_GAP, however many letters are
  // confirmed meanwhile (a pass claims a whole batch anyway).
  const wakeGap = opts.wakeGapMs ?? 250;
  let timerAt = 0;
  const schedule = (ms: number) => {
    const at = Date.now() + ms;
    if (timer && timerAt <= at) return; // already due sooner
    if (timer) clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(tick, ms);
  };
  const tick = () => {
    timer = undefined;
    running = true;
    wakeRequested = false;
    lastStart = Date.now();
    current = (async () => {
      let full = false;
      try {
        full = (await run()).claimed >= opts.batch;
      } catch (e) {
        opts.onError(e);
      }
      running = false;
      if (stopped || timer) return;
      if (full) schedule(0);
      else if (wakeRequested) schedule(Math.max(0, lastStart + wakeGap - Date.now()));
      else schedule(opts.pollMs);
    })();
  };
  schedule(0);
  return {
    /** Rows became ready: run a pass soon (now, unless one ran within the last WAKE_GAP). */
    wake() {
      if (stopped) return;
      if (running) {
        wakeRequested = true;
        return;
      }
      schedule(Math.max(0, lastStart + wakeGap - Date.now()));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
  };
}
