import { describe, expect, it } from "vitest";
import type { MailMessage } from "../../src/deps";
import { MailError } from "../../src/modules/delivery/delivery.mail";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { form, json, pledgeTestApp, tokenIn } from "../support/pledges";

const pledge = (over: Record<string, unknown> = {}) => ({
  name: "Ada Supporter",
  email: "Ada@Example.org",
  postcode: "gu111aa",
  pledgeConsent: "pledge-2026-11",
  ...over,
});

describe("supporter pledges", () => {
  it("records a pledge unconfirmed, with the consent wording version and time, and emails a confirm link", async () => {
    const t = pledgeTestApp();
    const res = await t.request("/api/pledges", json(pledge({ updatesConsent: "updates-2026-11" })));
    expect(await expectStatus(res, 202)).toEqual({ status: "check_email" });
    const row = t.sqlite.prepare("select * from supporter_pledges").get() as Record<string, unknown>;
    expect(row).toMatchObject({
      email_norm: "ada@example.org",
      email: "Ada@Example.org",
      postcode: "GU11 1AA",
      constituency_code: "E14001063",
      status: "unconfirmed",
      pledge_consent_version: "pledge-2026-11",
      pledge_consent_at: t.clock.now(),
      updates_consent_version: "updates-2026-11",
      updates_consent_at: t.clock.now(),
    });
    expect(t.sent).toHaveLength(1);
    // Sent to the address as typed; the key is its canonical form.
    expect(t.sent[0]?.to.address).toBe("Ada@Example.org");
    expect(t.sent[0]?.text).toContain("/pledge/confirm?token=");
  });

  it("keeps the confirm email through a relay failure: the outbox pauses without using up the message, and a later drain delivers it", async () => {
    // A relay that is down for the first attempt, in reflect mode (which must not redirect a
    // supporter's own mail anywhere else).
    const t = pledgeTestApp({
      MAIL_MODE: "reflect",
      SMTP_URL: "smtp://127.0.0.1:1",
      MAIL_FROM: "campaign@example.org",
    });
    const delivered: MailMessage[] = [];
    let calls = 0;
    t.deps.mailer = {
      async send(m) {
        if (calls++ === 0)
          throw new MailError("421 4.3.2 service not available", { smtpCode: 421, command: "CONN" });
        delivered.push(m);
        return { messageId: m.messageId, response: "250 OK" };
      },
    };
    expect(await expectStatus(await t.request("/api/pledges", json(pledge())), 202)).toEqual({
      status: "check_email",
    });
    const row = () =>
      t.sqlite.prepare("select kind, state, attempts, to_email, last_error from outbox").get() as Record<
        string,
        unknown
      >;
    // The relay failed as a whole: the message is back in the queue with its attempt unused.
    expect(row()).toMatchObject({
      kind: "service",
      state: "queued",
      attempts: 0,
      to_email: "Ada@Example.org",
    });
    expect(row().last_error).toContain("421");
    expect(t.sqlite.prepare("select state, reason from relay_status").get()).toEqual({
      state: "paused",
      reason: "relay_unavailable",
    });
    expect(delivered).toHaveLength(0);
    // Nothing is tried while paused; after the back-off one message probes the relay and goes.
    expect(await drainOutbox(t.deps)).toMatchObject({ claimed: 0, paused: true });
    t.clock.advance(31_000);
    expect(await drainOutbox(t.deps)).toMatchObject({ sent: 1, paused: false });
    expect(row()).toMatchObject({ state: "sent", attempts: 1 });
    expect(t.sqlite.prepare("select state, failures from relay_status").get()).toEqual({
      state: "ok",
      failures: 0,
    });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.to.address).toBe("Ada@Example.org");
    const token = tokenIn(delivered[0], "/pledge/confirm");
    expect(await expectStatus(await t.request("/api/pledges/confirm", json({ token })), 200)).toMatchObject({
      status: "confirmed",
    });
  });

  it("refuses a pledge whose pledge box was not ticked", async () => {
    const t = pledgeTestApp();
    const res = await t.request("/api/pledges", json(pledge({ pledgeConsent: undefined })));
    const body = (await expectStatus(res, 400)) as { errors: { path: string }[] };
    expect(body.errors.map((e) => e.path)).toContain("pledgeConsent");
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 0 });
  });

  it("leaves the updates consent empty when that box was not ticked", async () => {
    const t = pledgeTestApp();
    await expectStatus(await t.request("/api/pledges", json(pledge())), 202);
    expect(
      t.sqlite.prepare("select updates_consent_version v, updates_consent_at a from supporter_pledges").get(),
    ).toEqual({ v: null, a: null });
  });

  it("makes one row when two identical pledges arrive in parallel, and both succeed", async () => {
    const t = pledgeTestApp();
    const [a, b] = await Promise.all([
      t.request("/api/pledges", json(pledge())),
      t.request("/api/pledges", json(pledge({ email: "  ADA@example.ORG " }))),
    ]);
    await expectStatus(a as Response, 202);
    await expectStatus(b as Response, 202);
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 1 });
    expect(t.sent).toHaveLength(1);
  });

  it("treats the email case-insensitively: a later pledge with another case is the same pledge", async () => {
    const t = pledgeTestApp();
    await expectStatus(await t.request("/api/pledges", json(pledge())), 202);
    t.clock.advance(11 * 60_000);
    await expectStatus(await t.request("/api/pledges", json(pledge({ email: "ADA@EXAMPLE.ORG" }))), 202);
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 1 });
    // Resent after the pause, not immediately.
    expect(t.sent).toHaveLength(2);
  });

  it("confirms by POST from the emailed link, idempotently, counting the pledge once", async () => {
    const t = pledgeTestApp();
    await t.request("/api/pledges", json(pledge()));
    const token = tokenIn(t.sent[0], "/pledge/confirm");
    // GET shows a page with a button and changes nothing.
    const page = (await expectStatus(await t.request(`/pledge/confirm?token=${token}`), 200)) as string;
    expect(page).toContain('action="/pledge/confirm"');
    expect(t.sqlite.prepare("select status from supporter_pledges").get()).toEqual({ status: "unconfirmed" });

    const first = await t.request("/pledge/confirm", form({ token }));
    expect(await expectStatus(first, 200)).toContain("Thank you for pledging");
    const again = await t.request("/api/pledges/confirm", json({ token }));
    expect(await expectStatus(again, 200)).toMatchObject({ status: "confirmed", alreadyConfirmed: true });
    await Promise.all([1, 2, 3].map(() => t.request("/api/pledges/confirm", json({ token }))));

    const counter = await expectStatus(await t.request("/api/pledges/counter"), 200);
    expect(counter).toMatchObject({ supporters: { total: 1, byNation: { England: 1, Scotland: 0 } } });
  });

  it("rejects an expired confirm token with 410 and a tampered one with 404", async () => {
    const t = pledgeTestApp({ PLEDGE_CONFIRM_TTL_DAYS: "7" });
    await t.request("/api/pledges", json(pledge()));
    const token = tokenIn(t.sent[0], "/pledge/confirm");
    const tampered = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
    expect(
      await expectStatus(await t.request("/api/pledges/confirm", json({ token: tampered })), 404),
    ).toMatchObject({ code: "token_invalid" });
    t.clock.advance(8 * 86_400_000);
    expect(await expectStatus(await t.request("/api/pledges/confirm", json({ token })), 410)).toMatchObject({
      code: "token_expired",
    });
  });

  it("re-renders the HTML form with field messages when something is missing", async () => {
    const t = pledgeTestApp();
    const res = await t.request("/pledge", form({ name: "", email: "nope", postcode: "GU11 1AA" }));
    const html = (await expectStatus(res, 400)) as string;
    expect(html).toContain('href="#pledge-name"');
    expect(html).toContain('href="#pledge-consent"');
    expect(html).toContain('value="GU11 1AA"');
  });

  it("shows unticked consent boxes on the pledge form", async () => {
    const t = pledgeTestApp();
    const html = (await expectStatus(await t.request("/pledge"), 200)) as string;
    expect(html).toMatch(/name="pledgeConsent" type="checkbox" value="pledge-2026-11">/);
    expect(html).toMatch(/name="updatesConsent" type="checkbox" value="updates-2026-11">/);
  });

  it("counts by nation and leaves the test seat out of public counts", async () => {
    const t = pledgeTestApp();
    const emails = ["a@x.org", "b@x.org", "c@x.org"];
    const postcodes = ["GU11 1AA", "EH8 8AA", "EH8 8AA"];
    for (const [i, email] of emails.entries())
      await t.request("/api/pledges", json(pledge({ email, postcode: postcodes[i] })));
    for (const m of t.sent)
      await t.request("/api/pledges/confirm", json({ token: tokenIn(m, "/pledge/confirm") }));
    const counter = await expectStatus(await t.request("/api/pledges/counter"), 200);
    expect(counter).toMatchObject({
      supporters: { total: 3, byNation: { England: 1, Scotland: 2, Wales: 0, "Northern Ireland": 0 } },
    });
  });

  it("never writes the email address or postcode to the log", async () => {
    const t = pledgeTestApp();
    await t.request("/api/pledges", json(pledge()));
    await t.request("/api/pledges/confirm", json({ token: tokenIn(t.sent[0], "/pledge/confirm") }));
    const logged = JSON.stringify(t.logger.lines).toLowerCase();
    expect(logged).not.toContain("ada@example.org");
    expect(logged).not.toContain("gu11");
  });
});

describe("MP and candidate pledges", () => {
  it("sends the pledge link only to the MP's official address and verifies by POST", async () => {
    const t = pledgeTestApp();
    const page = (await expectStatus(await t.request("/pledge/mp/E14001063"), 200)) as string;
    expect(page).toContain("has not signed the pledge yet");
    await expectStatus(await t.request("/pledge/mp/E14001063", form({})), 202);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]?.to.address).toBe("mp0@parliament.invalid");
    const token = tokenIn(t.sent[0], "/pledge/rep/verify");

    // Not on the wall until the link is used.
    expect(await expectStatus(await t.request("/api/pledges/wall"), 200)).toMatchObject({ total: 0 });
    await expectStatus(await t.request(`/pledge/rep/verify?token=${token}`), 200);
    expect(await expectStatus(await t.request("/pledge/rep/verify", form({ token })), 200)).toContain(
      "Thank you",
    );
    await expectStatus(await t.request("/pledge/rep/verify", form({ token })), 200);

    const wall = await expectStatus(await t.request("/api/pledges/wall"), 200);
    expect(wall).toMatchObject({
      total: 1,
      parties: [
        {
          party: "Labour",
          pledges: [{ kind: "mp", name: "MP Aldershot", constituency: { code: "E14001063" } }],
        },
      ],
    });
    const counter = await expectStatus(await t.request("/api/pledges/counter"), 200);
    expect(counter).toMatchObject({ representatives: { verified: 1 } });
  });

  it("doesn't resend the link within the hour", async () => {
    const t = pledgeTestApp();
    await t.request("/api/representatives/mp/E14001063/pledge-link", { method: "POST" });
    const again = await t.request("/api/representatives/mp/E14001063/pledge-link", { method: "POST" });
    expect(await expectStatus(again, 202)).toEqual({ status: "recently_sent" });
    expect(t.sent).toHaveLength(1);
  });

  it("shows the MP's pledge status in the lookup answer", async () => {
    const t = pledgeTestApp();
    const before = await expectStatus(await t.request("/api/lookup?postcode=GU11+1AA"), 200);
    expect(before).toMatchObject({ pledge: { mp: "not_pledged" } });
    await t.request("/api/representatives/mp/E14001063/pledge-link", { method: "POST" });
    await t.request("/api/pledges/confirm", json({ token: "x" })); // unrelated noise
    await t.request("/pledge/rep/verify", form({ token: tokenIn(t.sent[0], "/pledge/rep/verify") }));
    const after = await expectStatus(await t.request("/api/lookup?postcode=GU11+1AA"), 200);
    expect(after).toMatchObject({ pledge: { mp: "pledged" } });
  });

  it("answers an unknown representative with 404", async () => {
    const t = pledgeTestApp();
    expect(
      await expectStatus(await t.request("/api/representatives/mp/E99999999/pledge"), 404),
    ).toMatchObject({
      code: "representative_not_found",
    });
    await expectStatus(await t.request("/api/representatives/mp/nonsense/pledge"), 404);
  });
});
