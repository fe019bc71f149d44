/**
 * Delivery through Cloudflare Queues, in workerd with Miniflare's local queues and local D1:
 * ids only on the queue, one email however often a message is delivered, per-message
 * acknowledgement (a batch that fails on message 8 of 10 redelivers only 8, 9 and 10), a
 * dead-letter queue whose consumer marks the row dead, and the cron as a safety sweep only.
 * Mail leaves through the HTTP mail API, answered here (http://mail.test/emails).
 */
import { afterEach, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { LIVE_MAIL, mailApi, postJson, startWorker, type TestWorker, until } from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

const pledge = (email: string) => ({
  name: "Ada Supporter",
  email,
  postcode: "ab116ew",
  pledgeConsent: "pledge-2026-11",
});

/** The Worker's JSON log lines (workerd's stdout and stderr, joined). */
const logLines = (worker: TestWorker) =>
  worker.logs
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("delivery on Cloudflare Queues", () => {
  it("puts only outbox ids on the queue, and sends one email however often a message is delivered", async () => {
    const api = mailApi();
    w = await startWorker({ bindings: { ...LIVE_MAIL, LOG_LEVEL: "debug" }, outbound: api.outbound });
    const worker = w;
    await expectStatus(await postJson(worker, "/api/pledges", pledge("dup@example.org")), 202);
    await until(() => api.mail.length === 1, { what: "the confirmation email" });
    const [row] = await worker.outbox();
    expect(row).toMatchObject({ kind: "service", state: "sent", attempts: 1 });

    // The same message again, five times at once and once more later: nothing more is sent.
    const queue = await worker.queue();
    await queue.sendBatch(Array.from({ length: 5 }, () => ({ body: { id: row?.id ?? "" } })));
    await queue.send({ id: row?.id ?? "" });
    const acked = () =>
      logLines(worker)
        .filter((l) => l.msg === "outbox queue batch")
        .reduce((n, l) => n + Number(l.acked ?? 0), 0);
    await until(() => acked() >= 7, { what: "every copy of the message to be handled" });
    expect(api.mail).toHaveLength(1);
    expect(await worker.outbox()).toMatchObject([{ state: "sent", attempts: 1 }]);

    // What the queue carried: ids and nothing else (no address, no text).
    const bodies = logLines(worker).filter((l) => l.msg === "outbox queue batch");
    expect(JSON.stringify(bodies)).not.toContain("dup@example.org");
    expect(worker.unhandled).toEqual([]);
  });

  it("redelivers only the unfinished messages when a batch fails on message 8 of 10", async () => {
    const api = mailApi();
    w = await startWorker({
      bindings: LIVE_MAIL,
      outbound: api.outbound,
      // One batch of ten: it goes as soon as it is full (the timeout only caps the wait, and
      // then delays the redelivered rest by as much).
      queueConsumers: { "speakup-outbox": { maxBatchSize: 10, maxBatchTimeout: 3 } },
    });
    const worker = w;
    // The database refuses to claim the 8th row: the consumer stops there.
    await worker.db
      .prepare(
        `create trigger fail_p8 before update of state on outbox
         when new.state = 'sending' and new.to_email = 'p8@example.org'
         begin select raise(abort, 'simulated fault'); end`,
      )
      .run();
    for (let i = 1; i <= 10; i++)
      await expectStatus(await postJson(worker, "/api/pledges", pledge(`p${i}@example.org`)), 202);
    const sentTo = () => api.mail.map((m) => m.body.to[0]);
    await until(() => logLines(worker).some((l) => String(l.msg).startsWith("outbox queue batch stopped")), {
      what: "the batch to stop",
    });
    expect(sentTo()).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `p${i}@example.org`));
    const stopped = logLines(worker).find((l) => String(l.msg).startsWith("outbox queue batch stopped"));
    expect(stopped).toMatchObject({ redelivered: 3 });

    // The fault clears; the three unfinished messages come back (after 2 s, plus the batch
    // timeout) and go.
    await worker.db.prepare("drop trigger fail_p8").run();
    await until(() => api.mail.length === 10, { what: "messages 8 to 10", timeoutMs: 30_000 });
    expect([...sentTo()].sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `p${i + 1}@example.org`).sort(),
    );
    expect(new Set(sentTo()).size).toBe(10);
    const rows = await worker.outbox();
    expect(rows.map((r) => `${r.state}/${r.attempts}`)).toEqual(Array(10).fill("sent/1"));
  });

  it("sends a row whose queue retries ran out to the dead-letter queue, whose consumer marks it dead", async () => {
    const api = mailApi();
    w = await startWorker({
      bindings: LIVE_MAIL,
      outbound: api.outbound,
      queueConsumers: { "speakup-outbox": { maxRetries: 1 } },
    });
    const worker = w;
    await worker.db
      .prepare(
        `create trigger poison before update of state on outbox
         when new.state = 'sending' and new.to_email = 'poison@example.org'
         begin select raise(abort, 'simulated fault'); end`,
      )
      .run();
    await expectStatus(await postJson(worker, "/api/pledges", pledge("poison@example.org")), 202);
    await until(async () => (await worker.outbox())[0]?.state === "dead", {
      what: "the dead-letter consumer",
      timeoutMs: 20_000,
    });
    const [row] = await worker.outbox();
    expect(row).toMatchObject({ state: "dead", attempts: 0 });
    expect(row?.lastError).toBe("the delivery queue gave up on this message");
    expect(api.mail).toHaveLength(0);
    // The letter-side effects of `dead` (the row is requeue-able from the dashboard) are the
    // state machine's, tested with the Node build; here: nothing was sent, nothing was lost.
  });

  it("keeps the cron as a safety sweep: a ready row the queue never heard of is sent", async () => {
    const api = mailApi();
    w = await startWorker({ bindings: LIVE_MAIL, outbound: api.outbound });
    const worker = w;
    await expectStatus(await postJson(worker, "/api/pledges", pledge("lost@example.org")), 202);
    await until(() => api.mail.length === 1, { what: "the first email" });
    // A second row, written ready six minutes ago, whose message was lost.
    const old = Date.now() - 6 * 60_000;
    await worker.db
      .prepare(
        `insert into outbox (id, kind, state, to_email, reflect_to, from_name, subject, body_text,
           message_id, attempts, next_attempt_at, created_at, updated_at)
         select 'lost-row', kind, 'queued', 'lost2@example.org', 'lost2@example.org', from_name, subject,
           body_text, '<lost-row@example.org>', 0, ?, ?, ? from outbox limit 1`,
      )
      .bind(old, old, old)
      .run();
    expect(await worker.scheduled()).toMatchObject({ outcome: "ok" });
    await until(() => api.mail.length === 2, { what: "the swept row" });
    expect(api.mail[1]?.body.to).toEqual(["lost2@example.org"]);
    // Announced once per grace period: the next minute's sweep leaves it alone.
    const enqueued = await worker.db
      .prepare("select enqueued_at as t from outbox where id = 'lost-row'")
      .first();
    expect(Number((enqueued as { t: number }).t)).toBeGreaterThan(old);
  });

  it("drains the outbox from the cron when no queue is bound (before Queues are set up)", async () => {
    const api = mailApi();
    w = await startWorker({ bindings: LIVE_MAIL, outbound: api.outbound, noQueue: true });
    await expectStatus(await postJson(w, "/api/pledges", pledge("cron@example.org")), 202);
    expect(api.mail).toHaveLength(0);
    await w.scheduled();
    expect(api.mail).toHaveLength(1);
  });
});
