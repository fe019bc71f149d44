/**
 * The queue consumer's decisions (delivery.queue.ts), driven with the Node test deps and a
 * counting mailer: what it acknowledges, retries (and with what delay) and hands back, message
 * by message. The same code runs in workerd over Cloudflare's queue (tests/workers/queue...).
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { relayStatus } from "../../src/db/schema.delivery";
import { outbox } from "../../src/db/schema.letters";
import { queryBudget } from "../../src/lib/budget";
import {
  consumeDeadLetters,
  consumeOutboxBatch,
  type QueueMessage,
} from "../../src/modules/delivery/delivery.queue";
import { letterInput, lettersApp } from "../support/letters";
import { countingMailer, type FailWith, LIVE_TO_FAKE_TRANSPORT, mailError } from "../support/mail";

/** A message as Cloudflare's Message: records what the consumer decided. */
function message(body: unknown, attempts = 1) {
  const m = {
    id: `msg-${Math.random().toString(36).slice(2)}`,
    body,
    attempts,
    outcome: undefined as undefined | "ack" | { retry: number | undefined },
    ack() {
      if (m.outcome) throw new Error("decided twice");
      m.outcome = "ack";
    },
    retry(o?: { delaySeconds?: number }) {
      if (m.outcome) throw new Error("decided twice");
      m.outcome = { retry: o?.delaySeconds };
    },
  } satisfies QueueMessage & { outcome: unknown };
  return m;
}

/** One confirmed letter to the test MP (reflected), its confirmation email and letter ready to send. */
async function ready(fail?: FailWith) {
  const t = await lettersApp(LIVE_TO_FAKE_TRANSPORT);
  const mailer = countingMailer(fail);
  t.deps.mailer = mailer;
  const { id } = await t.submit(letterInput());
  await t.confirm(await t.confirmToken(id));
  const rows = await t.deps.db.select().from(outbox);
  const row = (kind: string) => rows.find((r) => r.kind === kind) as (typeof rows)[number];
  const state = async (id: string) => (await t.deps.db.select().from(outbox).where(eq(outbox.id, id)))[0];
  return { ...t, mailer, row, state };
}

describe("the delivery queue's consumer", () => {
  it("sends a ready row once and acknowledges every copy of its message", async () => {
    const t = await ready();
    const letter = t.row("letter");
    const copies = [message({ id: letter.id }), message({ id: letter.id }), message({ id: letter.id })];
    const r = await consumeOutboxBatch(t.deps, copies);
    expect(copies.map((m) => m.outcome)).toEqual(["ack", "ack", "ack"]);
    expect(r).toMatchObject({ sent: 1, acked: 3 });
    expect(t.mailer.sent).toHaveLength(1);
    // Its sent notice was announced for the queue once written.
    expect(t.announced.map((a) => a.id)).toContain(
      (await t.deps.db.select().from(outbox).where(eq(outbox.kind, "sent_notice")))[0]?.id,
    );
  });

  it("retries a temporary failure with the delay the outbox's backoff chose", async () => {
    const t = await ready(() => mailError("451 4.3.0 try later", { smtpCode: 451, command: "DATA" }));
    const letter = t.row("letter");
    const m = message({ id: letter.id });
    await consumeOutboxBatch(t.deps, [m]);
    const row = await t.state(letter.id);
    expect(row).toMatchObject({ state: "failed", attempts: 1 });
    const waitS = Math.ceil(((row?.nextAttemptAt ?? 0) - t.clock.now()) / 1000);
    expect(m.outcome).toEqual({ retry: waitS });
    expect(waitS).toBeGreaterThanOrEqual(1);
    expect(waitS).toBeLessThanOrEqual(30);
    // A copy arriving before then is put off until then too, without an attempt.
    const early = message({ id: letter.id });
    await consumeOutboxBatch(t.deps, [early]);
    expect(early.outcome).toEqual({ retry: waitS });
    expect(await t.state(letter.id)).toMatchObject({ attempts: 1 });
  });

  it("hands messages back as fresh ones for the next probe while the relay is paused, using up nothing", async () => {
    const t = await ready(() => mailError("535 5.7.8 auth failed", { smtpCode: 535, command: "AUTH PLAIN" }));
    const letter = t.row("letter");
    const confirm = t.row("confirm");
    const batch = [message({ id: letter.id }), message({ id: confirm.id })];
    const r = await consumeOutboxBatch(t.deps, batch);
    expect(r).toMatchObject({ paused: true, deferred: 2, requeued: 2 });
    expect(batch.map((m) => m.outcome)).toEqual(["ack", "ack"]);
    const [relay] = await t.deps.db.select().from(relayStatus);
    expect(relay?.state).toBe("paused");
    expect((await t.state(letter.id))?.attempts).toBe(0);
    const handedBack = t.announced.slice(-2);
    expect(handedBack.map((a) => a.id)).toEqual([letter.id, confirm.id]);
    for (const a of handedBack) expect(a.dueAt).toBe(relay?.nextProbeAt);
  });

  it("reclaims a row whose sender died (lease passed) and sends it; waits for a live lease", async () => {
    const t = await ready();
    const letter = t.row("letter");
    const now = t.clock.now();
    await t.deps.db
      .update(outbox)
      .set({ state: "sending", attempts: 1, leaseUntil: now + 60_000, claimToken: "someone-else" })
      .where(eq(outbox.id, letter.id));
    const m = message({ id: letter.id });
    await consumeOutboxBatch(t.deps, [m]);
    expect(m.outcome).toEqual({ retry: 61 });
    expect(t.mailer.sent).toHaveLength(0);
    t.clock.advance(61_000);
    const again = message({ id: letter.id });
    await consumeOutboxBatch(t.deps, [again]);
    expect(again.outcome).toBe("ack");
    expect(await t.state(letter.id)).toMatchObject({ state: "sent", attempts: 2 });
    expect(t.mailer.sent).toHaveLength(1);
  });

  it("drops a message that names no row, and one for a row that has ended, acknowledging both", async () => {
    const t = await ready();
    const bad = message({ nope: true });
    const gone = message({ id: "00000000-0000-0000-0000-000000000000" });
    const r = await consumeOutboxBatch(t.deps, [bad, gone]);
    expect([bad.outcome, gone.outcome]).toEqual(["ack", "ack"]);
    expect(r.malformed).toBe(1);
    expect(t.logger.lines.some((l) => l.msg.includes("names no outbox row"))).toBe(true);
  });

  it("stops taking messages when the invocation's query budget can't cover one more, handing the rest back", async () => {
    const t = await ready();
    const budget = queryBudget(8);
    const batch = [message({ id: t.row("letter").id }), message({ id: t.row("confirm").id })];
    const r = await consumeOutboxBatch(t.deps, batch, { budget });
    expect(r.requeued).toBe(2);
    expect(batch.map((m) => m.outcome)).toEqual(["ack", "ack"]);
    expect(t.mailer.sent).toHaveLength(0);
  });

  it("retries this message and the rest of the batch when the database fails mid-batch", async () => {
    const t = await ready();
    const letter = t.row("letter");
    const confirm = t.row("confirm");
    t.sqlite.exec(
      `create trigger fail_letter before update of state on outbox when new.id = '${letter.id}' and new.state = 'sending'
       begin select raise(abort, 'simulated fault'); end`,
    );
    const batch = [message({ id: confirm.id }), message({ id: letter.id }, 3), message({ id: confirm.id })];
    const r = await consumeOutboxBatch(t.deps, batch);
    expect(r.stopped).toMatch(/SQLITE_CONSTRAINT/);
    // The first is finished; the one that failed (its 3rd attempt: 8 s) and the one after it go back.
    expect(batch.map((m) => m.outcome)).toEqual(["ack", { retry: 8 }, { retry: 2 }]);
  });

  it("marks a dead-lettered row dead through the state machine, its letter undeliverable", async () => {
    const t = await ready();
    const letter = t.row("letter");
    const m = message({ id: letter.id });
    expect(await consumeDeadLetters(t.deps, [m])).toEqual({ dead: 1 });
    expect(m.outcome).toBe("ack");
    expect(await t.state(letter.id)).toMatchObject({
      state: "dead",
      lastError: "the delivery queue gave up on this message",
    });
    const status = await t.request(`/api/letters/${letter.letterId}`);
    expect(await status.json()).toMatchObject({ status: "undeliverable" });
  });
});
