import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { capturedMail, letters, outbox } from "../../src/db/schema.letters";
import { parseEnv } from "../../src/env";
import { signToken } from "../../src/lib/tokens";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { parseCampaign } from "../../src/modules/letters/letters.campaign";
import { expectStatus, LOOPBACK, PEER } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";

const DAY = 24 * 60 * 60 * 1000;

describe("campaign content", () => {
  it("rejects a campaign file with a bad field, naming the field", () => {
    expect(() => parseCampaign({ id: "x1", name: "n", asks: [] }, "bad.json")).toThrow(/hashtag|asks/);
    try {
      parseCampaign({
        id: "manifesto",
        name: "M",
        organisation: "O",
        hashtag: "#Ok",
        defaultSubject: { mp: "a", candidate: "b" },
        asks: [{ id: "a1", title: "", summary: "s", points: ["p"] }],
      });
      expect.unreachable();
    } catch (e) {
      expect(String(e)).toContain("asks.0.title");
    }
  });

  it("rejects an ask that doesn't say who can act in every nation, or names a parliament of another nation", () => {
    const ask = {
      id: "a1",
      title: "t",
      summary: "s",
      points: ["p"],
      competence: {
        England: ["uk_parliament"],
        Scotland: ["scottish_parliament"],
        Wales: ["senedd"],
        "Northern Ireland": ["ni_assembly"],
      },
    };
    const campaign = (asks: unknown[]) => ({
      id: "manifesto",
      name: "M",
      organisation: "O",
      hashtag: "#Ok",
      defaultSubject: { mp: "a", candidate: "b" },
      asks,
    });
    expect(parseCampaign(campaign([ask])).asks[0]?.competence.Scotland).toEqual(["scottish_parliament"]);
    expect(() => parseCampaign(campaign([{ ...ask, competence: { ...ask.competence, Wales: [] } }]))).toThrow(
      /asks\.0\.competence\.Wales: name at least one parliament/,
    );
    expect(() =>
      parseCampaign(campaign([{ ...ask, competence: { ...ask.competence, England: ["senedd"] } }])),
    ).toThrow(/asks\.0\.competence\.England/);
    expect(() => parseCampaign(campaign([{ ...ask, competence: { England: ["uk_parliament"] } }]))).toThrow(
      /asks\.0\.competence\.Scotland/,
    );
  });

  it("says who can act on each of the shipped campaign's asks in all four nations", () => {
    const c = parseEnv({}).campaign;
    for (const a of c.asks) {
      expect(a.competence.England, a.id).toEqual(["uk_parliament"]);
      expect(a.competence.Scotland.length, a.id).toBeGreaterThan(0);
    }
    // Health visiting and the NHS are devolved: prevention goes to the devolved parliaments.
    const prevention = c.asks.find((a) => a.id === "prevention");
    expect(prevention?.competence).toMatchObject({
      Scotland: ["scottish_parliament"],
      Wales: ["senedd"],
      "Northern Ireland": ["ni_assembly"],
    });
  });
});

describe("mail configuration", () => {
  it("refuses to start in reflect or live mode without SMTP_URL, and live mode with the dev token secret", () => {
    expect(parseEnv({}).MAIL_MODE).toBe("capture");
    expect(() => parseEnv({ MAIL_MODE: "reflect" })).toThrow(/SMTP_URL.*required when MAIL_MODE=reflect/);
    expect(() =>
      parseEnv({ MAIL_MODE: "live", SMTP_URL: "smtp://127.0.0.1:25", MAIL_FROM: "c@example.org" }),
    ).toThrow(/TOKEN_SECRET: set a real secret/);
    expect(
      parseEnv({
        MAIL_MODE: "live",
        SMTP_URL: "smtp://127.0.0.1:25",
        MAIL_FROM: "c@example.org",
        TOKEN_SECRET: "a-long-and-real-secret",
      }).MAIL_MODE,
    ).toBe("live");
  });
});

describe("preview", () => {
  it("renders a letter to the MP with the chosen asks, the story and a full-address sign-off", async () => {
    const t = await lettersApp();
    const body = (await expectStatus(await t.post("/api/letters/preview", letterInput()), 200)) as Record<
      string,
      string
    >;
    expect(body.subject).toContain("Test Constituency");
    expect(body.draft).toMatch(/^Dear Test MP/);
    expect(body.draft).toContain("Put money into prevention");
    expect(body.draft).toContain("Enough trained people");
    expect(body.draft).not.toContain("A fair start for every baby");
    expect(body.draft).toContain("our health visitor was a lifeline");
    expect(body.text?.endsWith("Jane Doe\n1 Test Street\nTesttown\nZZ9 9ZZ")).toBe(true);
  });

  it("shows template syntax and HTML typed by the supporter literally", async () => {
    const t = await lettersApp();
    const story = "{{supporter.email}} {{#each asks}}x{{/each}} <script>alert(1)</script> & O'Brien";
    const body = (await expectStatus(
      await t.post("/api/letters/preview", letterInput({ story })),
      200,
    )) as Record<string, string>;
    expect(body.draft).toContain(story);
  });

  it("refuses an unknown ask with validation_failed", async () => {
    const t = await lettersApp();
    const res = await t.post("/api/letters/preview", letterInput({ asks: ["nope"] }));
    expect(await expectStatus(res, 400)).toMatchObject({ code: "validation_failed" });
  });
});

describe("submit", () => {
  it("stores the letter awaiting confirmation and queues a confirmation email, nothing to the MP", async () => {
    const t = await lettersApp();
    const letter = await t.submit();
    expect(letter.status).toBe("awaiting_confirmation");
    await drainOutbox(t.deps);
    const mail = await t.deps.db.select().from(capturedMail);
    expect(mail).toHaveLength(1);
    expect(mail[0]?.toHeader).toBe('"Jane Doe" <jane@example.org>');
    expect(mail[0]?.text).toContain("/letters/confirm?token=");
  });

  it("makes one letter from a double submit with the same Idempotency-Key", async () => {
    const t = await lettersApp();
    const headers = { "idempotency-key": "submit-abc-123" };
    const first = await t.submit(letterInput(), headers);
    const again = await t.post("/api/letters", letterInput(), headers);
    expect(await expectStatus(again, 200)).toMatchObject({ id: first.id });
    expect(await t.deps.db.select().from(letters)).toHaveLength(1);
    expect((await t.deps.db.select().from(outbox)).filter((r) => r.kind === "letter")).toHaveLength(1);
  });

  it("makes one letter from an identical resubmit without a key", async () => {
    const t = await lettersApp();
    const first = await t.submit();
    const again = await t.post("/api/letters", letterInput());
    expect(await expectStatus(again, 200)).toMatchObject({ id: first.id });
  });

  it("refuses CR/LF in the name and the email (no header injection)", async () => {
    const t = await lettersApp();
    for (const supporter of [
      { ...letterInput().supporter, name: "Jane\r\nBcc: victim@example.org" },
      { ...letterInput().supporter, email: "jane@example.org\r\nBcc: victim@example.org" },
      { ...letterInput().supporter, name: "Jane\nDoe" },
    ]) {
      const res = await t.post("/api/letters", letterInput({ supporter }));
      expect(await expectStatus(res, 400)).toMatchObject({ code: "validation_failed" });
    }
    const res = await t.post("/api/letters", letterInput({ subject: "Hi\r\nBcc: x@example.org" }));
    expect(await expectStatus(res, 400)).toMatchObject({ code: "validation_failed" });
  });

  it("answers 413 before parsing an oversized body", async () => {
    const t = await lettersApp();
    const res = await t.post("/api/letters", letterInput({ story: "x".repeat(400_000) }));
    expect(await expectStatus(res, 413)).toMatchObject({ code: "payload_too_large" });
  });

  it("answers 413 to an oversized chunked body without a Content-Length", async () => {
    const t = await lettersApp();
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 30) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await t.request("/api/letters", {
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(await expectStatus(res, 413)).toMatchObject({ code: "payload_too_large" });
    expect(sent).toBeLessThan(30);
  });

  it("one letter per person per MP in the window: a second submit looks exactly like a first, and only its confirmation says no", async () => {
    const t = await lettersApp();
    const first = await t.submit();
    await t.confirm(await t.confirmToken(first.id));
    // Anyone can type this address: the answer must not reveal that it wrote to this MP.
    const again = letterInput({ story: "A different letter this time, entirely." });
    const res = await t.post("/api/letters", again);
    const second = (await expectStatus(res, 201)) as { id: string; status: string };
    expect(second.status).toBe("awaiting_confirmation");
    const stranger = (await expectStatus(
      await t.post(
        "/api/letters",
        letterInput({
          story: "Someone else's words here.",
          supporter: { ...letterInput().supporter, email: "nobody@example.org" },
        }),
      ),
      201,
    )) as Record<string, unknown>;
    expect(Object.keys(second).sort()).toEqual(Object.keys(stranger).sort());
    // Only the address's owner, following the emailed link, learns why it can't go.
    const refused = await t.confirm(await t.confirmToken(second.id));
    const problem = (await expectStatus(refused, 409)) as { code: string; detail: string };
    expect(problem.code).toBe("already_written");
    expect(problem.detail).toMatch(/you can write again from/i);
    await drainOutbox(t.deps);
    const toMp = (await t.deps.db.select().from(capturedMail)).filter((m) => m.subject.includes("babies"));
    expect(toMp).toHaveLength(1);
    t.clock.advance(31 * DAY);
    const later = await t.submit(letterInput({ story: "A month on, writing again about the same asks." }));
    expect(await expectStatus(await t.confirm(await t.confirmToken(later.id)), 200)).toMatchObject({
      status: "confirmed",
    });
  });

  it("writing again before confirming: the letter confirmed first is sent and replaces the other", async () => {
    const t = await lettersApp();
    const a = await t.submit();
    const b = await t.submit(letterInput({ story: "On second thoughts, here is a better letter." }));
    await expectStatus(await t.confirm(await t.confirmToken(b.id)), 200);
    const status = async (id: string) =>
      ((await expectStatus(await t.request(`/api/letters/${id}`), 200)) as { status: string }).status;
    expect(await status(b.id)).toBe("confirmed");
    expect(await status(a.id)).toBe("cancelled");
    expect(await expectStatus(await t.confirm(await t.confirmToken(a.id)), 409)).toMatchObject({
      code: "letter_not_confirmable",
    });
    await drainOutbox(t.deps);
    const toMp = (await t.deps.db.select().from(capturedMail)).filter((m) => m.subject.includes("babies"));
    expect(toMp.map((m) => m.text.includes("better letter"))).toEqual([true]);
  });

  it("sends the confirmation link again on request, after a short pause, saying the same whatever is held", async () => {
    const t = await lettersApp();
    const { id } = await t.submit();
    const ask = (email: string) => t.post("/api/letters/resend-confirmation", { email });
    expect(await expectStatus(await ask("jane@example.org"), 202)).toEqual({ status: "check_email" });
    expect(await expectStatus(await ask("nobody@example.org"), 202)).toEqual({ status: "check_email" });
    const confirms = async () =>
      (await t.deps.db.select().from(outbox).where(eq(outbox.letterId, id))).filter(
        (r) => r.kind === "confirm",
      );
    expect(await confirms()).toHaveLength(1); // too soon after the first
    t.clock.advance(3 * 60_000);
    await Promise.all([ask("Jane@Example.org"), ask("jane@example.org")]);
    expect(await confirms()).toHaveLength(2);
    // The new link works.
    await drainOutbox(t.deps);
    const latest = (await t.deps.db.select().from(capturedMail))
      .filter((m) => m.subject.startsWith("Please confirm"))
      .at(-1);
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(latest?.text ?? "")?.[1] ?? "";
    expect(await expectStatus(await t.confirm(token), 200)).toMatchObject({ status: "confirmed" });
  });

  it("caps letters per MP per day", async () => {
    const t = await lettersApp({ LETTER_RECIPIENT_DAILY_CAP: "2" });
    await t.submit(letterInput({ supporter: { ...letterInput().supporter, email: "a@example.org" } }));
    await t.submit(letterInput({ supporter: { ...letterInput().supporter, email: "b@example.org" } }));
    const res = await t.post(
      "/api/letters",
      letterInput({ supporter: { ...letterInput().supporter, email: "c@example.org" } }),
    );
    expect(await expectStatus(res, 429)).toMatchObject({ code: "recipient_daily_cap" });
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  });

  it("limits submits per email address", async () => {
    const t = await lettersApp({ LETTER_LIMIT_PER_EMAIL_DAY: "1", LETTER_SAME_RECIPIENT_DAYS: "0" });
    await t.submit();
    const res = await t.post("/api/letters", letterInput({ story: "Another one, with other words in it." }));
    expect(await expectStatus(res, 429)).toMatchObject({ code: "rate_limited" });
  });

  it("limits submits per client address", async () => {
    const t = await lettersApp({ LETTER_LIMIT_PER_IP_HOUR: "1" });
    const env = PEER("192.0.2.7");
    const req = (email: string) =>
      t.app.request(
        "/api/letters",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(letterInput({ supporter: { ...letterInput().supporter, email } })),
        },
        env,
      );
    await expectStatus(await req("a@example.org"), 201);
    expect(await expectStatus(await req("b@example.org"), 429)).toMatchObject({ code: "rate_limited" });
  });
});

describe("confirm", () => {
  it("one confirmation confirms both the letter and the pledge ticked with it (one email, one click)", async () => {
    const t = await lettersApp();
    const { id } = await t.submit(
      letterInput({ pledge: { pledgeConsent: "pledge-2026-11", updatesConsent: "updates-2026-11" } }),
    );
    const pledgeRow = () =>
      t.sqlite
        .prepare("select status, counted, letter_id, updates_consent_version u from supporter_pledges")
        .get();
    expect(pledgeRow()).toEqual({ status: "unconfirmed", counted: 0, letter_id: id, u: "updates-2026-11" });
    // Only the letter's confirmation email: no separate pledge email.
    expect((await t.deps.db.select().from(outbox)).map((r) => r.kind).sort()).toEqual(["confirm", "letter"]);
    const token = await t.confirmToken(id);
    await expectStatus(await t.confirm(token), 200);
    await expectStatus(await t.confirm(token), 200);
    expect(pledgeRow()).toEqual({ status: "confirmed", counted: 1, letter_id: id, u: "updates-2026-11" });
    // Confirmed and marked counted, but the test seat is in no figure (admin.counts.ts).
    expect(t.sqlite.prepare("select count(*) n from pledge_tallies").get()).toEqual({ n: 0 });
  });

  it("the letter form's pledge box says the same link confirms the pledge, and sends no second email", async () => {
    const t = await lettersApp();
    const form = new URLSearchParams({
      postcode: "ZZ9 9ZZ",
      to: "mp",
      asks: "prevention",
      subject: "Please speak up for babies",
      body: "Dear Test MP,\n\nPlease back the Manifesto for Babies.",
      idem: "journey-pledge-key-1",
      recipientName: "Test MP",
      name: "Jane Doe",
      email: "jane@example.org",
      line1: "1 Test Street",
      town: "Testtown",
      agree: "yes",
      pledge: "yes",
    });
    const res = await t.request("/write/send", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    const html = (await expectStatus(res, 200)) as string;
    expect(html).toContain("The same link confirms your pledge");
    expect(html).toContain('data-submitted="letter"');
    expect(html).toContain('action="/write/resend"');
    expect((await t.deps.db.select().from(outbox)).filter((r) => r.kind === "service")).toEqual([]);
    expect(t.sqlite.prepare("select status from supporter_pledges").get()).toEqual({ status: "unconfirmed" });
  });

  it("GET shows a page with a button and changes nothing; POST queues the letter", async () => {
    const t = await lettersApp();
    const { id } = await t.submit();
    const token = await t.confirmToken(id);
    const page = await t.request(`/letters/confirm?token=${token}`, { headers: { accept: "text/html" } });
    const html = (await expectStatus(page, 200)) as string;
    expect(html).toContain('<form method="post" action="/letters/confirm">');
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");
    expect((await t.deps.db.select().from(letters))[0]?.status).toBe("awaiting_confirmation");

    const form = await t.request("/letters/confirm", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(await expectStatus(form, 200)).toContain("on its way");
    const [row] = await t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
    expect(row?.state).toBe("queued");
  });

  it("is idempotent: a replayed confirm reports alreadyConfirmed and queues one letter", async () => {
    const t = await lettersApp();
    const { id } = await t.submit();
    const token = await t.confirmToken(id);
    expect(await expectStatus(await t.confirm(token), 200)).toMatchObject({
      status: "confirmed",
      alreadyConfirmed: false,
    });
    expect(await expectStatus(await t.confirm(token), 200)).toMatchObject({
      status: "confirmed",
      alreadyConfirmed: true,
    });
    await drainOutbox(t.deps);
    const toMp = (await t.deps.db.select().from(capturedMail)).filter((m) => m.subject.includes("babies"));
    expect(toMp).toHaveLength(1);
  });

  it("rejects a tampered token with 404 (as if it never existed) and a truncated one with 400", async () => {
    const t = await lettersApp();
    const { id } = await t.submit();
    const token = await t.confirmToken(id);
    const [kid, payload, mac] = token.split(".") as [string, string, string];
    const forged = `${kid}.${payload.slice(0, -2)}${payload.endsWith("A") ? "B" : "A"}${payload.slice(-1)}.${mac}`;
    expect(await expectStatus(await t.confirm(forged), 404)).toMatchObject({ code: "token_invalid" });
    expect(await expectStatus(await t.confirm(token.slice(0, 20)), 400)).toMatchObject({
      code: "token_malformed",
    });
  });

  it("rejects a token minted for another purpose with 404", async () => {
    const t = await lettersApp();
    const { id } = await t.submit();
    const other = await signToken(t.deps.config, {
      purpose: "letter.followup",
      subject: id,
      expiresAt: t.clock.now() + DAY,
    });
    expect(await expectStatus(await t.confirm(other), 404)).toMatchObject({ code: "token_invalid" });
  });

  it("answers an expired link with 410, and the letter has expired after one reminder", async () => {
    const t = await lettersApp();
    const { id } = await t.submit();
    const token = await t.confirmToken(id);
    t.clock.advance(4 * DAY);
    expect((await drainOutbox(t.deps)).reminded).toBe(1);
    expect((await drainOutbox(t.deps)).reminded).toBe(0);
    await t.confirmToken(id, "reminder");
    t.clock.advance(3 * DAY + 1);
    expect((await drainOutbox(t.deps)).expired).toBe(1);
    expect(await expectStatus(await t.confirm(token), 410)).toMatchObject({ code: "token_expired" });
    expect((await t.deps.db.select().from(letters))[0]?.status).toBe("expired");
    const reminders = (await t.deps.db.select().from(capturedMail)).filter((m) =>
      m.subject.startsWith("Reminder"),
    );
    expect(reminders).toHaveLength(1);
  });
});

describe("sending through capture mode", () => {
  it("sends the confirmed letter from the campaign address in the supporter's name, then a sent notice", async () => {
    const t = await lettersApp();
    const { id } = await t.submit(
      letterInput({ story: "Zoë and her baby brother 👶 say thank you, café owner." }),
    );
    await t.confirm(await t.confirmToken(id));
    const report = await drainOutbox(t.deps);
    expect(report.sent).toBe(3); // confirmation, letter, sent notice
    const mail = await t.deps.db.select().from(capturedMail);
    const toMp = mail.find((m) => m.subject.includes("babies"));
    // The test MP reflects: the letter comes back to the supporter.
    expect(toMp?.toHeader).toBe("<jane@example.org>");
    expect(toMp?.fromHeader).toBe('"Jane Doe via #SpeakUpForBabies" <campaign@speakup.invalid>');
    expect(toMp?.replyTo).toBe('"Jane Doe" <jane@example.org>');
    expect(toMp?.text).toContain("Zoë and her baby brother 👶 say thank you, café owner.");
    expect(toMp?.text).toContain("1 Test Street\nTesttown\nZZ9 9ZZ");
    expect(mail.some((m) => m.subject.includes("has been sent"))).toBe(true);
    const status = await expectStatus(await t.request(`/api/letters/${id}`), 200);
    expect(status).toMatchObject({ status: "sent" });
  });

  it("shows captured mail at /dev/mail with HTML inert, and hides it outside capture mode", async () => {
    const t = await lettersApp();
    const { id } = await t.submit(
      letterInput({ story: "<script>alert('x')</script><b>bold</b> and more words here" }),
    );
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);
    const html = (await expectStatus(
      await t.app.request("/dev/mail", { headers: { accept: "text/html" } }, LOOPBACK),
      200,
    )) as string;
    expect(html).toContain("&lt;script&gt;alert(");
    expect(html).not.toContain("<script>alert");

    const live = await lettersApp({
      MAIL_MODE: "reflect",
      SMTP_URL: "smtp://127.0.0.1:1",
      MAIL_FROM: "campaign@example.org",
    });
    expect((await live.app.request("/dev/mail", {}, LOOPBACK)).status).toBe(404);
  });

  it("holds a near-duplicate of another supporter's own words for moderation", async () => {
    const t = await lettersApp();
    const story =
      "As a grandmother of three I have watched our local children's centre close and the waiting list for health visitors grow every single month since then.";
    const a = await t.submit(letterInput({ story }));
    const b = await t.submit(
      letterInput({
        story,
        supporter: { ...letterInput().supporter, email: "other@example.org", name: "Sam Roe" },
      }),
    );
    await t.confirm(await t.confirmToken(a.id));
    const res = await t.confirm(await t.confirmToken(b.id));
    expect(await expectStatus(res, 200)).toMatchObject({ status: "held" });
    await drainOutbox(t.deps);
    const states = await t.deps.db
      .select({ l: outbox.letterId, s: outbox.state })
      .from(outbox)
      .where(eq(outbox.kind, "letter"));
    expect(states.find((r) => r.l === b.id)?.s).toBe("held");
    expect(states.find((r) => r.l === a.id)?.s).toBe("sent");
  });

  it("records the follow-up answer from the emailed link", async () => {
    const t = await lettersApp({ LETTER_FOLLOWUP_DAYS: "14" });
    const { id } = await t.submit();
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);
    t.clock.advance(15 * DAY);
    await drainOutbox(t.deps);
    const followup = (await t.deps.db.select().from(capturedMail)).find((m) => m.subject.startsWith("Did"));
    const token = /followup\?token=([A-Za-z0-9_.-]+)/.exec(followup?.text ?? "")?.[1] ?? "";
    const page = await t.request(`/letters/followup?token=${token}`, { headers: { accept: "text/html" } });
    expect(await expectStatus(page, 200)).toContain('value="not_yet"');
    await expectStatus(await t.post("/api/letters/followup", { token, answer: "yes" }), 200);
    expect((await t.deps.db.select().from(letters))[0]?.replyAnswer).toBe("yes");
  });
});
