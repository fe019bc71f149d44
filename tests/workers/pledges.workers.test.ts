/**
 * Supporter pledges on Workers: pledge -> confirmation email queued, sent through the delivery
 * queue and the HTTP mail API -> confirm -> public counter and wall, in workerd over local D1.
 */
import { afterEach, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { LIVE_MAIL, mailApi, postJson, startWorker, type TestWorker, until } from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

const pledge = (over: Record<string, unknown> = {}) => ({
  name: "Ada Supporter",
  email: "Ada@Example.org",
  postcode: "ab116ew",
  pledgeConsent: "pledge-2026-11",
  ...over,
});

describe("supporter pledges on Workers + D1", () => {
  it("emails a confirm link through the mail API and counts the pledge once confirmed", async () => {
    const api = mailApi();
    w = await startWorker({ bindings: LIVE_MAIL, outbound: api.outbound });
    expect(await expectStatus(await postJson(w, "/api/pledges", pledge()), 202)).toEqual({
      status: "check_email",
    });
    // Queued in the outbox inside the request; the queue's consumer sends it.
    await until(() => api.mail.length === 1, { what: "the confirmation email" });
    // To the address as typed (the pledge is keyed by its canonical form).
    expect(api.mail[0]?.body.to).toEqual(["Ada@Example.org"]);
    const link = /https?:\/\/\S+\/pledge\/confirm\?token=\S+/.exec(api.mail[0]?.body.text ?? "")?.[0];
    const token = new URL(link ?? "http://x/").searchParams.get("token");
    expect(token).toBeTruthy();

    const before = await expectStatus(await w.fetch("/api/pledges/counter"), 200);
    expect(before).toMatchObject({ supporters: { total: 0 } });
    expect(await expectStatus(await postJson(w, "/api/pledges/confirm", { token }), 200)).toMatchObject({
      status: "confirmed",
      alreadyConfirmed: false,
    });
    expect(await expectStatus(await postJson(w, "/api/pledges/confirm", { token }), 200)).toMatchObject({
      alreadyConfirmed: true,
    });
    const after = await expectStatus(await w.fetch("/api/pledges/counter"), 200);
    expect(after).toMatchObject({ supporters: { total: 1, byNation: { Scotland: 1 } } });
    expect(w.unhandled).toEqual([]);
  });

  it("makes one pledge from two identical pledges sent at once", async () => {
    const api = mailApi();
    w = await startWorker({ bindings: LIVE_MAIL, outbound: api.outbound });
    const worker = w;
    const results = await Promise.all([1, 2].map(() => postJson(worker, "/api/pledges", pledge())));
    for (const r of results) await expectStatus(r, 202);
    const rows = (await w.db.prepare("select count(*) as n from supporter_pledges").first()) as { n: number };
    expect(rows.n).toBe(1);
  });
});
