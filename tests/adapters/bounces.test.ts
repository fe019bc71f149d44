/**
 * Bounces coming back: delivery status notifications (RFC 3464) delivered over real SMTP to the
 * Node bounce listener at the message's VERP address, and Resend's signed webhook (Svix
 * signature, Resend's `email.bounced` payload shape). Letters go out through the counting mailer.
 */
import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import nodemailer from "nodemailer";
import { afterEach, describe, expect, it } from "vitest";
import { createBounceServer } from "../../src/adapters/node/bounce-listener";
import { letters, outbox } from "../../src/db/schema.letters";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { bounceToken, verpAddress } from "../../src/modules/delivery/delivery.verp";
import { svixSignature } from "../../src/modules/delivery/delivery.webhooks";
import { TEST_SEAT } from "../../src/modules/lookup/lookup.import";
import { expectStatus } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";
import { countingMailer } from "../support/mail";

const MP_EMAIL = "mp.office@example.net";
const WEBHOOK_SECRET = `whsec_${Buffer.from("speakup-test-webhook-secret-32by").toString("base64")}`;

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** One letter sent for real (live mode, the MP's address) through the counting mailer. */
async function sentLetter() {
  const t = await lettersApp({
    MAIL_MODE: "live",
    SMTP_URL: "smtp://127.0.0.1:1",
    TOKEN_SECRET: "a-real-secret-for-bounce-tests",
    MAIL_FROM: "campaign@example.org",
    RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  t.sqlite
    .prepare("update members set email = ?, reflects_to_sender = 0 where constituency_code = ?")
    .run(MP_EMAIL, TEST_SEAT.onsCode);
  const mailer = countingMailer();
  t.deps.mailer = mailer;
  const { id } = await t.submit(
    letterInput({ story: "Our twins were born early and the unit was wonderful." }),
  );
  await t.confirm(await t.confirmToken(id));
  await drainOutbox(t.deps);
  const letterMail = mailer.sent.find((m) => m.to.address === MP_EMAIL);
  if (!letterMail?.envelopeFrom || !letterMail.bounceToken)
    throw new Error("letter not sent with a VERP address");
  const row = async () =>
    (await t.deps.db.select().from(outbox).where(eq(outbox.letterId, id))).find((r) => r.kind === "letter")!;
  const letterStatus = async () =>
    (await t.deps.db.select().from(letters).where(eq(letters.id, id)))[0]?.status;
  const notices = () => mailer.sent.filter((m) => m.subject.includes("could not be delivered"));
  return {
    ...t,
    mailer,
    id,
    verp: letterMail.envelopeFrom,
    token: letterMail.bounceToken,
    row,
    letterStatus,
    notices,
  };
}

/** The bounce listener on a free port, and a plain SMTP client that delivers raw messages to it. */
async function listener(t: Awaited<ReturnType<typeof sentLetter>>) {
  const server = createBounceServer(t.deps);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as AddressInfo).port;
  const client = nodemailer.createTransport({ host: "127.0.0.1", port, secure: false, ignoreTLS: true });
  cleanups.push(
    () => new Promise<void>((r) => server.close(() => r())),
    () => client.close(),
  );
  // A DSN is sent with the null return path, <>.
  const deliver = (to: string, raw: string) => client.sendMail({ envelope: { from: "", to: [to] }, raw });
  return { deliver };
}

const dsn = (to: string, recipient: { action: string; status: string; diagnostic: string }) =>
  [
    "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>",
    `To: ${to}`,
    "Subject: Undelivered Mail Returned to Sender",
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    'Content-Type: multipart/report; report-type=delivery-status; boundary="dsn-boundary"',
    "",
    "--dsn-boundary",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    "This is the mail system at host mx.example.net. Your message could not be delivered.",
    "",
    "--dsn-boundary",
    "Content-Type: message/delivery-status",
    "",
    "Reporting-MTA: dns; mx.example.net",
    "Arrival-Date: Mon, 23 Nov 2026 10:00:01 +0000",
    "",
    `Final-Recipient: rfc822; ${MP_EMAIL}`,
    `Original-Recipient: rfc822;${MP_EMAIL}`,
    `Action: ${recipient.action}`,
    `Status: ${recipient.status}`,
    `Diagnostic-Code: smtp; ${recipient.diagnostic}`,
    "",
    "--dsn-boundary",
    "Content-Type: text/rfc822-headers",
    "",
    "Subject: Please back the Manifesto for Babies",
    "",
    "--dsn-boundary--",
    "",
  ].join("\r\n");

describe("bounce reports over SMTP (RFC 3464) to the Node listener", () => {
  it("a hard bounce marks the letter bounced, tells the supporter with a copy, flags the MP's address, and is idempotent", async () => {
    const t = await sentLetter();
    const { deliver } = await listener(t);
    expect((await t.row()).state).toBe("sent");
    const report = dsn(t.verp, {
      action: "failed",
      status: "5.1.1",
      diagnostic: `550 5.1.1 <${MP_EMAIL}>: Recipient address rejected: User unknown`,
    });
    await deliver(t.verp, report);
    expect(await t.row()).toMatchObject({ state: "bounced" });
    expect(await t.letterStatus()).toBe("undeliverable");
    const flag = t.sqlite.prepare("select address, detail, source from recipient_flags").get() as Record<
      string,
      string
    >;
    expect(flag).toMatchObject({ address: MP_EMAIL, source: "dsn" });
    expect(flag.detail).toContain("5.1.1");
    expect(flag.detail).not.toContain(MP_EMAIL);
    // The "did your MP reply?" email would make no sense now.
    const followup = (await t.deps.db.select().from(outbox).where(eq(outbox.letterId, t.id))).find(
      (r) => r.kind === "followup",
    );
    expect(followup?.state).toBe("cancelled");
    await deliver(t.verp, report); // the remote server reports twice
    await drainOutbox(t.deps);
    expect(t.notices()).toHaveLength(1);
    expect(t.notices()[0]?.to.address).toBe("jane@example.org");
    expect(t.notices()[0]?.text).toContain("Our twins were born early and the unit was wonderful.");
    expect(t.notices()[0]?.text).toContain("House of Commons");
    expect(t.logger.lines.some((l) => l.msg === "message bounced")).toBe(true);
    expect(JSON.stringify(t.logger.lines)).not.toContain(MP_EMAIL);
  });

  it("a forged token is refused at RCPT and logged; the letter stays sent", async () => {
    const t = await sentLetter();
    const { deliver } = await listener(t);
    const forged = t.verp.replace(/[0-9a-f](@)/, (m, at) => `${m[0] === "0" ? "1" : "0"}${at}`);
    await expect(
      deliver(forged, dsn(forged, { action: "failed", status: "5.1.1", diagnostic: "550 no" })),
    ).rejects.toThrow(/550/);
    expect((await t.row()).state).toBe("sent");
    expect(t.logger.lines.some((l) => l.level === "warn" && l.msg.includes("forged"))).toBe(true);
    expect(t.sqlite.prepare("select count(*) n from recipient_flags").get()).toEqual({ n: 0 });
  });

  it("a valid token for a message we do not hold is ignored and logged", async () => {
    const t = await sentLetter();
    const { deliver } = await listener(t);
    const token = await bounceToken(t.deps.config.TOKEN_SECRET, crypto.randomUUID());
    const to = verpAddress(t.deps.config, token!);
    await deliver(to, dsn(to, { action: "failed", status: "5.1.1", diagnostic: "550 no such user" }));
    expect((await t.row()).state).toBe("sent");
    expect(t.logger.lines.some((l) => l.msg.includes("no such message"))).toBe(true);
  });

  it("an out-of-office auto-reply to the return path is not a bounce", async () => {
    const t = await sentLetter();
    const { deliver } = await listener(t);
    const ooo = [
      `From: ${MP_EMAIL}`,
      `To: ${t.verp}`,
      "Subject: Automatic reply: Please back the Manifesto for Babies",
      "Auto-Submitted: auto-replied",
      "X-Autoreply: yes",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "I am out of the office until Monday. Mail to this address is not read; the office is closed.",
      "",
    ].join("\r\n");
    await deliver(t.verp, ooo);
    expect((await t.row()).state).toBe("sent");
    expect(t.sqlite.prepare("select count(*) n from recipient_flags").get()).toEqual({ n: 0 });
    expect(
      t.logger.lines.some((l) => l.msg.includes("not a delivery report") && l.fields?.kind === "auto_reply"),
    ).toBe(true);
  });

  it("a delay or soft bounce (4.x.x, mailbox full) changes nothing", async () => {
    const t = await sentLetter();
    const { deliver } = await listener(t);
    await deliver(
      t.verp,
      dsn(t.verp, { action: "delayed", status: "4.4.7", diagnostic: "delivery delayed" }),
    );
    await deliver(
      t.verp,
      dsn(t.verp, { action: "failed", status: "5.2.2", diagnostic: "552 5.2.2 mailbox full" }),
    );
    expect((await t.row()).state).toBe("sent");
    expect(t.sqlite.prepare("select count(*) n from recipient_flags").get()).toEqual({ n: 0 });
  });
});

describe("Resend's bounce webhook (Svix-signed)", () => {
  const payload = (token: string, type = "Permanent") =>
    JSON.stringify({
      type: "email.bounced",
      created_at: "2026-11-23T10:05:00.000Z",
      data: {
        broadcast_id: null,
        created_at: "2026-11-23T10:00:00.000Z",
        email_id: "56761188-7520-42d8-8898-ff6fc54ce618",
        message_id: "<f0a1@example.org>",
        from: '"Jane Doe via #SpeakUpForBabies" <campaign@example.org>',
        to: [MP_EMAIL],
        subject: "Please back the Manifesto for Babies",
        bounce: {
          message:
            "The recipient's email provider sent a hard bounce message, but didn't specify the reason for the hard bounce.",
          subType: "General",
          type,
        },
        tags: { speakup_bounce: token },
      },
    });

  async function post(
    t: Awaited<ReturnType<typeof sentLetter>>,
    body: string,
    opts: { secret?: string; at?: number } = {},
  ) {
    const id = `msg_${crypto.randomUUID().replace(/-/g, "")}`;
    const ts = String(Math.floor((opts.at ?? t.clock.now()) / 1000));
    const sig = await svixSignature(opts.secret ?? WEBHOOK_SECRET, id, ts, body);
    return t.request("/webhooks/resend", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": id,
        "svix-timestamp": ts,
        "svix-signature": `v1,${sig}`,
      },
      body,
    });
  }

  it("a signed Permanent bounce marks the message bounced, flags the address and tells the supporter", async () => {
    const t = await sentLetter();
    expect(await expectStatus(await post(t, payload(t.token)), 200)).toEqual({ result: "bounced" });
    expect(await t.row()).toMatchObject({ state: "bounced" });
    expect(t.sqlite.prepare("select source from recipient_flags").get()).toEqual({ source: "webhook" });
    expect(await expectStatus(await post(t, payload(t.token)), 200)).toEqual({ result: "already" });
    await drainOutbox(t.deps);
    expect(t.notices()).toHaveLength(1);
  });

  it("refuses a wrong signature and a stale timestamp with 401, changing nothing", async () => {
    const t = await sentLetter();
    const other = `whsec_${Buffer.from("another-secret-another-secret-32").toString("base64")}`;
    expect(await expectStatus(await post(t, payload(t.token), { secret: other }), 401)).toMatchObject({
      code: "signature_invalid",
    });
    expect(
      await expectStatus(await post(t, payload(t.token), { at: t.clock.now() - 10 * 60_000 }), 401),
    ).toMatchObject({ code: "signature_invalid" });
    const body = payload(t.token);
    const tampered = await post(t, body);
    expect(tampered.status).toBe(200); // the genuine one works...
    const t2 = await sentLetter();
    const res = await t2.request("/webhooks/resend", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "svix-id": "msg_x",
        "svix-timestamp": String(Math.floor(t2.clock.now() / 1000)),
        "svix-signature": "v1,AAAA",
      },
      body: payload(t2.token),
    });
    expect(await expectStatus(res, 401)).toMatchObject({ code: "signature_invalid" });
    expect((await t2.row()).state).toBe("sent");
  });

  it("a forged token inside a genuinely signed event, and a Transient bounce, change nothing", async () => {
    const t = await sentLetter();
    const forged = `${t.token.slice(0, 40)}${t.token.slice(40).split("").reverse().join("")}`;
    expect(await expectStatus(await post(t, payload(forged)), 200)).toEqual({ result: "forged" });
    expect(await expectStatus(await post(t, payload(t.token, "Transient")), 200)).toEqual({ result: "soft" });
    expect((await t.row()).state).toBe("sent");
  });

  it("answers 404 when no webhook secret is configured", async () => {
    const t = await lettersApp();
    const res = await t.request("/webhooks/resend", { method: "POST", body: "{}" });
    expect(await expectStatus(res, 404)).toMatchObject({ code: "not_found" });
  });
});
