/**
 * Partners' signed webhooks against a real HTTP receiver (node:http on 127.0.0.1): the events a
 * confirmation queues (with the supporter only when they consented), the Standard Webhooks
 * signature checked by the very sample code partners are given, retries with backoff, the dead
 * state and requeue a partner sees, redirects not followed, timeouts, the "send test event"
 * button, secret rotation with two signatures, and the addresses we refuse to call.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { nodeWebhookTransport } from "../../src/adapters/node/webhooks";
import { consumeOutboxBatch } from "../../src/modules/delivery/delivery.queue";
import { drainOnce, drainOutbox } from "../../src/modules/delivery/delivery.service";
import { VERIFY_SAMPLE_NODE } from "../../src/modules/partners/partners.docs";
import { saveWebhook } from "../../src/modules/partners/partners.webhooks";
import { adminVerifyRepPledge } from "../../src/modules/pledges/pledges.service";
import { expectStatus } from "../support/deps";
import { ACME, BRAVO, partnersApp } from "../support/partners";
import { type Received, startReceiver } from "../support/receiver";

type Verify = (secret: string, headers: Record<string, unknown>, body: string, now?: number) => boolean;
const samplePath = join(mkdtempSync(join(tmpdir(), "speakup-verify-")), "verify.mjs");
writeFileSync(samplePath, VERIFY_SAMPLE_NODE);
const { verifyWebhook } = (await import(pathToFileURL(samplePath).href)) as { verifyWebhook: Verify };

/** An attribute value as the browser reads it (Handlebars escapes = and / among others). */
const fromHtml = (s: string) =>
  s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    .replace(/&amp;/g, "&");
const secretIn = (page: string, id = "secret") =>
  fromHtml(new RegExp(`id="${id}" type="text" readonly value="([^"]+)"`).exec(page)?.[1] ?? "");

const receivers: Awaited<ReturnType<typeof startReceiver>>[] = [];
afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

async function hooked(env: Record<string, string> = {}, answer?: Parameters<typeof startReceiver>[0]) {
  const t = await partnersApp({
    WEBHOOK_ALLOW_PRIVATE: "on",
    WEBHOOK_TIMEOUT_MS: "800",
    ADMIN_SESSION_HOURS: "336",
    ...env,
  });
  const receiver = await startReceiver(answer);
  receivers.push(receiver);
  const acme = await t.contact(ACME.key);
  await expectStatus(
    await acme.post("/partner/webhooks", {
      url: receiver.url,
      events: ["letter.confirmed", "pledge.confirmed", "representative.pledged"],
      enabled: "yes",
    }),
    200,
  );
  const page = String(await expectStatus(await acme.get("/partner/webhooks", { accept: "text/html" }), 200));
  const secret = secretIn(page);
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
  const nowS = () => Math.floor(t.clock.now() / 1000);
  const event = (
    r: Received | undefined, // biome-ignore lint/suspicious/noExplicitAny: an event body, read field by field in assertions
  ) => JSON.parse(r?.body ?? "null") as Record<string, any>;
  return { ...t, acme, receiver, secret, nowS, event };
}

describe("events and their bodies", () => {
  it("a confirmed letter and pledge reach the partner's endpoint, signed; the supporter only with their consent", async () => {
    const t = await hooked();
    await t.letterVia(ACME, { name: "Ann Opted", email: "ann@example.org" }, { consent: true });
    await t.pledgeVia(ACME, { name: "Ben Silent", email: "ben@example.org" });
    await t.letterVia(ACME, { name: "Cat Later", email: "cat@example.org" }, { confirm: false });
    await drainOutbox(t.deps);
    expect(t.receiver.received).toHaveLength(2);
    // Delivered in parallel lanes: in either order.
    const ofType = (type: string) => t.receiver.received.find((r) => t.event(r).type === type);
    const [letter, pledge] = [ofType("letter.confirmed"), ofType("pledge.confirmed")];
    for (const r of t.receiver.received) {
      expect(r.method).toBe("POST");
      expect(r.path).toBe("/hooks/speakup");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(verifyWebhook(t.secret, r.headers, r.body, t.nowS())).toBe(true);
      // One character changed, another secret, or outside the replay window: refused.
      expect(verifyWebhook(t.secret, r.headers, `${r.body} `, t.nowS())).toBe(false);
      expect(verifyWebhook(`whsec_${Buffer.alloc(32).toString("base64")}`, r.headers, r.body, t.nowS())).toBe(
        false,
      );
      expect(verifyWebhook(t.secret, r.headers, r.body, t.nowS() + 301)).toBe(false);
      expect(t.event(r).id).toBe(r.headers["webhook-id"]);
    }
    expect(t.event(letter)).toMatchObject({
      type: "letter.confirmed",
      partner: ACME.key,
      created: new Date(t.clock.now()).toISOString(),
      data: {
        parliament: "uk_parliament",
        totals: { letters: 1, pledges: 0 },
        supporter: { name: "Ann Opted", email: "ann@example.org", consent: "partner-2026-12" },
      },
    });
    expect(t.event(pledge)).toEqual({
      id: pledge?.headers["webhook-id"],
      type: "pledge.confirmed",
      created: expect.any(String),
      partner: ACME.key,
      data: { totals: { letters: 1, pledges: 1 }, supporter: null },
    });
    // Nothing personal in a body without consent, anywhere.
    expect(pledge?.body).not.toMatch(/ben|Silent|GU11|Aldershot/i);
  });

  it("a replayed confirmation queues nothing more; another partner's letters and unsubscribed events never arrive", async () => {
    const t = await hooked();
    await expectStatus(
      await t.acme.post("/partner/webhooks", {
        url: t.receiver.url,
        events: ["letter.confirmed"],
        enabled: "yes",
      }),
      200,
    );
    const id = await t.letterVia(ACME, { name: "Ann", email: "ann@example.org" });
    await t.pledgeVia(ACME, { name: "Ben", email: "ben@example.org" });
    await t.letterVia(BRAVO, { name: "Eve", email: "eve@example.org" }, { consent: true });
    const { confirmLetter } = await import("../../src/modules/letters/letters.service");
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(
      String(
        (
          t.sqlite
            .prepare("select body_text b from outbox where letter_id = ? and kind = 'confirm'")
            .get(id) as { b?: string }
        )?.b ?? "",
      ),
    )?.[1];
    await confirmLetter(t.deps, { token: token ?? "" });
    await drainOutbox(t.deps);
    expect(t.receiver.received.map((r) => t.event(r).type)).toEqual(["letter.confirmed"]);
  });

  it("announces a representative's pledge to every subscribed partner, never the test seat's", async () => {
    const t = await hooked();
    const bravoReceiver = await startReceiver();
    receivers.push(bravoReceiver);
    await saveWebhook(t.deps, {
      partnerKey: BRAVO.key,
      url: bravoReceiver.url,
      events: ["representative.pledged"],
      enabled: true,
    });
    await adminVerifyRepPledge(t.deps, {
      kind: "mp",
      ref: "E14001063",
      note: "signed at the launch",
      userId: "x",
    });
    // Again (a second click): no second event.
    await adminVerifyRepPledge(t.deps, {
      kind: "mp",
      ref: "E14001063",
      note: "signed at the launch",
      userId: "x",
    });
    const { ensureTestSeat } = await import("../../src/modules/lookup/lookup.import");
    await ensureTestSeat(t.deps);
    await adminVerifyRepPledge(t.deps, { kind: "mp", ref: "ZZ9999999", note: "a test", userId: "x" }).catch(
      () => {},
    );
    await drainOutbox(t.deps);
    for (const r of [t.receiver, bravoReceiver]) {
      expect(r.received).toHaveLength(1);
      expect(t.event(r.received[0])).toMatchObject({
        type: "representative.pledged",
        data: {
          representative: { kind: "mp", name: "MP Aldershot", constituency: "Aldershot", nation: "England" },
          verifiedBy: "admin",
          totals: { representatives: 1 },
        },
      });
    }
    expect(t.event(bravoReceiver.received[0]).partner).toBe(BRAVO.key);
  });
});

describe("delivery through the outbox", () => {
  it("retries a failing endpoint with backoff, then gives up (dead, shown to the partner), and sends again on request", async () => {
    const t = await hooked({ OUTBOX_MAX_ATTEMPTS: "3" }, () => ({
      status: 503,
      body: "partner secret stack trace",
    }));
    await t.pledgeVia(ACME, { name: "Ann", email: "ann@example.org" });
    await drainOnce(t.deps);
    const row = () =>
      t.sqlite
        .prepare(
          "select id, state, attempts, next_attempt_at n, last_error e from outbox where kind = 'webhook'",
        )
        .get() as {
        id: string;
        state: string;
        attempts: number;
        n: number;
        e: string;
      };
    expect(row()).toMatchObject({ state: "failed", attempts: 1, e: "HTTP 503" });
    expect(row().n).toBeGreaterThan(t.clock.now());
    // Not due yet: nothing is sent again before the backoff.
    await drainOnce(t.deps);
    expect(t.receiver.received).toHaveLength(1);
    for (let i = 0; i < 2; i++) {
      t.clock.advance(7 * 3_600_000);
      await drainOnce(t.deps);
    }
    expect(t.receiver.received).toHaveLength(3);
    expect(row()).toMatchObject({ state: "dead", attempts: 3 });
    // The same event id on every attempt; the endpoint's body is never kept.
    expect(new Set(t.receiver.received.map((r) => r.headers["webhook-id"])).size).toBe(1);
    expect(JSON.stringify(t.sqlite.prepare("select * from outbox").all())).not.toContain("stack trace");
    expect(JSON.stringify(t.sqlite.prepare("select * from delivery_log").all())).not.toContain("stack trace");
    const page = String(
      await expectStatus(await t.acme.get("/partner/webhooks", { accept: "text/html" }), 200),
    );
    expect(page).toContain("given up (dead) 1");
    expect(page).toContain("Send again");
    t.receiver.answer(() => ({ status: 200 }));
    expect((await t.acme.post(`/partner/deliveries/${row().id}/retry`)).status).toBe(303);
    await drainOnce(t.deps);
    expect(row()).toMatchObject({ state: "sent" });
    expect(t.receiver.received).toHaveLength(4);
  });

  it("does not follow a redirect, waits no longer than the timeout, and treats 410 Gone as final", async () => {
    const t = await hooked({}, (n) =>
      n === 1 ? { status: 302, headers: { location: "http://169.254.169.254/latest/meta-data" } } : "hang",
    );
    await t.pledgeVia(ACME, { name: "Ann", email: "ann@example.org" });
    await drainOnce(t.deps);
    const state = () =>
      t.sqlite.prepare("select state, last_error e from outbox where kind = 'webhook'").get() as {
        state: string;
        e: string;
      };
    expect(state()).toMatchObject({ state: "failed" });
    expect(state().e).toContain("redirects are not followed");
    expect(t.receiver.received).toHaveLength(1);
    t.clock.advance(3_600_000);
    const started = Date.now();
    await drainOnce(t.deps);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(state().e).toContain("timeout");
    t.receiver.answer(() => ({ status: 410 }));
    t.clock.advance(3_600_000);
    await drainOnce(t.deps);
    expect(state()).toMatchObject({ state: "dead", e: "HTTP 410" });
  });

  it("a paused mail relay doesn't hold webhooks up", async () => {
    const t = await hooked();
    t.sqlite
      .prepare(
        "insert into relay_status (id, state, reason, since, failures, next_probe_at, updated_at) values ('outbox', 'paused', 'auth', ?, 1, ?, ?)",
      )
      .run(t.clock.now(), t.clock.now() + 3_600_000, t.clock.now());
    await t.pledgeVia(ACME, { name: "Ann", email: "ann@example.org" });
    const report = await drainOnce(t.deps);
    expect(report.webhooksSent).toBe(1);
    expect(t.receiver.received).toHaveLength(1);
  });

  it("on the delivery queue (Workers), a confirmation's event is announced and POSTed by the consumer, never mailed, even while mail is paused; a 503 is retried after the backoff", async () => {
    const t = await hooked({}, (n) => (n === 1 ? { status: 503 } : { status: 204 }));
    t.sqlite
      .prepare(
        "insert into relay_status (id, state, reason, since, failures, next_probe_at, updated_at) values ('outbox', 'paused', 'auth', ?, 1, ?, ?)",
      )
      .run(t.clock.now(), t.clock.now() + 3_600_000, t.clock.now());
    await t.letterVia(ACME, { name: "Ann Opted", email: "ann@example.org" }, { consent: true });
    const hook = t.sqlite.prepare("select id from outbox where kind = 'webhook'").get() as { id: string };
    // The confirmation handed the event to the sender (Workers: the queue; Node: the loop's wake-up).
    expect(t.announced.filter((a) => a.id === hook.id)).toHaveLength(1);
    const decided: unknown[] = [];
    const message = (id: string) => ({
      id: `m-${decided.length}`,
      body: { id },
      attempts: 1,
      ack: () => void decided.push("ack"),
      retry: (o?: { delaySeconds?: number }) => void decided.push({ retry: o?.delaySeconds }),
    });
    const captured = () =>
      (t.sqlite.prepare("select count(*) n from captured_mail").get() as { n: number }).n;
    const mailBefore = captured();
    const first = await consumeOutboxBatch(t.deps, [message(hook.id)]);
    expect(first).toMatchObject({ webhooks: 1, webhooksSent: 0, retrying: 1, sent: 0, deferred: 0 });
    const failed = t.sqlite
      .prepare("select state, next_attempt_at n from outbox where id = ?")
      .get(hook.id) as {
      state: string;
      n: number;
    };
    expect(failed.state).toBe("failed");
    expect(decided).toEqual([{ retry: Math.ceil((failed.n - t.clock.now()) / 1000) }]);
    // The retried message comes back after the backoff: delivered once, and the mail relay's
    // pause is neither ended nor used up by a partner's endpoint answering.
    t.clock.advance(failed.n - t.clock.now());
    const second = await consumeOutboxBatch(t.deps, [message(hook.id), message(hook.id)]);
    expect(second).toMatchObject({ webhooks: 1, webhooksSent: 1, sent: 0 });
    expect(decided.slice(1)).toEqual(["ack", "ack"]);
    expect(t.receiver.received).toHaveLength(2);
    expect(t.event(t.receiver.received[1])).toMatchObject({ type: "letter.confirmed", partner: ACME.key });
    expect(
      verifyWebhook(
        t.secret,
        t.receiver.received[1]?.headers ?? {},
        t.receiver.received[1]?.body ?? "",
        t.nowS(),
      ),
    ).toBe(true);
    expect(captured()).toBe(mailBefore);
    expect(t.sqlite.prepare("select state from relay_status").get()).toEqual({ state: "paused" });
  });

  it("the test button delivers a signed webhook.test at once and says how it went", async () => {
    const t = await hooked();
    const page = String(await expectStatus(await t.acme.post("/partner/webhooks/test"), 200));
    expect(page).toContain("Test event delivered");
    expect(t.event(t.receiver.received[0])).toMatchObject({ type: "webhook.test", partner: ACME.key });
    expect(
      verifyWebhook(
        t.secret,
        t.receiver.received[0]?.headers ?? {},
        t.receiver.received[0]?.body ?? "",
        t.nowS(),
      ),
    ).toBe(true);
    t.receiver.answer(() => ({ status: 500 }));
    const failed = String(await expectStatus(await t.acme.post("/partner/webhooks/test"), 200));
    expect(failed).toContain("The test event was not accepted (HTTP 500)");
  });
});

describe("secrets", () => {
  it("after a rotation, signs with both secrets for the grace period, then with the new one only", async () => {
    const t = await hooked({ WEBHOOK_SECRET_GRACE_HOURS: "24", ADMIN_SESSION_HOURS: "72" });
    const old = t.secret;
    const page = String(await expectStatus(await t.acme.post("/partner/webhooks/rotate"), 200));
    const fresh = secretIn(page);
    expect(fresh).not.toBe(old);
    expect(secretIn(page, "previous-secret")).toBe(old); // shown as the previous secret, still signing
    await t.acme.post("/partner/webhooks/test");
    const during = t.receiver.received[0];
    expect(String(during?.headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifyWebhook(old, during?.headers ?? {}, during?.body ?? "", t.nowS())).toBe(true);
    expect(verifyWebhook(fresh, during?.headers ?? {}, during?.body ?? "", t.nowS())).toBe(true);
    t.clock.advance(25 * 3_600_000);
    await t.acme.post("/partner/webhooks/test");
    const after = t.receiver.received[1];
    expect(String(after?.headers["webhook-signature"]).split(" ")).toHaveLength(1);
    expect(verifyWebhook(old, after?.headers ?? {}, after?.body ?? "", t.nowS())).toBe(false);
    expect(verifyWebhook(fresh, after?.headers ?? {}, after?.body ?? "", t.nowS())).toBe(true);
  });
});

describe("addresses we refuse to call", () => {
  it("refuses http://, loopback, private, link-local and local names unless WEBHOOK_ALLOW_PRIVATE (tests only)", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    for (const url of [
      "http://hooks.example.org/x",
      "https://127.0.0.1/x",
      "https://2130706433/x",
      "https://[::1]/x",
      "https://[::ffff:10.0.0.1]/x",
      "https://10.1.2.3/x",
      "https://192.168.1.1/x",
      "https://169.254.169.254/latest/meta-data",
      "https://localhost/x",
      "https://intranet/x",
      "https://db.internal/x",
      "https://user:pass@hooks.example.org/x",
    ]) {
      const page = String(
        await expectStatus(
          await acme.post("/partner/webhooks", { url, events: ["pledge.confirmed"], enabled: "yes" }),
          400,
        ),
      );
      expect(page, url).toContain('href="#url"');
    }
    await expectStatus(
      await acme.post("/partner/webhooks", {
        url: "https://hooks.example.org/speakup",
        events: ["pledge.confirmed"],
        enabled: "yes",
      }),
      200,
    );
  });

  it("refuses at send time a name that resolves to this machine (DNS rebinding), and gives the delivery up", async () => {
    const t = await partnersApp();
    // The partner's name passed when it was saved; now its DNS answers with a loopback address.
    const resolved: string[] = [];
    t.deps.webhooks = nodeWebhookTransport({
      resolve: ((
        host: string,
        _o: unknown,
        cb: (e: null, a: { address: string; family: number }[]) => void,
      ) => {
        resolved.push(host);
        cb(null, [{ address: "127.0.0.1", family: 4 }]);
      }) as never,
    });
    await saveWebhook(t.deps, {
      partnerKey: ACME.key,
      url: "https://hooks.example.org/x",
      events: ["pledge.confirmed"],
      enabled: true,
    });
    await t.pledgeVia(ACME, { name: "Ann", email: "ann@example.org" });
    await drainOnce(t.deps);
    const row = t.sqlite.prepare("select state, last_error e from outbox where kind = 'webhook'").get() as {
      state: string;
      e: string;
    };
    expect(resolved).toEqual(["hooks.example.org"]);
    expect(row.state).toBe("dead");
    expect(row.e).toContain("hooks.example.org resolves to 127.0.0.1, not a public address");
  });
});

describe("the published verification samples", () => {
  it("are printed in docs/webhooks.md exactly as the tested code and the /docs/webhooks page give them", async () => {
    const { readFileSync } = await import("node:fs");
    const { ROOT_DIR } = await import("../../src/adapters/node/deps");
    const { VERIFY_SAMPLE_PYTHON } = await import("../../src/modules/partners/partners.docs");
    const doc = readFileSync(join(ROOT_DIR, "docs/webhooks.md"), "utf8");
    expect(doc).toContain(`\`\`\`js\n${VERIFY_SAMPLE_NODE}\`\`\``);
    expect(doc).toContain(`\`\`\`python\n${VERIFY_SAMPLE_PYTHON}\`\`\``);
    const t = await partnersApp();
    const page = await (await t.request("/docs/webhooks")).text();
    expect(page).toContain("createHmac(&quot;sha256&quot;, key)");
    expect(page).toContain("hmac.compare_digest(signature, expected)");
  });
});

describe("the Python sample", () => {
  const python = (() => {
    try {
      return execFileSync("python3", ["--version"]).length > 0;
    } catch {
      return false;
    }
  })();
  it.skipIf(!python)(
    "verifies a real delivery, and refuses it altered (when python3 is installed)",
    async () => {
      const { VERIFY_SAMPLE_PYTHON } = await import("../../src/modules/partners/partners.docs");
      const t = await hooked();
      // The sample reads the real clock: the delivery is signed now.
      t.clock.set(Date.now());
      await t.acme.post("/partner/webhooks/test");
      const r = t.receiver.received[0];
      const dir = mkdtempSync(join(tmpdir(), "speakup-py-"));
      writeFileSync(join(dir, "verify.py"), VERIFY_SAMPLE_PYTHON);
      const run = (body: string) =>
        execFileSync(
          "python3",
          [
            "-c",
            "import json,sys; sys.path.insert(0, sys.argv[1]); from verify import verify_webhook; print(verify_webhook(sys.argv[2], json.loads(sys.argv[3]), sys.argv[4].encode()))",
            dir,
            t.secret,
            JSON.stringify(r?.headers ?? {}),
            body,
          ],
          { encoding: "utf8" },
        ).trim();
      expect(run(r?.body ?? "")).toBe("True");
      expect(run(`${r?.body} `)).toBe("False");
    },
  );
});
