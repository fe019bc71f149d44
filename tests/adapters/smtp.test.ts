/**
 * Delivery through the real nodemailer transport (pooled) into a real SMTP server on 127.0.0.1,
 * with what arrived parsed by mailparser: one test per way a relay can fail. The server fails the
 * test on a second copy of any Message-ID (tests/support/smtp.ts).
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { smtpMailer } from "../../src/adapters/node/mailer";
import { deliveryLog, outbox } from "../../src/db/schema.letters";
import { BACKOFF_CAP_MS, MAILBOX_FULL_RETRY_MS } from "../../src/modules/delivery/delivery.machine";
import { checkRelayAtStart } from "../../src/modules/delivery/delivery.relay";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { letterInput, lettersApp } from "../support/letters";
import { freePort, type SmtpSink, startSmtp } from "../support/smtp";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function withSmtp(sink: SmtpSink | { url: string }, env: Record<string, string> = {}) {
  const t = await lettersApp({
    MAIL_MODE: "reflect",
    SMTP_URL: sink.url,
    MAIL_FROM: "campaign@example.org",
    ...env,
  });
  const mailer = smtpMailer({ url: sink.url, poolSize: 3, timeoutMs: 2000 });
  t.deps.mailer = mailer;
  cleanups.push(() => mailer.close?.());
  if ("close" in sink) cleanups.push(() => sink.close());
  /** Submit and confirm letters from n different supporters. */
  const confirmedLetters = async (n: number, over: Record<string, unknown> = {}) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      // Each supporter's own words differ, or the near-duplicate check would hold them.
      const base = letterInput({ story: `Supporter number ${i} writes briefly.`, ...over });
      const { id } = await t.submit({
        ...base,
        supporter: { ...base.supporter, email: `supporter${i}@example.org` },
      });
      await t.confirm(await t.confirmToken(id));
      ids.push(id);
    }
    return ids;
  };
  return { ...t, mailer, confirmedLetters };
}

const lettersIn = (sink: SmtpSink) => sink.messages.filter((m) => m.subject?.includes("babies"));

describe("sending over real SMTP", () => {
  it("delivers the letter with the campaign From, the supporter's name, Reply-To and a stable Message-ID", async () => {
    const sink = await startSmtp();
    const t = await withSmtp(sink);
    const supporter = {
      ...letterInput().supporter,
      name: "Zoë Brontë-O'Hara 👶",
      email: "zoe@example.org",
    };
    const story =
      "Ça va? Our twins 👶👶 were born early; the neonatal nurses were wonderful. {{not a template}} <b>not bold</b>";
    const { id } = await t.submit(letterInput({ supporter, story }));
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);

    const [mail] = lettersIn(sink);
    expect(mail).toBeDefined();
    expect(mail!.from?.value[0]).toEqual({
      name: "Zoë Brontë-O'Hara 👶 via #SpeakUpForBabies",
      address: "campaign@example.org",
    });
    expect(mail!.replyTo?.value[0]).toEqual({ name: "Zoë Brontë-O'Hara 👶", address: "zoe@example.org" });
    // The test MP reflects: the letter comes back to the supporter, never to an MP.
    expect(mail!.to && !Array.isArray(mail!.to) ? mail!.to.value[0]?.address : null).toBe("zoe@example.org");
    const [row] = await t.deps.db.select().from(outbox).where(eq(outbox.letterId, id)).limit(1);
    const letterRow = (await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter")))[0];
    expect(mail!.messageId).toBe(letterRow?.messageId);
    expect(row).toBeDefined();
    expect(mail!.text).toContain(story);
    expect(mail!.text).toContain("Zoë Brontë-O'Hara 👶\n1 Test Street\nTesttown\nZZ9 9ZZ");
    expect(mail!.html).toBe(false);
    expect(mail!.headers.has("bcc")).toBe(false);
    // The envelope sender is the message's own VERP address: a bounce comes back naming it.
    const i = sink.messages.indexOf(mail!);
    expect(sink.senders[i]).toMatch(/^campaign\+[0-9a-f]{48}@example\.org$/);
  });

  it("live mode still reflects the test MP's mail to the sender", async () => {
    const sink = await startSmtp();
    const t = await withSmtp(sink, {
      MAIL_MODE: "live",
      TOKEN_SECRET: "a-real-secret-for-this-test-only",
      MAIL_FROM: "campaign@example.org",
    });
    await t.confirmedLetters(1);
    await drainOutbox(t.deps);
    expect(
      sink.recipients.every((r) =>
        r.every((a) => a.endsWith("@example.org") && !a.includes("speakup.invalid")),
      ),
    ).toBe(true);
    expect(lettersIn(sink)).toHaveLength(1);
  });

  it("SMTP failing mid-batch: the rest are sent, the failed one retried later, no duplicates", async () => {
    let letterData = 0;
    const sink = await startSmtp({
      onData: (_n, parsed) =>
        parsed.subject?.includes("babies") && letterData++ === 2
          ? { code: 451, message: "4.3.0 try again later" }
          : null,
    });
    const t = await withSmtp(sink);
    await t.confirmedLetters(5);
    const first = await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(4);
    expect(first.retrying).toBe(1);
    const log = await t.deps.db
      .select()
      .from(deliveryLog)
      .where(eq(deliveryLog.outcome, "temporary_failure"));
    expect(log).toHaveLength(1);
    expect(log[0]?.smtpCode).toBe(451);

    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    const ids = lettersIn(sink).map((m) => m.messageId);
    expect(ids).toHaveLength(5);
    expect(new Set(ids).size).toBe(5);
  });

  it("5xx at RCPT is permanent: the letter bounces and is not retried", async () => {
    const sink = await startSmtp({ onRcpt: () => ({ code: 550, message: "5.1.1 no such mailbox" }) });
    const t = await withSmtp(sink);
    const [id] = await t.confirmedLetters(1);
    await drainOutbox(t.deps);
    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    const [row] = await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
    expect(row).toMatchObject({ state: "bounced", attempts: 1 });
    const status = await (await t.request(`/api/letters/${id}`)).json();
    expect(status).toMatchObject({ status: "undeliverable" });
  });

  it("4xx at RCPT is temporary: retried, then delivered", async () => {
    let refusals = 0;
    const sink = await startSmtp({
      onRcpt: () => (refusals++ < 1 ? { code: 450, message: "4.2.1 mailbox busy" } : null),
    });
    const t = await withSmtp(sink);
    await t.confirmedLetters(1);
    await drainOutbox(t.deps);
    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    const rows = await t.deps.db.select().from(outbox);
    expect(rows.every((r) => r.state === "sent" || r.state === "queued")).toBe(true);
    expect(rows.filter((r) => r.state === "sent").length).toBeGreaterThanOrEqual(2);
    expect(lettersIn(sink)).toHaveLength(1);
  });

  it("SMTP down at start: the outbox pauses with nothing used up, and everything goes once the relay is up", async () => {
    const port = await freePort();
    const t = await withSmtp({ url: `smtp://127.0.0.1:${port}` });
    await t.confirmedLetters(2);
    const first = await drainOutbox(t.deps);
    expect(first).toMatchObject({ sent: 0, retrying: 0, paused: true });
    expect(await t.deps.db.select().from(deliveryLog)).toEqual([]);
    expect(t.sqlite.prepare("select state, reason from relay_status").get()).toEqual({
      state: "paused",
      reason: "connection",
    });
    const sink = await startSmtp({ port });
    cleanups.push(() => sink.close());
    t.clock.advance(31_000);
    await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(2);
    const states = (
      await t.deps.db.select({ s: outbox.state, k: outbox.kind, a: outbox.attempts }).from(outbox)
    ).filter((r) => r.k !== "followup");
    expect(states.every((r) => r.s === "sent" && r.a === 1)).toBe(true);
  });

  it("535 at AUTH (wrong password): paused, nothing used up; with the right password the start-up check resumes and all goes", async () => {
    const sink = await startSmtp({ auth: { user: "campaign", pass: "right-password" } });
    const wrong = sink.url.replace("right-password", "wrong-password");
    const t = await withSmtp({ url: wrong, close: sink.close } as SmtpSink);
    await t.confirmedLetters(2);
    expect(await drainOutbox(t.deps)).toMatchObject({ sent: 0, paused: true });
    expect(t.sqlite.prepare("select reason, detail from relay_status").get()).toMatchObject({
      reason: "auth",
    });
    expect(
      (t.sqlite.prepare("select detail from relay_status").get() as { detail: string }).detail,
    ).toContain("535");
    expect(t.sqlite.prepare("select count(*) n from outbox where attempts > 0").get()).toEqual({ n: 0 });
    // The operator fixes SMTP_URL and restarts: the start-up check sees the relay works.
    const fixed = smtpMailer({ url: sink.url, poolSize: 2, timeoutMs: 2000 });
    // Closed before the server (cleanups run in order), so the server need not wait for it.
    cleanups.unshift(() => fixed.close?.());
    t.deps.mailer = fixed;
    await checkRelayAtStart(t.deps);
    expect(t.sqlite.prepare("select state from relay_status").get()).toEqual({ state: "ok" });
    await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(2);
  });

  it("5xx at MAIL FROM (our sender refused): paused, not a bounce, nothing used up", async () => {
    let refuse = true;
    const sink = await startSmtp({
      onMailFrom: () => (refuse ? { code: 553, message: "5.7.1 sender address not allowed" } : null),
    });
    const t = await withSmtp(sink);
    await t.confirmedLetters(2);
    expect(await drainOutbox(t.deps)).toMatchObject({ paused: true, bounced: 0, dead: 0 });
    expect(t.sqlite.prepare("select reason from relay_status").get()).toEqual({ reason: "sender_refused" });
    expect(
      t.sqlite.prepare("select count(*) n from outbox where state <> 'queued' or attempts > 0").get(),
    ).toEqual({
      n: 0,
    });
    refuse = false;
    t.clock.advance(31_000);
    await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(2);
  });

  it("421 from the relay: paused and retried, never counted against the message", async () => {
    let busy = 1;
    const sink = await startSmtp({
      onRcpt: () => (busy-- > 0 ? { code: 421, message: "4.7.0 too many connections, closing" } : null),
    });
    const t = await withSmtp(sink);
    await t.confirmedLetters(1);
    expect(await drainOutbox(t.deps)).toMatchObject({ paused: true });
    t.clock.advance(31_000);
    await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(1);
    const [row] = await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
    expect(row).toMatchObject({ state: "sent", attempts: 1 });
  });

  it("552 at DATA (mailbox full): retried, no sooner than two hours later", async () => {
    let full = 1;
    const sink = await startSmtp({
      onData: (_n, parsed) =>
        parsed.subject?.includes("babies") && full-- > 0
          ? { code: 552, message: "5.2.2 mailbox full" }
          : null,
    });
    const t = await withSmtp(sink);
    await t.confirmedLetters(1);
    expect(await drainOutbox(t.deps)).toMatchObject({ retrying: 1 });
    const [row] = await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
    expect(row?.nextAttemptAt).toBeGreaterThanOrEqual(t.clock.now() + MAILBOX_FULL_RETRY_MS);
    t.clock.advance(MAILBOX_FULL_RETRY_MS - 1000);
    await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(0);
    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    expect(lettersIn(sink)).toHaveLength(1);
  });

  it("the relay stores the message and drops the connection before its 250: at most one more copy, with the same Message-ID", async () => {
    let drop = 1;
    const sink = await startSmtp({
      onData: (_n, parsed) => (parsed.subject?.includes("babies") && drop-- > 0 ? "drop" : null),
    });
    const t = await withSmtp(sink);
    await t.confirmedLetters(1);
    const [before] = await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
    // This is the documented at-least-once window: the copy we never heard about may arrive twice.
    sink.allowSecondCopy.add(before!.messageId);
    expect(await drainOutbox(t.deps)).toMatchObject({ paused: true });
    expect(sink.stored.map((m) => m.messageId)).toEqual([before!.messageId]);
    expect(lettersIn(sink)).toHaveLength(0);
    t.clock.advance(31_000);
    await drainOutbox(t.deps);
    const copies = [...sink.stored, ...lettersIn(sink)].map((m) => m.messageId);
    expect(copies).toEqual([before!.messageId, before!.messageId]);
    const [after] = await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
    expect(after).toMatchObject({ state: "sent", attempts: 1 });
  });
});
