/**
 * A real SMTP server for delivery tests: smtp-server on 127.0.0.1 (port 0 unless given), no TLS,
 * and every accepted message parsed with mailparser. Hooks let a test answer like a real relay
 * would fail: at AUTH (535), MAIL FROM, RCPT TO or DATA with any SMTP reply, or by dropping the
 * connection after the message was received but before the 250 (the relay stored it; we never
 * heard). Like the counting mailer, it FAILS THE TEST on a second copy of any Message-ID unless
 * the test allows that message (the documented at-least-once window).
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { onTestFinished } from "vitest";

export type SmtpReply = { code: number; message: string } | null;

export type SmtpSink = {
  port: number;
  url: string;
  messages: ParsedMail[];
  /** Envelope recipients of accepted messages, in order. */
  recipients: string[][];
  /** Envelope senders (MAIL FROM) of accepted messages, in order. */
  senders: string[];
  /** Messages received whose connection was then dropped before the 250 (stored, unanswered). */
  stored: ParsedMail[];
  /** Message-IDs of every message whose data arrived, at the moment it arrived (before any reply). */
  received: string[];
  /** Message-IDs the test allows to arrive twice. */
  allowSecondCopy: Set<string>;
  /** The raw MIME source of every message whose data arrived, in order (as `received`). */
  raw: string[];
  close(): Promise<void>;
};

export async function startSmtp(
  opts: {
    port?: number;
    /** Credentials the relay accepts (the URL then carries them); anything else gets 535. */
    auth?: { user: string; pass: string };
    /** Answer at MAIL FROM: null accepts. */
    onMailFrom?: (address: string) => SmtpReply;
    /** Answer at RCPT TO: null accepts. */
    onRcpt?: (address: string) => SmtpReply;
    /** Answer after DATA: `n` counts DATA commands from 0. null accepts; "drop" stores the
     * message and closes the connection without answering; "reset" closes the connection
     * without storing it (the relay went away mid-message). */
    onData?: (n: number, parsed: ParsedMail) => SmtpReply | "drop" | "reset";
    /** Wait this long before answering each message (a slow relay). */
    delayMs?: number;
  } = {},
): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const stored: ParsedMail[] = [];
  const received: string[] = [];
  const raw: string[] = [];
  const recipients: string[][] = [];
  const senders: string[] = [];
  const allowSecondCopy = new Set<string>();
  const seen = new Map<string, number>();
  let dataCount = 0;
  const fail = (r: NonNullable<SmtpReply>) => Object.assign(new Error(r.message), { responseCode: r.code });
  const server: SMTPServer = new SMTPServer({
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    // No reverse DNS of 127.0.0.1 (it can stall a connection's greeting by up to 1.5 s).
    disableReverseLookup: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    size: 1024 * 1024,
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass)
        return cb(null, { user: auth.username });
      cb(Object.assign(new Error("5.7.8 Authentication credentials invalid"), { responseCode: 535 }));
    },
    onMailFrom(address, _session, cb) {
      const r = opts.onMailFrom?.(address.address) ?? null;
      cb(r ? fail(r) : undefined);
    },
    onRcptTo(address, _session, cb) {
      const r = opts.onRcpt?.(address.address) ?? null;
      cb(r ? fail(r) : undefined);
    },
    onData(stream, session, cb) {
      const n = dataCount++;
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      new Promise<Buffer>((done, fail) => {
        stream.on("end", () => done(Buffer.concat(chunks)));
        stream.on("error", fail);
      })
        .then((source) => {
          raw.push(source.toString("utf8"));
          return simpleParser(source);
        })
        .then(async (parsed) => {
          received.push(parsed.messageId ?? "");
          if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
          return parsed;
        })
        .then(
          (parsed) => {
            const r = opts.onData?.(n, parsed) ?? null;
            const count = () => {
              const id = parsed.messageId ?? "";
              seen.set(id, (seen.get(id) ?? 0) + 1);
            };
            if (r === "drop" || r === "reset") {
              // "drop": the relay has the message; the client never hears 250. "reset": gone.
              if (r === "drop") {
                stored.push(parsed);
                count();
              }
              for (const c of (
                server as unknown as { connections: Set<{ id: string; _socket: { destroy(): void } }> }
              ).connections)
                if (c.id === session.id) c._socket.destroy();
              return;
            }
            if (r) return cb(fail(r));
            messages.push(parsed);
            count();
            recipients.push(session.envelope.rcptTo.map((a) => a.address));
            senders.push(session.envelope.mailFrom ? session.envelope.mailFrom.address : "");
            cb();
          },
          (e) => cb(e),
        );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  server.on("error", () => {});
  try {
    onTestFinished(() => {
      const twice = [...seen].filter(([id, n]) => n > 1 && !allowSecondCopy.has(id)).map(([id]) => id);
      if (twice.length) throw new Error(`the SMTP server received a second copy of: ${twice.join(", ")}`);
    });
  } catch {
    // Started outside a test: no automatic check.
  }
  const port = (server.server.address() as AddressInfo).port;
  const cred = opts.auth
    ? `${encodeURIComponent(opts.auth.user)}:${encodeURIComponent(opts.auth.pass)}@`
    : "";
  return {
    port,
    url: `smtp://${cred}127.0.0.1:${port}`,
    messages,
    stored,
    received,
    recipients,
    senders,
    allowSecondCopy,
    raw,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on 127.0.0.1 that nothing listens on (yet). */
export async function freePort(): Promise<number> {
  const s = await startSmtp();
  await s.close();
  return s.port;
}
