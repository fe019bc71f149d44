import { describe, expect, it } from "vitest";
import { tallyLetters } from "../../src/modules/admin/admin.tallies";
import { runRetention, SCRUBBED } from "../../src/modules/privacy/privacy.service";
import { adminApp } from "../support/admin";
import { expectStatus } from "../support/deps";
import { form, insertLetter, json, pledgeTestApp, tokenIn } from "../support/pledges";

const ORIGIN = { origin: "http://localhost" };
const DAY = 86_400_000;

async function confirmedPledge(t: ReturnType<typeof pledgeTestApp>, email = "ada@example.org", extra = {}) {
  await t.request(
    "/api/pledges",
    json({ name: "Ada", email, postcode: "GU11 1AA", pledgeConsent: "pledge-2026-11", ...extra }),
  );
  const mail = t.sent[t.sent.length - 1];
  await t.request("/api/pledges/confirm", json({ token: tokenIn(mail, "/pledge/confirm") }));
}

describe("privacy notice", () => {
  it("is generated from the configuration", async () => {
    const t = pledgeTestApp({
      PRIVACY_CONTROLLER: "Example Charity Ltd",
      PRIVACY_CONTACT_EMAIL: "dpo@example.org",
      RETENTION_DAYS: "90",
      ANONYMISE_DAYS: "120",
    });
    const html = (await expectStatus(await t.request("/privacy"), 200)) as string;
    expect(html).toContain("Example Charity Ltd is the data controller");
    expect(html).toContain("mailto:dpo@example.org");
    expect(html).toMatch(/removed <span class="n">90<\/span> days after your letter is sent/);
  });
});

describe("export and erasure by email link", () => {
  it("answers the same for an unknown address and sends nothing", async () => {
    const t = pledgeTestApp();
    const res = await t.request("/privacy/request", form({ email: "nobody@x.org", kind: "export" }, ORIGIN));
    expect(await expectStatus(res, 202)).toContain("Check your email");
    expect(t.sent).toHaveLength(0);
  });

  it("refuses a request posted from another site", async () => {
    const t = pledgeTestApp();
    const res = await t.request(
      "/privacy/request",
      form({ email: "ada@example.org", kind: "erase" }, { origin: "https://evil.example" }),
    );
    expect(res.status).toBe(403);
  });

  it("exports one person's pledges and letters from the emailed link", async () => {
    const t = pledgeTestApp();
    await confirmedPledge(t, "ada@example.org", { updatesConsent: "updates-2026-11" });
    insertLetter(t.sqlite, { email: "ada@example.org" });
    insertLetter(t.sqlite, { email: "someone-else@example.org" });
    await t.request("/privacy/request", form({ email: "ADA@example.org", kind: "export" }, ORIGIN));
    const link = t.sent[t.sent.length - 1];
    // To the address as typed in the request (the same mailbox).
    expect(link?.to.address).toBe("ADA@example.org");
    const token = tokenIn(link, "/privacy/export");
    expect(link?.text).not.toContain("ada@example.org");
    await expectStatus(await t.request(`/privacy/export?token=${token}`), 200);
    const res = await t.request("/privacy/export", form({ token }, ORIGIN));
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const data = (await expectStatus(res, 200)) as { pledges: unknown[]; letters: { body: string }[] };
    expect(data.pledges).toHaveLength(1);
    expect(data.pledges[0]).toMatchObject({ updatesConsent: { version: "updates-2026-11" } });
    expect(data.letters).toHaveLength(1);
    expect(data.letters[0]?.body).toContain("my story");
  });

  it("an export link cannot be used to erase", async () => {
    const t = pledgeTestApp();
    await confirmedPledge(t);
    await t.request("/privacy/request", form({ email: "ada@example.org", kind: "export" }, ORIGIN));
    const token = tokenIn(t.sent[t.sent.length - 1], "/privacy/export");
    expect((await t.request("/privacy/erase", form({ token }, ORIGIN))).status).toBe(404);
  });

  it("erases pledges and letter details, keeps the counts, and suppresses the address", async () => {
    const t = await adminApp({ ADMIN_SESSION_HOURS: "336" });
    await confirmedPledge(t, "ada@example.org", { updatesConsent: "updates-2026-11" });
    await confirmedPledge(t, "bob@example.org");
    const letterId = insertLetter(t.sqlite, { email: "ada@example.org" });
    await tallyLetters(t.deps);
    const before = await expectStatus(await t.request("/api/pledges/counter"), 200);
    const dashBefore = (await expectStatus(await t.get("/admin"), 200)) as string;

    await t.request("/privacy/request", form({ email: "ada@example.org", kind: "erase" }, ORIGIN));
    const token = tokenIn(t.sent[t.sent.length - 1], "/privacy/erase");
    const page = (await expectStatus(await t.request(`/privacy/erase?token=${token}`), 200)) as string;
    expect(page).toContain('action="/privacy/erase"');
    expect(await expectStatus(await t.request("/privacy/erase", form({ token }, ORIGIN)), 200)).toContain(
      "Your data is erased",
    );

    expect(
      t.sqlite.prepare("select count(*) n from supporter_pledges where email_norm = 'ada@example.org'").get(),
    ).toEqual({ n: 0 });
    const letter = t.sqlite.prepare("select * from letters where id = ?").get(letterId) as Record<
      string,
      string
    >;
    expect(letter.body).toBe(SCRUBBED);
    expect(letter.supporter_address).toBe(SCRUBBED);
    expect(letter.supporter_email).not.toContain("ada");
    expect(letter.status).toBe("sent");
    expect(await expectStatus(await t.request("/api/pledges/counter"), 200)).toEqual(before);
    const dashAfter = (await expectStatus(await t.get("/admin"), 200)) as string;
    expect(dashAfter.match(/<strong>\d+<\/strong>/g)).toEqual(dashBefore.match(/<strong>\d+<\/strong>/g));
    expect(t.sqlite.prepare("select count(*) n from suppressions").get()).toEqual({ n: 1 });
    // Her service mail (confirm and erasure links) is gone from the outbox; Bob's stays.
    const serviceTo = (address: string) =>
      t.sqlite
        .prepare("select count(*) n from outbox where kind = 'service' and (to_email = ? or reflect_to = ?)")
        .get(address, address);
    expect(serviceTo("ada@example.org")).toEqual({ n: 0 });
    expect(t.sqlite.prepare("select count(*) n from outbox where kind = 'service'").get()).toEqual({ n: 1 });
    expect(serviceTo("bob@example.org")).toEqual({ n: 1 });
    // The link is spent.
    expect((await t.request("/privacy/erase", form({ token }, ORIGIN))).status).toBe(410);

    // Pledging again later without the updates box: the export says "may not email"; ticked anew
    // after the erasure, she may be emailed (tests/hostile/26-erased-signs-up-again).
    t.clock.advance(DAY);
    await confirmedPledge(t, "ada@example.org");
    const csv = (await expectStatus(await t.get("/admin/export/pledges.csv"), 200)) as string;
    const ada = csv.split("\n").find((l) => l.includes("ada@example.org"));
    expect(ada).toMatch(/,no$/);
    const bob = csv.split("\n").find((l) => l.includes("bob@example.org"));
    expect(bob).toMatch(/,no$/);
  });
});

describe("retention job", () => {
  it("removes unconfirmed pledges, scrubs old letters, and leaves every count unchanged", async () => {
    const t = await adminApp({
      RETENTION_DAYS: "30",
      PLEDGE_CONFIRM_TTL_DAYS: "7",
      REP_PLEDGE_LINK_DAYS: "7",
      ADMIN_SESSION_HOURS: "336",
    });
    await confirmedPledge(t, "a@x.org");
    await confirmedPledge(t, "b@x.org", { partner: "nct" });
    await t.request(
      "/api/pledges",
      json({ name: "U", email: "unconfirmed@x.org", postcode: "EH8 8AA", pledgeConsent: "pledge-2026-11" }),
    );
    const old = insertLetter(t.sqlite, { createdAt: t.clock.now() - 40 * DAY, status: "sent" });
    const recent = insertLetter(t.sqlite, { createdAt: t.clock.now() - 2 * DAY, status: "sent" });
    await tallyLetters(t.deps);
    const counter = await expectStatus(await t.request("/api/pledges/counter"), 200);
    const cards = (html: string) => html.match(/<strong>\d+<\/strong>/g);
    const dash = cards((await expectStatus(await t.get("/admin"), 200)) as string);
    const seats = await expectStatus(await t.get("/admin/constituencies"), 200);
    const csv = await expectStatus(await t.get("/admin/export/constituencies.csv"), 200);

    t.clock.advance(8 * DAY);
    // Service mail queued a moment before the run is kept: its link still works.
    await t.request("/api/representatives/mp/E14001063/pledge-link", { method: "POST" });
    const report = await runRetention(t.deps);
    expect(report).toMatchObject({ unconfirmedPledges: 1, lettersScrubbed: 1, serviceMailDeleted: 3 });
    // The three confirm emails (links expired) went, with their attempt log; the fresh one stays.
    expect(t.sqlite.prepare("select kind, state, to_email from outbox").all()).toEqual([
      { kind: "service", state: "sent", to_email: "mp0@parliament.invalid" },
    ]);
    expect(t.sqlite.prepare("select count(*) n from delivery_log").get()).toEqual({ n: 1 });

    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 2 });
    expect(
      (t.sqlite.prepare("select body from letters where id = ?").get(old) as { body: string }).body,
    ).toBe(SCRUBBED);
    expect(
      (t.sqlite.prepare("select body from letters where id = ?").get(recent) as { body: string }).body,
    ).not.toBe(SCRUBBED);
    expect(await expectStatus(await t.request("/api/pledges/counter"), 200)).toEqual(counter);
    expect(await expectStatus(await t.get("/admin/export/constituencies.csv"), 200)).toEqual(csv);
    expect(cards((await expectStatus(await t.get("/admin"), 200)) as string)).toEqual(dash);
    expect(await expectStatus(await t.get("/admin/constituencies"), 200)).toEqual(seats);
    // A second run has nothing left to do.
    expect(await runRetention(t.deps)).toMatchObject({
      unconfirmedPledges: 0,
      lettersScrubbed: 0,
      serviceMailDeleted: 0,
    });
  });
});

describe("replies and stories shared with the office", () => {
  /** Ada's letter with a pasted reply and a story she shared with the office. */
  function withReply(t: ReturnType<typeof pledgeTestApp>, createdAt?: number) {
    const id = insertLetter(t.sqlite, { email: "ada@example.org", createdAt });
    t.sqlite
      .prepare(
        "update letters set reply_answer = 'yes', story_share_consent_version = 'story-share-2026-11', story_share_consent_at = 1, shared_story = 'my own words' where id = ?",
      )
      .run(id);
    t.sqlite
      .prepare(
        `insert into letter_replies (letter_id, reply_text, stances, created_at, updated_at) values (?, 'Dear Ada, I agree.', '{"prevention":"supports"}', 1, 1)`,
      )
      .run(id);
    return id;
  }

  it("are in the export, and erasure removes the texts but keeps the stances", async () => {
    const t = pledgeTestApp();
    const id = withReply(t);
    await t.request("/privacy/request", form({ email: "ada@example.org", kind: "export" }, ORIGIN));
    const exported = (await expectStatus(
      await t.request("/privacy/export", form({ token: tokenIn(t.sent.at(-1), "/privacy/export") }, ORIGIN)),
      200,
    )) as { letters: Record<string, unknown>[] };
    expect(exported.letters[0]).toMatchObject({
      storyShareConsent: { version: "story-share-2026-11", story: "my own words" },
      reply: { text: "Dear Ada, I agree.", stances: { prevention: "supports" } },
    });
    await t.request("/privacy/request", form({ email: "ada@example.org", kind: "erase" }, ORIGIN));
    await expectStatus(
      await t.request("/privacy/erase", form({ token: tokenIn(t.sent.at(-1), "/privacy/erase") }, ORIGIN)),
      200,
    );
    expect(t.sqlite.prepare("select shared_story s from letters where id = ?").get(id)).toEqual({ s: null });
    expect(t.sqlite.prepare("select reply_text t, stances s from letter_replies").get()).toEqual({
      t: null,
      s: '{"prevention":"supports"}',
    });
  });

  it("are scrubbed with the letter after the retention period", async () => {
    const t = pledgeTestApp({ RETENTION_DAYS: "30" });
    const old = withReply(t, t.clock.now() - 31 * DAY);
    await runRetention(t.deps);
    expect(t.sqlite.prepare("select shared_story s from letters where id = ?").get(old)).toEqual({ s: null });
    expect(t.sqlite.prepare("select reply_text t from letter_replies").get()).toEqual({ t: null });
  });
});
