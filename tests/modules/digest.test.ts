/**
 * Digests for representatives' offices: off by default; when the campaign turns them on, one per
 * office per period with the letters' count, asks, stories shared by consent and the pledge link,
 * through the outbox and never to a real office outside MAIL_MODE=live; a one-click opt-out that
 * link scanners can't trigger.
 */
import { describe, expect, it } from "vitest";
import type { MailMessage } from "../../src/deps";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { lastPeriod, runDigests } from "../../src/modules/digest/digest.service";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus } from "../support/deps";
import { form, pledgeTestApp } from "../support/pledges";

const DAY = 86_400_000;
// T0 (tests/support/deps.ts) is Monday 23 November 2026; the week before is 16-22 November.
const LAST_WEEK = Date.parse("2026-11-18T12:00:00Z");

type T = ReturnType<typeof pledgeTestApp>;
let seq = 0;

/** A letter confirmed at `at` to an MP of the test data (SEATS), optionally with a shared story. */
function letter(
  t: T,
  o: { code: string; personId: number; name: string; at?: number; asks?: string[]; story?: string },
) {
  const id = `d-${++seq}`;
  const at = o.at ?? LAST_WEEK;
  t.sqlite
    .prepare(
      `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id, recipient_name,
        status, asks, subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode,
        idempotency_key, created_at, confirmed_at, sent_at, story_share_consent_version, story_share_consent_at,
        shared_story)
       values (?, 'manifesto-for-babies', ?, 'mp', ?, ?, 'sent', ?, 's', 'Dear MP, a letter body with my address',
        'Private Person', ?, '9 Secret Lane\nTown', 'GU11 1AA', ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      id,
      o.code,
      o.personId,
      o.name,
      JSON.stringify(o.asks ?? ["prevention"]),
      `p${seq}@example.org`,
      `k${seq}`,
      at,
      at,
      at,
      o.story ? "story-share-2026-11" : null,
      o.story ? at : null,
      o.story ?? null,
    );
  return id;
}

const ALDERSHOT = { code: "E14001063", personId: 4000, name: "MP Aldershot" };
const EDINBURGH = { code: "S14000021", personId: 4001, name: "MP Edinburgh East" };

function digestApp(env: Record<string, string> = {}) {
  const t = pledgeTestApp(env);
  t.deps.config = {
    ...t.deps.config,
    campaign: { ...t.deps.config.campaign, digest: { enabled: true, everyDays: 7, stories: 2 } },
  };
  return t;
}

/** What a transport received (for reflect/live tests), counting copies. */
function recordingMailer(t: T) {
  const got: MailMessage[] = [];
  t.deps.mailer = {
    async send(m) {
      got.push(m);
      return { messageId: m.messageId };
    },
  };
  return got;
}

describe("office digests", () => {
  it("are off unless the campaign file turns them on", async () => {
    const t = pledgeTestApp();
    expect(t.deps.config.campaign.digest.enabled).toBe(false);
    letter(t, ALDERSHOT);
    expect(await runDigests(t.deps)).toMatchObject({ enabled: false, queued: 0 });
    expect(t.sqlite.prepare("select count(*) n from outbox").get()).toEqual({ n: 0 });
  });

  it("summarise last week's letters per office: count, asks, stories shared by consent only, pledge and opt-out links; once per week", async () => {
    const t = digestApp();
    letter(t, {
      ...ALDERSHOT,
      asks: ["prevention", "workforce"],
      story: "Our health visitor caught my son's hip problem early.",
    });
    letter(t, { ...ALDERSHOT, asks: ["prevention"] });
    letter(t, { ...ALDERSHOT, asks: ["strategy"], story: "We waited months for any help." });
    letter(t, { ...ALDERSHOT, story: "Too old to count.", at: LAST_WEEK - 7 * DAY });
    letter(t, { ...EDINBURGH });
    expect(lastPeriod(t.clock.now(), 7).start).toBe("2026-11-16");
    expect(await runDigests(t.deps)).toMatchObject({ enabled: true, period: "2026-11-16", queued: 2 });
    expect(await runDigests(t.deps)).toMatchObject({ queued: 0 });
    await Promise.all([runDigests(t.deps), runDigests(t.deps)]);
    const rows = t.sqlite
      .prepare(
        "select to_email, subject, body_text, reflect_to, always_reflect from outbox order by to_email",
      )
      .all() as {
      to_email: string;
      subject: string;
      body_text: string;
      reflect_to: string;
      always_reflect: number;
    }[];
    expect(rows.map((r) => r.to_email)).toEqual(["mp0@parliament.invalid", "mp1@parliament.invalid"]);
    const aldershot = rows[0] as (typeof rows)[number];
    expect(aldershot.subject).toBe("3 constituents wrote to you about the Manifesto for Babies");
    expect(aldershot.reflect_to).toBe("campaign@speakup.invalid");
    const text = aldershot.body_text;
    expect(text).toContain("Dear MP Aldershot,");
    expect(text).toMatch(/Between 16 November 2026 and 22 November 2026, 3 of your constituents/);
    expect(text).toContain("That makes 4 letters since the campaign began");
    expect(text).toContain("- Put money into prevention: 2 letters");
    expect(text).toContain("- A joined-up national plan for babies: 1 letter");
    expect(text).toContain('"Our health visitor caught my son\'s hip problem early."');
    expect(text).toContain('"We waited months for any help."');
    expect(text).not.toContain("Too old to count");
    // Never a writer's name, address or email.
    expect(text).not.toMatch(/Private Person|Secret Lane|example\.org/);
    expect(text).toMatch(/\/pledge\/rep\/verify\?token=/);
    expect(text).toMatch(/\/digest\/opt-out\?token=/);
    expect(rows[1]?.subject).toBe("1 constituent wrote to you about the Manifesto for Babies");
    expect(rows[1]?.body_text).toContain("one of your constituents wrote");
  });

  it("go through the outbox, and in reflect mode to the campaign's own address, never the office's", async () => {
    const t = digestApp({
      MAIL_MODE: "reflect",
      SMTP_URL: "smtp://127.0.0.1:2525",
      MAIL_FROM: "team@example.org",
    });
    const got = recordingMailer(t);
    letter(t, ALDERSHOT);
    await runDigests(t.deps);
    await drainOutbox(t.deps);
    expect(got.map((m) => m.to.address)).toEqual(["team@example.org"]);
  });

  it("for the test seat's MP come back to the campaign even in live mode", async () => {
    const t = digestApp({
      MAIL_MODE: "live",
      SMTP_URL: "smtp://127.0.0.1:2525",
      MAIL_FROM: "team@example.org",
    });
    await ensureTestSeat(t.deps);
    const got = recordingMailer(t);
    letter(t, { code: "Z00000001", personId: -1, name: "Test MP (letters come back to you)" });
    await runDigests(t.deps);
    await drainOutbox(t.deps);
    expect(got.map((m) => m.to.address)).toEqual(["team@example.org"]);
  });

  it("stop for an office that opts out with one click, which a link scanner can't do for it", async () => {
    const t = digestApp();
    letter(t, ALDERSHOT);
    letter(t, EDINBURGH);
    await runDigests(t.deps);
    const body = (
      t.sqlite.prepare("select body_text b from outbox where to_email = 'mp0@parliament.invalid'").get() as {
        b: string;
      }
    ).b;
    const token = /opt-out\?token=([A-Za-z0-9_.-]+)/.exec(body)?.[1] ?? "";
    // A scanner (GET, HEAD) changes nothing.
    const page = (await expectStatus(await t.request(`/digest/opt-out?token=${token}`), 200)) as string;
    expect(page).toContain('<form method="post" action="/digest/opt-out">');
    await t.request(`/digest/opt-out?token=${token}`, { method: "HEAD" });
    expect(t.sqlite.prepare("select count(*) n from digest_opt_outs").get()).toEqual({ n: 0 });
    expect(await expectStatus(await t.request("/digest/opt-out", form({ token })), 200)).toContain(
      "You will get no more summaries",
    );
    await expectStatus(await t.request("/digest/opt-out", form({ token })), 200);
    expect(
      t.sqlite.prepare("select recipient_kind k, person_id p, opted_out_at at from digest_opt_outs").all(),
    ).toEqual([{ k: "mp", p: 4000, at: t.clock.now() }]);
    // Next week: Edinburgh's office still gets one, Aldershot's doesn't.
    t.clock.advance(7 * DAY);
    letter(t, { ...ALDERSHOT, at: t.clock.now() - 3 * DAY });
    letter(t, { ...EDINBURGH, at: t.clock.now() - 3 * DAY });
    expect(await runDigests(t.deps)).toMatchObject({ queued: 1 });
    expect(t.sqlite.prepare("select to_email e from outbox where created_at = ?").all(t.clock.now())).toEqual(
      [{ e: "mp1@parliament.invalid" }],
    );
    // A forged or altered token is refused (404, like every altered link).
    await expectStatus(await t.request("/digest/opt-out", form({ token: `${token.slice(0, -2)}xx` })), 404);
  });

  it("carry a pledge link the MP signs with, and thank them once they have", async () => {
    const t = digestApp();
    letter(t, ALDERSHOT);
    await runDigests(t.deps);
    const body = (t.sqlite.prepare("select body_text b from outbox").get() as { b: string }).b;
    const token = decodeURIComponent(/pledge\/rep\/verify\?token=([^\s]+)/.exec(body)?.[1] ?? "");
    await expectStatus(await t.request("/pledge/rep/verify", form({ token })), 200);
    expect(t.sqlite.prepare("select status, verified_by v from rep_pledges").get()).toEqual({
      status: "verified",
      v: "link",
    });
    t.clock.advance(7 * DAY);
    letter(t, { ...ALDERSHOT, at: t.clock.now() - DAY });
    await runDigests(t.deps);
    const next = t.sqlite
      .prepare("select body_text b from outbox order by created_at desc limit 1")
      .get() as { b: string };
    expect(next.b).toContain("Thank you for signing the #SpeakUpForBabies pledge.");
    expect(next.b).not.toContain("/pledge/rep/verify");
  });
});

describe("sharing a story with the office", () => {
  const fields = (over: Record<string, string> = {}) => ({
    postcode: "ZZ9 9ZZ",
    to: "mp",
    asks: "prevention",
    story: "Our health visitor noticed what we had missed.",
    subject: "Please speak up for babies",
    body: "Dear Test MP,\n\nPlease back the Manifesto for Babies.",
    recipientName: "Test MP",
    name: "Jane Doe",
    email: "jane@example.org",
    line1: "1 Test Street",
    town: "Testtown",
    agree: "yes",
    ...over,
  });

  it("is a separate box, unticked, and keeps only the story and the consent when ticked", async () => {
    const t = pledgeTestApp({ LETTER_LIMIT_PER_EMAIL_DAY: "50" });
    await ensureTestSeat(t.deps);
    const details = (await expectStatus(
      await t.request("/write/details", form({ ...fields(), name: "", email: "", agree: "" })),
      200,
    )) as string;
    expect(details).toMatch(
      /<input id="shareStory" name="shareStory" type="checkbox" value="yes" aria-describedby/,
    );
    expect(details).not.toMatch(/id="shareStory"[^>]*checked/);
    await expectStatus(await t.request("/write/send", form(fields({ idem: "share-story-0001" }))), 200);
    await expectStatus(
      await t.request(
        "/write/send",
        form(fields({ idem: "share-story-0002", email: "bo@example.org", shareStory: "yes" })),
      ),
      200,
    );
    expect(
      t.sqlite
        .prepare(
          "select supporter_email e, story_share_consent_version v, shared_story s from letters order by e",
        )
        .all(),
    ).toEqual([
      { e: "bo@example.org", v: "story-share-2026-11", s: "Our health visitor noticed what we had missed." },
      { e: "jane@example.org", v: null, s: null },
    ]);
  });
});
