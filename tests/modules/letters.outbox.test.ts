import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { deliveryLog, OUTBOX_STATES, type OutboxState, outbox } from "../../src/db/schema.letters";
import type { Mailer, MailMessage } from "../../src/deps";
import {
  BACKOFF_CAP_MS,
  backoffMs,
  canTransition,
  fromStates,
  TRANSITIONS,
} from "../../src/modules/delivery/delivery.machine";
import { MailError } from "../../src/modules/delivery/delivery.mail";
import { claimDue, drainOutbox, sendClaimed } from "../../src/modules/delivery/delivery.service";
import { letterInput, lettersApp } from "../support/letters";

/** A transport at the process edge that records messages and fails on demand. */
function fakeMailer(fail: (m: MailMessage, n: number) => MailError | null = () => null) {
  const sent: MailMessage[] = [];
  let n = 0;
  const mailer: Mailer = {
    async send(m) {
      const err = fail(m, n++);
      if (err) throw err;
      sent.push(m);
      return { messageId: m.messageId, response: "250 OK" };
    },
  };
  return { mailer, sent };
}

/** A confirmed letter sitting in the outbox, in a non-capture mode with the fake transport. */
async function queuedLetter(env: Record<string, string> = {}, fail?: Parameters<typeof fakeMailer>[0]) {
  const t = await lettersApp({ MAIL_MODE: "reflect", SMTP_URL: "smtp://127.0.0.1:1", ...env });
  const fake = fakeMailer(fail);
  t.deps.mailer = fake.mailer;
  const { id } = await t.submit();
  await t.confirm(await t.confirmToken(id));
  // Drop the confirmation email so only the letter is due.
  await t.deps.db.update(outbox).set({ state: "cancelled" }).where(eq(outbox.kind, "confirm"));
  const row = async () => (await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter")))[0]!;
  return { ...t, ...fake, letterId: id, row };
}

describe("outbox state machine", () => {
  it("lists every state, and terminal states lead nowhere", () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...OUTBOX_STATES].sort());
    for (const s of ["dead", "bounced", "cancelled", "expired"] as OutboxState[])
      expect(TRANSITIONS[s]).toEqual([]);
    expect(canTransition("awaiting_confirmation", "sending")).toBe(false);
    expect(fromStates("sending").sort()).toEqual(["failed", "queued"]);
  });

  it("the database refuses a state outside the set", async () => {
    const t = await queuedLetter();
    expect(() => t.sqlite.prepare("update outbox set state = 'lost' where kind = 'letter'").run()).toThrow(
      /CHECK constraint failed: outbox_state_ck/,
    );
  });

  it("backs off exponentially with full jitter, capped", () => {
    expect(backoffMs(1, () => 0.999)).toBeLessThanOrEqual(30_000);
    expect(backoffMs(3, () => 0.999)).toBeGreaterThan(60_000);
    expect(backoffMs(30, () => 0.999)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    expect(backoffMs(5, () => 0)).toBe(1000);
  });
});

describe("claiming and sending", () => {
  it("claims a row once: a second claim finds nothing while the lease holds", async () => {
    const t = await queuedLetter();
    const first = await claimDue(t.deps, 10);
    expect(first.map((r) => r.kind)).toEqual(["letter"]);
    expect(first[0]).toMatchObject({ state: "sending", attempts: 1 });
    expect(await claimDue(t.deps, 10)).toEqual([]);
  });

  it("process killed while sending: row reclaimed after its lease, exactly one more attempt", async () => {
    const t = await queuedLetter({ OUTBOX_LEASE_SECONDS: "60" });
    // A worker claims the row and dies before sending: nothing is recorded.
    await claimDue(t.deps, 10);
    expect((await drainOutbox(t.deps)).sent).toBe(0); // lease still held
    t.clock.advance(61_000);
    const report = await drainOutbox(t.deps);
    expect(report.reclaimed).toBe(1);
    const toMp = t.sent.filter((m) => m.subject.includes("babies"));
    expect(toMp).toHaveLength(1);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    const log = await t.deps.db
      .select()
      .from(deliveryLog)
      .where(eq(deliveryLog.outboxId, (await t.row()).id));
    expect(log.map((l) => [l.attempt, l.outcome])).toEqual([
      [1, "reclaimed"],
      [2, "sent"],
    ]);
  });

  it("a stale worker cannot overwrite the newer attempt's outcome", async () => {
    const t = await queuedLetter({ OUTBOX_LEASE_SECONDS: "60" });
    const [stale] = await claimDue(t.deps, 10);
    t.clock.advance(61_000);
    await drainOutbox(t.deps); // reclaimed and sent as attempt 2
    await sendClaimed(t.deps, t.mailer, stale!); // the old worker wakes up
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    // ...and its late success queues no second "sent" notice or follow-up for the supporter.
    const notices = await t.deps.db
      .select({ kind: outbox.kind })
      .from(outbox)
      .where(eq(outbox.letterId, t.letterId));
    expect(notices.filter((n) => n.kind === "sent_notice")).toHaveLength(1);
    expect(notices.filter((n) => n.kind === "followup")).toHaveLength(1);
  });

  it("retries a temporary failure later with the same Message-ID, then sends", async () => {
    const t = await queuedLetter({}, (_m, n) =>
      n === 0 ? new MailError("451 try later", false, 451) : null,
    );
    expect((await drainOutbox(t.deps)).retrying).toBe(1);
    const failed = await t.row();
    expect(failed.state).toBe("failed");
    expect(failed.nextAttemptAt).toBeGreaterThan(t.clock.now());
    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    expect(t.sent.filter((m) => m.messageId === failed.messageId)).toHaveLength(1);
  });

  it("gives up after OUTBOX_MAX_ATTEMPTS temporary failures: dead, letter undeliverable", async () => {
    const t = await queuedLetter({ OUTBOX_MAX_ATTEMPTS: "3" }, () => new MailError("421 busy", false, 421));
    for (let i = 0; i < 3; i++) {
      await drainOutbox(t.deps);
      t.clock.advance(BACKOFF_CAP_MS);
    }
    expect(await t.row()).toMatchObject({ state: "dead", attempts: 3 });
    const status = await t.request(`/api/letters/${t.letterId}`);
    expect(await status.json()).toMatchObject({ status: "undeliverable" });
  });

  it("does not retry a permanent failure: 5xx on RCPT is bounced, 5xx elsewhere dead", async () => {
    const rcpt = await queuedLetter({}, () => new MailError("550 no such user", true, 550, "RCPT TO"));
    await drainOutbox(rcpt.deps);
    expect(await rcpt.row()).toMatchObject({ state: "bounced", attempts: 1 });
    const data = await queuedLetter({}, () => new MailError("554 rejected", true, 554, "DATA"));
    await drainOutbox(data.deps);
    expect(await data.row()).toMatchObject({ state: "dead", attempts: 1 });
  });

  it("in reflect mode sends the MP's letter to the supporter; a real MP address is untouched", async () => {
    const t = await queuedLetter();
    await drainOutbox(t.deps);
    const letter = t.sent.find((m) => m.subject.includes("babies"));
    expect(letter?.to.address).toBe("jane@example.org");
    expect(letter?.replyTo?.address).toBe("jane@example.org");
    expect(letterInput().supporter.email).toBe("jane@example.org");
  });
});
