/**
 * Every promise the privacy page makes, tested. The page is rendered and each `data-promise`
 * element parsed (with the numbers it states); every promise must have a check here and every
 * check a promise there, and each check uses the page's own numbers, so the page can't say
 * "28 days" while the service keeps things for 180.
 */
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/lib/tokens";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { sweepUnconfirmed } from "../../src/modules/letters/letters.service";
import { confirmPledge } from "../../src/modules/pledges/pledges.service";
import { processPrivacyRequests, runRetention, SCRUBBED } from "../../src/modules/privacy/privacy.service";
import {
  emailFor,
  type HostileApp,
  hostileApp,
  pledgeForm,
  privacyToken,
  signedIn,
} from "../hostile/support";
import { expectStatus, testApp } from "../support/deps";
import { letterInput } from "../support/letters";
import { POSTCODES_IO, postcodesIoFixture } from "../support/lookup-data";
import { useMsw } from "../support/msw";

const server = useMsw();
const DAY = 86_400_000;
const HOUR = 3_600_000;

/** The promises on the page as it is served with the default configuration. */
async function promisesOnPage(env: Record<string, string> = {}) {
  const t = testApp(env);
  const html = await (await t.request("/privacy")).text();
  const out = new Map<string, { text: string; n: number[] }>();
  for (const m of html.matchAll(/<(\w+)[^>]*data-promise="([^"]+)"[^>]*>([\s\S]*?)<\/\1>/g)) {
    const inner = m[3] ?? "";
    const n = [...inner.matchAll(/<span class="n">(\d+)<\/span>/g)].map((x) => Number(x[1]));
    out.set(m[2] as string, { text: inner.replace(/<[^>]+>/g, ""), n });
  }
  return out;
}

type Check = (p: { text: string; n: number[] }) => Promise<void>;

async function confirmedPledge(t: HostileApp, email: string, updates = false) {
  await expectStatus(
    await t.post("/api/pledges", {
      ...pledgeForm({ email }),
      ...(updates ? { updatesConsent: "updates-2026-11" } : {}),
    }),
    202,
  );
  const { id } = t.sqlite
    .prepare("select public_id id from supporter_pledges where email = ?")
    .get(email) as { id: string };
  await confirmPledge(t.deps, {
    token: await signToken(t.deps.config, {
      purpose: "pledge.confirm",
      subject: id,
      expiresAt: t.clock.now() + DAY,
    }),
  });
}

async function sentLetter(
  t: HostileApp,
  who: string,
  story = `A story of my own about ${who} and the health visitor we never saw.`,
) {
  const input = letterInput({ story });
  const { id } = await t.submit({
    ...input,
    supporter: { ...input.supporter, name: `Sam ${who}`, email: emailFor(who) },
  });
  await t.confirm(await t.confirmToken(id));
  await drainOutbox(t.deps);
  return id;
}

const row = (t: HostileApp, sql: string, ...args: unknown[]) =>
  t.sqlite.prepare(sql).get(...args) as Record<string, unknown>;
const mayEmail = async (lead: Awaited<ReturnType<typeof signedIn>>, email: string) =>
  ((await (await lead.get("/admin/export/pledges.csv")).text()) as string)
    .split("\n")
    .find((l) => l.includes(email))
    ?.split(",")
    .pop();

const CHECKS: Record<string, Check> = {
  controller: async (p) => {
    const t = testApp({
      PRIVACY_CONTROLLER: "Example Charity Ltd",
      PRIVACY_CONTACT_EMAIL: "dpo@example.org",
    });
    const html = await (await t.request("/privacy")).text();
    expect(html).toContain("Example Charity Ltd is the data controller");
    expect(html).toContain("mailto:dpo@example.org");
    expect(p.text).toContain("data controller");
  },

  "updates-only-if-ticked": async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    await confirmedPledge(t, emailFor("no-updates"));
    await confirmedPledge(t, emailFor("updates"), true);
    expect(await mayEmail(lead, emailFor("no-updates"))).toBe("no");
    expect(await mayEmail(lead, emailFor("updates"))).toBe("yes");
  },

  "similarity-data": async () => {
    const t = await hostileApp();
    // The campaign's wording alone is nobody's own words: nothing is kept for it.
    const plain = await sentLetter(t, "plain", "");
    expect(row(t, "select signature from letters where id = ?", plain)).toEqual({ signature: null });
    const own = await sentLetter(
      t,
      "own",
      "Our twins arrived at 29 weeks; the neonatal team in Leeds kept them alive, then the support simply stopped.",
    );
    expect(row(t, "select signature is not null s from letters where id = ?", own)).toEqual({ s: 1 });
    expect(row(t, "select count(*) n from letter_bands where letter_id = ?", own)).not.toEqual({ n: 0 });
    // Removed with the letter text (checked against the page's own days below).
    t.clock.advance(t.deps.config.RETENTION_DAYS * DAY + HOUR);
    await runRetention(t.deps);
    expect(row(t, "select signature from letters where id = ?", own)).toEqual({ signature: null });
    expect(row(t, "select count(*) n from letter_bands where letter_id = ?", own)).toEqual({ n: 0 });
  },

  "lookup-cache": async (p) => {
    const [hours] = p.n;
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.json(postcodesIoFixture("NW16LG.json"))),
    );
    const t = await hostileApp({ REMOTE_LOOKUP: "on" });
    await expectStatus(await t.request("/api/lookup?postcode=NW1+6LG"), 200);
    const cached = row(t, "select key, value, expires_at e from lookup_cache");
    expect(cached.e).toBe(t.clock.now() + (hours as number) * HOUR);
    // The answer, not who asked.
    expect(JSON.stringify(cached)).not.toMatch(/127\.0\.0\.1|user-agent|ip/i);
    t.clock.advance((hours as number) * HOUR - 1);
    await runRetention(t.deps);
    expect(row(t, "select count(*) n from lookup_cache")).toEqual({ n: 1 });
    t.clock.advance(2);
    await runRetention(t.deps);
    expect(row(t, "select count(*) n from lookup_cache")).toEqual({ n: 0 });
  },

  "never-logged": async () => {
    const t = await hostileApp();
    const story = "Zebrafish marmalade quantum story";
    const id = await sentLetter(t, "logged", story);
    await confirmedPledge(t, "pledger.logged@example.org");
    await t.form("/privacy/request", { email: "pledger.logged@example.org", kind: "export" });
    await processPrivacyRequests(t.deps);
    await t.post("/api/letters/resend-confirmation", { email: emailFor("logged") });
    await t.request("/api/lookup?postcode=SW1A+1AA");
    expect(id).toBeTruthy();
    const log = JSON.stringify(t.logger.lines);
    for (const secret of [
      emailFor("logged"),
      "pledger.logged",
      "SW1A 1AA",
      "SW1A+1AA",
      "ZZ9 9ZZ",
      "Zebrafish",
      "Sam logged",
    ])
      expect(log, secret).not.toContain(secret);
  },

  "pledge-unconfirmed-deleted": async (p) => {
    const [days] = p.n as [number];
    const t = await hostileApp();
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: emailFor("unconfirmed") })), 202);
    t.clock.advance(days * DAY - HOUR);
    await runRetention(t.deps);
    expect(row(t, "select count(*) n from supporter_pledges")).toEqual({ n: 1 });
    t.clock.advance(2 * HOUR);
    await runRetention(t.deps);
    expect(row(t, "select count(*) n from supporter_pledges")).toEqual({ n: 0 });
  },

  "letter-unconfirmed-expire": async (p) => {
    const [days] = p.n as [number];
    const t = await hostileApp();
    const input = letterInput();
    const { id } = await t.submit({
      ...input,
      supporter: { ...input.supporter, email: emailFor("unconfirmed") },
    });
    t.clock.advance(days * DAY - HOUR);
    await sweepUnconfirmed(t.deps);
    expect(row(t, "select status from letters where id = ?", id)).toEqual({
      status: "awaiting_confirmation",
    });
    t.clock.advance(2 * HOUR);
    await drainOutbox(t.deps);
    await runRetention(t.deps);
    expect(row(t, "select status, body, supporter_address a from letters where id = ?", id)).toEqual({
      status: "expired",
      body: SCRUBBED,
      a: SCRUBBED,
    });
    expect(t.captured().filter((m) => m.subject.includes("babies"))).toEqual([]);
  },

  "letter-text-removed": async (p) => {
    const [days] = p.n as [number];
    const t = await hostileApp();
    const id = await sentLetter(t, "text");
    const sentAt = row(t, "select sent_at s from letters where id = ?", id).s as number;
    // Written long before it went (held for a moderator, say): the clock starts when it is sent.
    t.clock.set(sentAt + days * DAY - HOUR);
    await runRetention(t.deps);
    expect(row(t, "select body <> ? kept from letters where id = ?", SCRUBBED, id)).toEqual({ kept: 1 });
    t.clock.advance(2 * HOUR);
    await runRetention(t.deps);
    expect(
      row(
        t,
        "select body, supporter_address a, supporter_postcode pc, signature s from letters where id = ?",
        id,
      ),
    ).toEqual({
      body: SCRUBBED,
      a: SCRUBBED,
      pc: SCRUBBED,
      s: null,
    });
    expect(row(t, "select body_text b from outbox where letter_id = ? and kind = 'letter'", id)).toEqual({
      b: SCRUBBED,
    });
    expect(
      row(t, "select count(*) n from captured_mail where text like '%health visitor we never saw%'"),
    ).toEqual({ n: 0 });
  },

  "names-emails-removed": async (p) => {
    const [days] = p.n as [number];
    const t = await hostileApp();
    const id = await sentLetter(t, "named");
    const sentAt = row(t, "select sent_at s from letters where id = ?", id).s as number;
    t.clock.set(sentAt + days * DAY - HOUR);
    await runRetention(t.deps);
    expect(row(t, "select supporter_name n from letters where id = ?", id)).toEqual({ n: "Sam named" });
    t.clock.advance(2 * HOUR);
    await runRetention(t.deps);
    const letter = row(
      t,
      "select supporter_name n, supporter_email e, supporter_email_key k from letters where id = ?",
      id,
    );
    expect(letter).toEqual({ n: SCRUBBED, e: "removed@anonymised.invalid", k: null });
    const everything = JSON.stringify([
      t.sqlite.prepare("select * from letters where id = ?").all(id),
      t.sqlite.prepare("select * from outbox where letter_id = ?").all(id),
      t.sqlite.prepare("select * from delivery_log").all(),
    ]);
    expect(everything).not.toContain(emailFor("named"));
    expect(everything).not.toContain("Sam named");
    // The letter itself still counts (status, seat, date stay).
    expect(row(t, "select status, constituency_code c from letters where id = ?", id)).toEqual({
      status: "sent",
      c: "Z00000001",
    });
  },

  "counts-kept": async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    await sentLetter(t, "counted");
    await confirmedPledge(t, emailFor("counted-pledge"));
    const cards = async () =>
      ((await (await lead.get("/admin")).text()) as string).match(/<strong>\d+<\/strong>/g);
    const before = [await cards(), await (await t.request("/api/pledges/counter")).text()];
    t.clock.advance(400 * DAY);
    await runRetention(t.deps);
    const lead2 = await signedIn(t);
    const after = [
      ((await (await lead2.get("/admin")).text()) as string).match(/<strong>\d+<\/strong>/g),
      await (await t.request("/api/pledges/counter")).text(),
    ];
    expect(after).toEqual(before);
  },

  "pledges-kept-until-erased": async () => {
    const t = await hostileApp();
    await confirmedPledge(t, emailFor("kept"));
    t.clock.advance(1000 * DAY);
    await runRetention(t.deps);
    expect(row(t, "select count(*) n from supporter_pledges")).toEqual({ n: 1 });
    await t.form("/privacy/erase", { token: await privacyToken(t, emailFor("kept"), "erase") });
    expect(row(t, "select count(*) n from supporter_pledges")).toEqual({ n: 0 });
  },

  "letter-to-representative": async () => {
    const t = await hostileApp();
    const id = await sentLetter(t, "to-mp");
    const mail = row(
      t,
      "select to_name, to_email, from_name, reply_to, reply_to_name from outbox where letter_id = ? and kind = 'letter'",
      id,
    );
    expect(mail).toEqual({
      to_name: "Test MP (letters come back to you)",
      to_email: "test-mp@speakup.invalid",
      from_name: "Sam to-mp via #SpeakUpForBabies",
      reply_to: emailFor("to-mp"),
      reply_to_name: "Sam to-mp",
    });
    const captured = t.captured().find((m) => m.subject.includes("babies"));
    expect(captured?.from_header).toContain("<campaign@speakup.invalid>");
  },

  "export-and-erase": async (p) => {
    const [hours] = p.n as [number];
    const t = await hostileApp();
    await confirmedPledge(t, emailFor("rights"));
    // Export: the link works until it expires.
    const exportToken = await privacyToken(t, emailFor("rights"), "export");
    t.clock.advance(hours * HOUR - 60_000);
    await expectStatus(await t.form("/privacy/export", { token: exportToken }), 200);
    const late = await privacyToken(t, emailFor("rights"), "export").catch(() => exportToken);
    t.clock.advance(hours * HOUR + 60_000);
    expect((await t.form("/privacy/export", { token: late })).status).toBe(410);
    // Erase: pledges deleted, a letter not yet sent is stopped, details and text removed.
    const input = letterInput({ story: "Queued but not yet sent." });
    const { id } = await t.submit({ ...input, supporter: { ...input.supporter, email: emailFor("rights") } });
    await t.confirm(await t.confirmToken(id));
    expect(row(t, "select status from letters where id = ?", id)).toEqual({ status: "confirmed" });
    await t.form("/privacy/erase", { token: await privacyToken(t, emailFor("rights"), "erase") });
    expect(row(t, "select status, body, supporter_name n from letters where id = ?", id)).toEqual({
      status: "cancelled",
      body: SCRUBBED,
      n: SCRUBBED,
    });
    expect(row(t, "select state from outbox where letter_id = ? and kind = 'letter'", id)).toEqual({
      state: "cancelled",
    });
    expect(row(t, "select count(*) n from supporter_pledges")).toEqual({ n: 0 });
    await drainOutbox(t.deps);
    expect(t.captured().filter((m) => m.text.includes("Queued but not yet sent"))).toEqual([]);
  },

  "same-answer": async (p) => {
    const [minutes] = p.n as [number];
    const t = await hostileApp({ PRIVACY_LIMIT_PER_EMAIL_DAY: "100" });
    await confirmedPledge(t, emailFor("held"));
    const a = await t.form("/privacy/request", { email: emailFor("held"), kind: "export" });
    const b = await t.form("/privacy/request", { email: emailFor("not-held"), kind: "export" });
    expect([a.status, b.status]).toEqual([202, 202]);
    expect(await a.text()).toBe(await b.text());
    const links = () => t.captured().filter((m) => m.subject.includes("download link")).length;
    for (let i = 0; i < 10; i++)
      await t.form("/privacy/request", { email: emailFor("held"), kind: "export" });
    await drainOutbox(t.deps);
    expect(links()).toBe(1);
    t.clock.advance(minutes * 60_000 - 60_000);
    await t.form("/privacy/request", { email: emailFor("held"), kind: "export" });
    await drainOutbox(t.deps);
    expect(links()).toBe(1);
    t.clock.advance(2 * 60_000);
    await t.form("/privacy/request", { email: emailFor("held"), kind: "export" });
    await drainOutbox(t.deps);
    expect(links()).toBe(2);
  },

  suppression: async () => {
    const t = await hostileApp({ ADMIN_SESSION_HOURS: "336" });
    const lead = await signedIn(t);
    await confirmedPledge(t, emailFor("suppressed"), true);
    await t.form("/privacy/erase", { token: await privacyToken(t, emailFor("suppressed"), "erase") });
    const kept = t.sqlite.prepare("select * from suppressions").all() as { email_hash: string }[];
    expect(kept).toHaveLength(1);
    expect(JSON.stringify(kept)).not.toContain("suppressed");
    expect(kept[0]?.email_hash).toMatch(/^[0-9a-f]{64}$/);
    t.clock.advance(DAY);
    await confirmedPledge(t, emailFor("suppressed"));
    expect(await mayEmail(lead, emailFor("suppressed"))).toBe("no");
  },
};

const promises = await promisesOnPage();

describe("the privacy page's promises", () => {
  it("every promise on the page has a check here, and every check a promise on the page", () => {
    expect([...promises.keys()].sort()).toEqual(Object.keys(CHECKS).sort());
    // The numbers on the page are the configuration's.
    const t = testApp();
    const c = t.deps.config;
    expect(promises.get("letter-text-removed")?.n).toEqual([c.RETENTION_DAYS]);
    expect(promises.get("names-emails-removed")?.n).toEqual([c.ANONYMISE_DAYS]);
    expect(promises.get("export-and-erase")?.n).toEqual([c.PRIVACY_LINK_HOURS]);
  });

  it("letter text is kept 28 days after sending by default, as WriteToThem does", () => {
    expect(promises.get("letter-text-removed")?.n).toEqual([28]);
  });

  it.each([...promises.keys()])("keeps its promise: %s", async (key) => {
    const check = CHECKS[key];
    expect(check, `no check for the promise "${key}"`).toBeDefined();
    await (check as Check)(promises.get(key) as { text: string; n: number[] });
  });
});
