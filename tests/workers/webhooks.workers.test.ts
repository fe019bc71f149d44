/**
 * Partners' webhooks on Workers: a letter written on a partner's page and confirmed queues its
 * `letter.confirmed` event in the confirmation's own write, the request hands the event's id to
 * the delivery queue, and the queue's consumer POSTs it, signed, to the partner's endpoint with
 * the fetch transport: once, however often its message arrives, and without mailing anything.
 * No cron runs here: the queue alone delivers. The endpoint is answered at the HTTP boundary.
 */
import { afterEach, describe, expect, it } from "vitest";
import { svixSignature } from "../../src/modules/delivery/delivery.webhooks";
import { webhookSecret } from "../../src/modules/partners/partners.signing";
import { expectStatus } from "../support/deps";
import {
  LIVE_MAIL,
  mailApi,
  type OutboundCall,
  postJson,
  startWorker,
  type TestWorker,
  until,
} from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

const PARTNER = { key: "acme", origin: "https://www.acme-charity.example" };
const HOOK_URL = "https://crm.acme-charity.example/hooks/speakup";
const NONCE = "workers-test-webhook-nonce";

describe("partners' webhooks on Cloudflare Queues", () => {
  it("delivers a confirmed letter's event to the partner once, signed, through the delivery queue", async () => {
    const api = mailApi();
    const hooks: OutboundCall[] = [];
    w = await startWorker({
      bindings: { ...LIVE_MAIL, LOG_LEVEL: "debug" },
      outbound: (call) => {
        if (call.url !== HOOK_URL) return api.outbound(call);
        hooks.push(call);
        return new Response(null, { status: 204 });
      },
    });
    const worker = w;
    const now = Date.now();
    await worker.db.batch([
      worker.db
        .prepare(
          "insert into partners (key, name, allowed_origins, active, created_at, updated_at) values (?, 'Acme Family Charity', ?, 1, ?, ?)",
        )
        .bind(PARTNER.key, JSON.stringify([PARTNER.origin]), now, now),
      worker.db
        .prepare(
          "insert into partner_webhooks (partner_key, url, events, enabled, secret_nonce, secret_created_at, created_at, updated_at) values (?, ?, ?, 1, ?, ?, ?, ?)",
        )
        .bind(PARTNER.key, HOOK_URL, JSON.stringify(["letter.confirmed"]), NONCE, now, now, now),
    ]);

    const letter = {
      recipient: { kind: "mp" },
      asks: ["prevention", "workforce"],
      story: "Our health visitor was a lifeline in the first weeks.",
      supporter: {
        name: "Ann Opted",
        email: "ann@example.org",
        address: { line1: "1 Test Street", town: "Testtown", postcode: "ZZ9 9ZZ" },
      },
      partner: PARTNER.key,
      partnerConsent: "partner-2026-12",
    };
    await expectStatus(await postJson(worker, "/api/letters", letter, { origin: PARTNER.origin }), 201);
    await until(() => api.mail.length === 1, { what: "the confirmation email" });
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(api.mail[0]?.body.text ?? "")?.[1];
    expect(token).toBeTruthy();
    expect(hooks).toHaveLength(0);

    await expectStatus(await postJson(worker, "/api/letters/confirm", { token }), 200);
    await until(() => hooks.length === 1, { what: "the partner's webhook" });
    const [hook] = await worker.db
      .prepare("select id, state, attempts from outbox where kind = 'webhook'")
      .all()
      .then((r) => r.results as { id: string; state: string; attempts: number }[]);
    await until(
      async () =>
        (
          await worker.db
            .prepare("select state from outbox where kind = 'webhook'")
            .first<{ state: string }>()
        )?.state === "sent",
      { what: "the delivery recorded as sent" },
    );

    // Signed with the partner's secret (Standard Webhooks), the supporter included: they ticked
    // the partner's box with this letter.
    const call = hooks[0] as OutboundCall;
    expect(call.method).toBe("POST");
    expect(call.headers["content-type"]).toBe("application/json");
    const secret = await webhookSecret({ TOKEN_SECRET: LIVE_MAIL.TOKEN_SECRET }, NONCE);
    const expected = await svixSignature(
      secret,
      call.headers["webhook-id"] ?? "",
      call.headers["webhook-timestamp"] ?? "",
      call.body,
    );
    expect(call.headers["webhook-signature"]).toBe(`v1,${expected}`);
    expect(JSON.parse(call.body)).toMatchObject({
      id: call.headers["webhook-id"],
      type: "letter.confirmed",
      partner: PARTNER.key,
      // The test seat (ZZ9 9ZZ) counts in no tally (admin.counts.ts), the partner's included.
      data: { totals: { letters: 0 }, supporter: { name: "Ann Opted", email: "ann@example.org" } },
    });

    // Nothing was mailed for it: the confirmation, the letter (reflected) and its sent notice.
    await until(() => api.mail.length === 3, { what: "the letter and its sent notice" });
    expect(api.mail.every((m) => m.body.to.length === 1 && m.body.to[0] === "ann@example.org")).toBe(true);

    // The queue delivers at least once: more messages for the same row send nothing more. Each
    // row sent so far had one message; once all are acknowledged, two more copies are sent.
    const handled = () =>
      worker.logs
        .join("")
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.msg === "outbox queue batch")
        .reduce((n, l) => n + Number(l.acked ?? 0), 0);
    const sentRows = (await worker.outbox()).filter((r) => r.state === "sent").length;
    expect(sentRows).toBe(4);
    await until(() => handled() >= sentRows, { what: "every message so far to be acknowledged" });
    const queue = await worker.queue();
    await queue.sendBatch([{ body: { id: hook?.id ?? "" } }, { body: { id: hook?.id ?? "" } }]);
    await until(() => handled() >= sentRows + 2, { what: "the duplicate messages to be handled" });
    expect(hooks).toHaveLength(1);
    const rows = await worker.outbox();
    expect(rows.find((r) => r.kind === "webhook")).toMatchObject({ state: "sent", attempts: 1 });
    expect(worker.unhandled).toEqual([]);
  });
});
