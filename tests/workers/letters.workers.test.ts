/**
 * Letters on Workers: submit -> confirmation email -> confirm -> the cron drains the outbox,
 * all in workerd over local D1. Mail leaves through the fetch-based mail API transport, answered
 * here at the HTTP boundary (MAIL_API_URL -> http://mail.test/emails); nothing else is reachable.
 */
import { afterEach, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { LIVE_MAIL, mailApi, postJson, startWorker, type TestWorker } from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

/** A Worker in live mode whose mail API answers `status()`. */
async function lettersWorker(status?: () => number) {
  const api = mailApi(status);
  w = await startWorker({ bindings: LIVE_MAIL, outbound: api.outbound });
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
  it("submits, mails the confirmation link, confirms, and the cron sends the letter and a sent notice", async () => {
    const { worker, mail, post } = await lettersWorker();
    const created = (await expectStatus(await post("/api/letters", letterInput()), 201)) as { id: string };

    // Nothing is sent inside the request: the outbox row waits for the cron trigger.
    expect(mail).toHaveLength(0);
    await worker.scheduled();
    expect(mail).toHaveLength(1);
    const confirmMail = mail[0]!;
    expect(confirmMail.body.to).toEqual(["jane@example.org"]);
    expect(confirmMail.call.headers.authorization).toBe("Bearer test-api-key");
    expect(confirmMail.call.headers["idempotency-key"]).toBe(confirmMail.body.headers["Message-ID"]);
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(confirmMail.body.text)?.[1];
    expect(token).toBeTruthy();
    expect(confirmMail.body.text).toContain("http://127.0.0.1:8787/letters/confirm?token=");

    await expectStatus(await post("/api/letters/confirm", { token }), 200);
    await worker.scheduled();

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
    const { worker, mail, post, outbox } = await lettersWorker(() => status);
    await expectStatus(await post("/api/letters", letterInput()), 201);
    await worker.scheduled();
    expect(mail).toHaveLength(1);
    const confirms = async () => (await outbox()).filter((r) => r.kind === "confirm");
    expect(await confirms()).toEqual([{ kind: "confirm", state: "failed", attempts: 1 }]);

    status = 422;
    await expectStatus(await post("/api/letters", letterInput("sam@example.org")), 201);
    await worker.scheduled();
    // The 503'd row waits out its backoff; the new row is refused for good.
    const rows = (await confirms()).map((r) => `${r.state}/${r.attempts}`).sort();
    expect(rows).toEqual(["dead/1", "failed/1"]);
  });
});
