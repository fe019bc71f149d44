/**
 * Letters on Workers: submit -> confirmation email -> confirm -> the delivery queue sends the
 * letter, all in workerd over local D1 and Miniflare's local queue (no cron involved). Mail
 * leaves through the fetch-based mail API transport, answered here at the HTTP boundary
 * (MAIL_API_URL -> http://mail.test/emails); nothing else is reachable.
 */
import { afterEach, describe, expect, it } from "vitest";
import { svixSignature } from "../../src/modules/delivery/delivery.webhooks";
import { expectStatus } from "../support/deps";
import { LIVE_MAIL, mailApi, postJson, startWorker, type TestWorker, until } from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

/** A Worker in live mode whose mail API answers `status()`. */
async function lettersWorker(status?: () => number, bindings: Record<string, string> = {}) {
  const api = mailApi(status);
  w = await startWorker({
    bindings: { ...LIVE_MAIL, LOG_LEVEL: "info", ...bindings },
    outbound: api.outbound,
  });
  const worker = w;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    postJson(worker, path, body, headers);
  const outbox = async () =>
    (await worker.db.prepare("select kind, state, attempts from outbox order by created_at, kind").all())
      .results as { kind: string; state: string; attempts: number }[];
  return { worker, mail: api.mail, post, outbox };
}

const letterInput = (email = "jane@example.org") => ({
  recipient: { kind: "mp" },
  asks: ["prevention", "workforce"],
  story: "Zoë was born in March and our health visitor was a lifeline 👶.",
  supporter: {
    name: "Jane Doe",
    email,
    address: { line1: "1 Test Street", town: "Testtown", postcode: "ZZ9 9ZZ" },
  },
});

describe("letters on Workers + D1, mail through the HTTP mail API", () => {
  it("submits, mails the confirmation link, confirms, and the queue sends the letter and a sent notice", async () => {
    const { worker, mail, post } = await lettersWorker();
    const created = (await expectStatus(await post("/api/letters", letterInput()), 201)) as { id: string };

    // The request only writes the outbox row and puts its id on the queue, whose consumer sends
    // (it may already have done so by now).
    await until(() => mail.length === 1, { what: "the confirmation email" });
    const confirmMail = mail[0]!;
    expect(confirmMail.body.to).toEqual(["jane@example.org"]);
    expect(confirmMail.call.headers.authorization).toBe("Bearer test-api-key");
    expect(confirmMail.call.headers["idempotency-key"]).toBe(confirmMail.body.headers["Message-ID"]);
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(confirmMail.body.text)?.[1];
    expect(token).toBeTruthy();
    expect(confirmMail.body.text).toContain("http://127.0.0.1:8787/letters/confirm?token=");

    await expectStatus(await post("/api/letters/confirm", { token }), 200);
    await until(() => mail.length === 3, { what: "the letter and its sent notice" });

    const letter = mail.find((m) => m.body.subject.toLowerCase().includes("babies"));
    // The ZZ9 9ZZ test MP reflects: the letter comes back to the supporter, even in live mode.
    expect(letter?.body.to).toEqual(["jane@example.org"]);
    expect(letter?.body.from).toBe('"Jane Doe via #SpeakUpForBabies" <campaign@example.org>');
    expect(letter?.body.reply_to).toEqual(['"Jane Doe" <jane@example.org>']);
    expect(letter?.body.text).toContain("Zoë was born in March and our health visitor was a lifeline 👶.");
    expect(letter?.body.text).toContain("1 Test Street\nTesttown\nZZ9 9ZZ");
    expect(mail.some((m) => m.body.subject.includes("has been sent"))).toBe(true);
    expect(mail).toHaveLength(3);

    const status = await expectStatus(await worker.fetch(`/api/letters/${created.id}`), 200);
    expect(status).toMatchObject({ status: "sent" });
    expect(worker.unhandled).toEqual([]);
  });

  it("makes one letter from a double submit with the same Idempotency-Key", async () => {
    const { post, outbox } = await lettersWorker();
    const headers = { "idempotency-key": "workers-double-submit-1" };
    const first = (await expectStatus(await post("/api/letters", letterInput(), headers), 201)) as {
      id: string;
    };
    const again = (await expectStatus(await post("/api/letters", letterInput(), headers), 200)) as {
      id: string;
    };
    expect(again.id).toBe(first.id);
    expect((await outbox()).filter((r) => r.kind === "confirm")).toHaveLength(1);
  });

  it("keeps a message for retry when the mail API answers 503, and gives it up on a 422", async () => {
    let status = 503;
    const { mail, post, outbox } = await lettersWorker(() => status);
    await expectStatus(await post("/api/letters", letterInput()), 201);
    const confirms = async () => (await outbox()).filter((r) => r.kind === "confirm");
    await until(async () => (await confirms())[0]?.state === "failed", { what: "a failed attempt" });
    expect(mail).toHaveLength(1);
    expect(await confirms()).toEqual([{ kind: "confirm", state: "failed", attempts: 1 }]);

    status = 422;
    await expectStatus(await post("/api/letters", letterInput("sam@example.org")), 201);
    // The 503'd row waits out its backoff (its message is retried with that delay); the new
    // row is refused for good.
    await until(async () => (await confirms()).some((r) => r.state === "dead"), { what: "the 422" });
    const rows = (await confirms()).map((r) => `${r.state}/${r.attempts}`).sort();
    expect(rows).toEqual(["dead/1", "failed/1"]);
  });

  it("pauses the outbox when the mail API refuses our key (401): nothing is used up, and it resumes once the key works", async () => {
    let status = 401;
    const { worker, mail, post, outbox } = await lettersWorker(() => status);
    await expectStatus(await post("/api/letters", letterInput()), 201);
    const relay = () =>
      worker.db.prepare("select state, reason, next_probe_at as nextProbeAt from relay_status").first();
    await until(relay, { what: "the pause" });
    expect(mail).toHaveLength(1);
    expect((await outbox()).filter((r) => r.kind === "confirm")).toEqual([
      { kind: "confirm", state: "queued", attempts: 0 },
    ]);
    expect(await relay()).toMatchObject({ state: "paused", reason: "api_auth" });
    // While paused, nothing is tried: a message naming the row is handed back as a fresh
    // message due at the next probe (about 30 s away), so the queue's retries are not used up.
    const [waiting] = (await worker.outbox()).filter((r) => r.kind === "confirm");
    await worker.queue().then((q) => q.send({ id: waiting?.id ?? "" }));
    await until(() => worker.logs.join("").includes('"requeued":1'), { what: "the deferral" });
    expect(mail).toHaveLength(1);
    // The key is fixed and the probe time comes: one message probes the API, then all flows.
    status = 200;
    await worker.db.prepare("update relay_status set next_probe_at = 0").run();
    await worker.queue().then((q) => q.send({ id: waiting?.id ?? "" }));
    await until(async () => (await outbox()).some((r) => r.kind === "confirm" && r.state === "sent"), {
      what: "the probe",
    });
    expect((await outbox()).filter((r) => r.kind === "confirm")).toEqual([
      { kind: "confirm", state: "sent", attempts: 1 },
    ]);
    expect(await worker.db.prepare("select state from relay_status").first()).toEqual({ state: "ok" });
  });

  it("tags each message with its signed bounce token, and takes Resend's signed bounce webhook", async () => {
    const secret = `whsec_${btoa("workers-webhook-secret-32-bytes!")}`;
    const { worker, mail, post } = await lettersWorker(undefined, { RESEND_WEBHOOK_SECRET: secret });
    const created = (await expectStatus(await post("/api/letters", letterInput()), 201)) as { id: string };
    await until(() => mail.length === 1, { what: "the confirmation email" });
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(mail[0]!.body.text)?.[1];
    await expectStatus(await post("/api/letters/confirm", { token }), 200);
    await until(() => mail.length === 3, { what: "the letter" });
    const letter = mail.find((m) => m.body.subject.toLowerCase().includes("babies"));
    const tag = letter?.body.tags?.[0];
    expect(tag?.name).toBe("speakup_bounce");
    expect(tag?.value).toMatch(/^[0-9a-f]{48}$/);
    const body = JSON.stringify({
      type: "email.bounced",
      created_at: new Date().toISOString(),
      data: {
        created_at: new Date().toISOString(),
        email_id: "re_1",
        from: letter?.body.from,
        to: letter?.body.to,
        subject: letter?.body.subject,
        bounce: { message: "Mailbox does not exist", subType: "General", type: "Permanent" },
        tags: { speakup_bounce: tag?.value },
      },
    });
    const id = "msg_workers_1";
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = await svixSignature(secret, id, ts, body);
    const headers = { "content-type": "application/json", "svix-id": id, "svix-timestamp": ts };
    const bad = await worker.fetch("/webhooks/resend", {
      method: "POST",
      headers: { ...headers, "svix-signature": "v1,AAAA" },
      body,
    });
    expect(await expectStatus(bad, 401)).toMatchObject({ code: "signature_invalid" });
    const res = await worker.fetch("/webhooks/resend", {
      method: "POST",
      headers: { ...headers, "svix-signature": `v1,${sig}` },
      body,
    });
    expect(await expectStatus(res, 200)).toEqual({ result: "bounced" });
    const status = await expectStatus(await worker.fetch(`/api/letters/${created.id}`), 200);
    expect(status).toMatchObject({ status: "undeliverable" });
    expect(worker.unhandled).toEqual([]);
  });
});
