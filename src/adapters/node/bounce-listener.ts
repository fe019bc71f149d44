/**
 * The Node bounce listener: a small inbound SMTP server (smtp-server) for the bounce address's
 * domain. Point the domain's MX (or a forwarding rule on your mail server) at it; every DSN for a
 * message we sent arrives at that message's VERP address, `local+<token>@domain`.
 *
 * Rules:
 * - Off unless BOUNCE_SMTP_PORT is set; binds BOUNCE_SMTP_HOST (loopback by default). No AUTH,
 *   no STARTTLS (it sits behind your MX); it relays nothing.
 * - RCPT TO is accepted only for our VERP addresses with a valid signature; anything else is
 *   refused (550), and a forged token is logged. Messages are capped at 1 MB (DSNs that carry the
 *   whole original letter fit).
 * - Each message is parsed with mailparser, keeping the message/delivery-status part, and judged
 *   by `inboundVerdict`: only a DSN reporting a permanent failure is a bounce; auto-replies and
 *   anything else are logged and dropped. A report about a message being sent at this very
 *   moment is answered 451, so the reporting server tries again a little later.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { Deps } from "../../deps";
import { safeErrorText } from "../../lib/safe-error";
import { type BounceResult, inboundVerdict, recordBounce } from "../../modules/delivery/delivery.bounces";
import { readBounceToken, tokenFromAddress } from "../../modules/delivery/delivery.verp";

const MAX_MESSAGE_BYTES = 1024 * 1024;

type SmtpReplyError = Error & { responseCode: number };
const reply = (code: number, message: string): SmtpReplyError =>
  Object.assign(new Error(message), { responseCode: code });

export type BounceListener = { port: number; close(): Promise<void> };

/** Start the listener if configured (BOUNCE_SMTP_PORT > 0); resolves to undefined otherwise. */
export async function startBounceListener(deps: Deps): Promise<BounceListener | undefined> {
  const { BOUNCE_SMTP_PORT: port, BOUNCE_SMTP_HOST: host } = deps.config;
  if (!port) return undefined;
  const server = createBounceServer(deps);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  deps.logger.info("bounce listener started", { host, port: bound });
  return { port: bound, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The server itself (tests listen on port 0). */
export function createBounceServer(deps: Deps): SMTPServer {
  const server = new SMTPServer({
    name: deps.config.PUBLIC_URL.replace(/^https?:\/\//, "").replace(/[:/].*$/, ""),
    banner: "bounce reports only",
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    // The reporting server's name is not used; a reverse lookup would only delay the greeting.
    disableReverseLookup: true,
    logger: false,
    size: MAX_MESSAGE_BYTES,
    async onRcptTo(address, _session, cb) {
      const token = tokenFromAddress(deps.config, address.address);
      if (!token) return cb(reply(550, "5.1.1 no such mailbox here"));
      const check = await readBounceToken(deps.config.TOKEN_SECRET, token);
      if (!check.ok) {
        deps.logger.warn("bounce listener: refused a forged or malformed token", { why: check.why });
        return cb(reply(550, "5.1.1 no such mailbox here"));
      }
      cb();
    },
    onData(stream, session, cb) {
      handle(
        deps,
        stream,
        session.envelope.rcptTo.map((r) => r.address),
      ).then(
        (answer) =>
          cb(
            answer === "busy"
              ? reply(451, "4.3.0 message in flight, try again shortly")
              : answer === "too_big"
                ? reply(552, "5.3.4 message too big for a bounce report")
                : undefined,
          ),
        (e) => {
          deps.logger.error("bounce listener: could not process a report", {
            error: safeErrorText(e),
          });
          cb(reply(451, "4.3.0 temporary failure, try again later"));
        },
      );
    },
  });
  server.on("error", (e) => deps.logger.warn("bounce listener: connection error", { error: e.message }));
  return server;
}

/** Judge one inbound message: `busy` when the report must be retried later. */
async function handle(
  deps: Deps,
  stream: NodeJS.ReadableStream,
  recipients: string[],
): Promise<"done" | "busy" | "too_big"> {
  const mail = await simpleParser(stream as never, { keepDeliveryStatus: true });
  if ((stream as { sizeExceeded?: boolean }).sizeExceeded) return "too_big";
  // RFC 3464, or RFC 6533's internationalised form.
  const deliveryStatus = mail.attachments.find(
    (a) => a.contentType === "message/delivery-status" || a.contentType === "message/global-delivery-status",
  );
  const verdict = inboundVerdict({
    header: (name) => {
      const v = mail.headers.get(name);
      return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    },
    subject: mail.subject,
    deliveryStatus: deliveryStatus?.content.toString("utf8"),
  });
  if (verdict.kind !== "dsn") {
    deps.logger.info("bounce listener: not a delivery report, ignored", { kind: verdict.kind });
    return "done";
  }
  const results: BounceResult[] = [];
  for (const address of recipients) {
    const token = tokenFromAddress(deps.config, address);
    if (!token) continue;
    results.push(
      await recordBounce(deps, {
        token,
        hard: verdict.hard,
        status: verdict.status,
        detail: verdict.detail,
        source: "dsn",
      }),
    );
  }
  return results.includes("busy") ? "busy" : "done";
}
