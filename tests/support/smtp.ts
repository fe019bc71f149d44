/**
 * A real SMTP server for delivery tests: smtp-server on 127.0.0.1 (port 0 unless given), no TLS,
 * no auth, and every accepted message parsed with mailparser. `reply` lets a test answer a
 * message with an SMTP error (4xx temporary, 5xx permanent) at RCPT TO or DATA.
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export type SmtpReply = { code: number; message: string } | null;

export type SmtpSink = {
  port: number;
  url: string;
  messages: ParsedMail[];
  /** Envelope recipients of accepted messages, in order. */
  recipients: string[][];
  close(): Promise<void>;
};

export async function startSmtp(
  opts: {
    port?: number;
    /** Answer at RCPT TO: null accepts. */
    onRcpt?: (address: string) => SmtpReply;
    /** Answer after DATA: `n` counts DATA commands from 0. null accepts. */
    onData?: (n: number, parsed: ParsedMail) => SmtpReply;
  } = {},
): Promise<SmtpSink> {
  const messages: ParsedMail[] = [];
  const recipients: string[][] = [];
  let dataCount = 0;
  const fail = (r: NonNullable<SmtpReply>) => Object.assign(new Error(r.message), { responseCode: r.code });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    size: 1024 * 1024,
    onRcptTo(address, _session, cb) {
      const r = opts.onRcpt?.(address.address) ?? null;
      cb(r ? fail(r) : undefined);
    },
    onData(stream, session, cb) {
      const n = dataCount++;
      simpleParser(stream).then(
        (parsed) => {
          const r = opts.onData?.(n, parsed) ?? null;
          if (r) return cb(fail(r));
          messages.push(parsed);
          recipients.push(session.envelope.rcptTo.map((a) => a.address));
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
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    recipients,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on 127.0.0.1 that nothing listens on (yet). */
export async function freePort(): Promise<number> {
  const s = await startSmtp();
  await s.close();
  return s.port;
}
