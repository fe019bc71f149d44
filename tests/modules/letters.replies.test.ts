/**
 * After the letter: the follow-up answer (replied / not yet / no), a reply pasted in with its
 * stance on each ask, and a one-click, pre-filled chase letter after LETTER_CHASE_AFTER_WEEKS
 * without a reply, sent once through the letter, confirmation and outbox machinery.
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { capturedMail, letterReplies, letters, outbox } from "../../src/db/schema";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { runRetention } from "../../src/modules/privacy/privacy.service";
import { expectStatus } from "../support/deps";
import { lettersApp } from "../support/letters";
import { form } from "../support/pledges";

const DAY = 86_400_000;
const WEEK = 7 * DAY;

/** A letter to the test MP, confirmed and sent; the follow-up email's token. */
async function sentLetter(env: Record<string, string> = {}) {
  const t = await lettersApp({
    LETTER_FOLLOWUP_DAYS: "14",
    LETTER_CHASE_AFTER_WEEKS: "4",
    RETENTION_DAYS: "35",
    ...env,
  });
  const { id } = await t.submit();
  await t.confirm(await t.confirmToken(id));
  await drainOutbox(t.deps);
  const sentAt = t.clock.now();
  t.clock.advance(15 * DAY);
  await drainOutbox(t.deps);
  const mail = (await t.deps.db.select().from(capturedMail)).find((m) => m.subject.startsWith("Did"));
  const token = /followup\?token=([A-Za-z0-9_.-]+)/.exec(mail?.text ?? "")?.[1];
  if (!token) throw new Error("no follow-up email");
  const page = async () =>
    (await expectStatus(
      await t.request(`/letters/followup?token=${token}`, { headers: { accept: "text/html" } }),
      200,
    )) as string;
  const answer = (fields: Record<string, string>) =>
    t.request("/letters/followup", form({ token, ...fields }));
  return { ...t, id, token, sentAt, page, answer };
}

const rows = (t: Awaited<ReturnType<typeof sentLetter>>, sql: string, ...args: unknown[]) =>
  t.sqlite.prepare(sql).all(...args) as Record<string, unknown>[];

describe("the follow-up answer", () => {
  it("records replied / not yet / no, and a pasted reply with its stance on each of the letter's asks", async () => {
    const t = await sentLetter();
    const page = await t.page();
    // The letter asked about prevention and workforce: a stance question for each, nothing else.
    expect(page).toContain('name="stance_prevention"');
    expect(page).toContain('name="stance_workforce"');
    expect(page).not.toContain('name="stance_strategy"');
    const res = await t.answer({
      answer: "yes",
      replyText: "Thank you for writing. I support more funding for health visiting.\r\nBest wishes",
      stance_prevention: "supports",
      stance_workforce: "not_mentioned",
      stance_strategy: "against",
    });
    expect(await expectStatus(res, 200)).toContain("Thank you");
    const [reply] = await t.deps.db.select().from(letterReplies);
    expect(reply).toMatchObject({
      letterId: t.id,
      replyText: "Thank you for writing. I support more funding for health visiting.\nBest wishes",
      stances: { prevention: "supports", workforce: "not_mentioned" },
    });
    expect((await t.deps.db.select().from(letters))[0]?.replyAnswer).toBe("yes");
    // The JSON API takes the same, and a later answer replaces the earlier one.
    await expectStatus(
      await t.post("/api/letters/followup", {
        token: t.token,
        answer: "yes",
        stances: { prevention: "partly" },
      }),
      200,
    );
    expect((await t.deps.db.select().from(letterReplies))[0]?.stances).toEqual({ prevention: "partly" });
  });

  it("refuses a stance that isn't one of the choices", async () => {
    const t = await sentLetter();
    const res = await t.post("/api/letters/followup", {
      token: t.token,
      answer: "yes",
      stances: { prevention: "maybe" },
    });
    await expectStatus(res, 400);
  });
});

describe("chasing an unanswered letter", () => {
  it("offers a pre-filled follow-up letter once the weeks have passed, and sends it once, through the outbox", async () => {
    const t = await sentLetter();
    t.clock.set(t.sentAt + 4 * WEEK);
    await expectStatus(await t.answer({ answer: "not_yet" }), 200);
    const page = await t.page();
    expect(page).toContain('action="/letters/chase"');
    const body = /<textarea[^>]*name="body"[^>]*>([\s\S]*?)<\/textarea>/.exec(page)?.[1] ?? "";
    expect(body).toContain("Dear Test MP");
    expect(body).toMatch(/I wrote to you on \w+day, \d+ \w+ 2026/);
    expect(body).toContain("Put money into prevention");
    // The sign-off (name and address, as in the first letter) is added below, not editable.
    expect(/<pre class="letter">([\s\S]*?)<\/pre>/.exec(page)?.[1]).toMatch(/Jane Doe\n1 Test Street/);
    const subject = /name="subject"[^>]*value="([^"]*)"/.exec(page)?.[1] ?? "";
    expect(subject).toMatch(/^Following up: /);

    const send = () =>
      t.request(
        "/letters/chase",
        form({ token: t.token, subject, body: `${body}\n\nPS: a line of my own.` }),
      );
    const [a, b] = await Promise.all([send(), send()]);
    expect(await expectStatus(a, 200)).toContain("follow-up letter");
    await expectStatus(b, 200);
    const chases = rows(
      t,
      "select id, status, chase_of, confirmed_at, body from letters where chase_of is not null",
    );
    expect(chases).toHaveLength(1);
    expect(chases[0]).toMatchObject({ chase_of: t.id, status: "confirmed", confirmed_at: t.clock.now() });
    expect(String(chases[0]?.body)).toMatch(
      /PS: a line of my own\.\n\nYours sincerely,\n\nJane Doe\n1 Test Street/,
    );
    // Confirmed by the link in the supporter's inbox: no second confirmation email, and the
    // letter row moved by the state machine to queued.
    const chaseRows = rows(t, "select kind, state from outbox where letter_id = ?", chases[0]?.id);
    expect(chaseRows).toEqual([{ kind: "letter", state: "queued" }]);
    await drainOutbox(t.deps);
    expect(
      rows(t, "select state from outbox where letter_id = ? and kind = 'letter'", chases[0]?.id),
    ).toEqual([{ state: "sent" }]);
    // Sending again from the page says it has gone; nothing new is queued.
    expect(await expectStatus(await send(), 200)).toContain("already");
    expect(rows(t, "select count(*) n from letters where chase_of is not null")).toEqual([{ n: 1 }]);
  });

  it("with the default settings, the chase falls due a week before retention removes the address it needs", async () => {
    // Defaults: chase after 3 weeks, letter text and postal address removed 28 days after sending.
    const t = await sentLetter({ LETTER_CHASE_AFTER_WEEKS: "", RETENTION_DAYS: "" });
    expect([t.deps.config.LETTER_CHASE_AFTER_WEEKS, t.deps.config.RETENTION_DAYS]).toEqual([3, 28]);
    t.clock.set(t.sentAt + 3 * WEEK);
    await expectStatus(await t.answer({ answer: "not_yet" }), 200);
    expect(await t.page()).toContain('action="/letters/chase"');
    // Once retention has removed the address, the page says so instead of offering a letter
    // signed "[removed]".
    t.clock.set(t.sentAt + 28 * DAY + 3_600_000);
    await runRetention(t.deps);
    const page = await t.page();
    expect(page).not.toContain('action="/letters/chase"');
    expect(page).toContain("We no longer hold your address");
  });

  it("says when a follow-up letter will be possible, and emails the writer then, once, unless the MP replies", async () => {
    const t = await sentLetter();
    t.clock.set(t.sentAt + 2 * WEEK);
    const html = (await expectStatus(await t.answer({ answer: "not_yet" }), 200)) as string;
    expect(html).not.toContain('action="/letters/chase"');
    expect(html).toMatch(/by \w+day, \d+ \w+ 2026/);
    await t.answer({ answer: "no" });
    const prompts = () =>
      t.deps.db
        .select({ state: outbox.state, next: outbox.nextAttemptAt })
        .from(outbox)
        .where(and(eq(outbox.letterId, t.id), eq(outbox.kind, "reminder")));
    expect(await prompts()).toEqual([{ state: "queued", next: t.sentAt + 4 * WEEK }]);
    // They hear back after all: the prompt is cancelled, through the state machine.
    await t.answer({ answer: "yes" });
    expect((await prompts()).map((p) => p.state)).toEqual(["cancelled"]);
    t.clock.set(t.sentAt + 5 * WEEK);
    await drainOutbox(t.deps);
    expect((await t.deps.db.select().from(capturedMail)).filter((m) => /no reply/i.test(m.subject))).toEqual(
      [],
    );
  });

  it("emails the prompt with a link to the follow-up page when it is due", async () => {
    const t = await sentLetter();
    t.clock.set(t.sentAt + 2 * WEEK);
    await t.answer({ answer: "not_yet" });
    t.clock.set(t.sentAt + 4 * WEEK);
    await drainOutbox(t.deps);
    const prompt = (await t.deps.db.select().from(capturedMail)).find((m) => /no reply/i.test(m.subject));
    expect(prompt?.text).toMatch(/\/letters\/followup\?token=/);
    const token = /followup\?token=([A-Za-z0-9_.-]+)/.exec(prompt?.text ?? "")?.[1] ?? "";
    const page = (await expectStatus(await t.request(`/letters/followup?token=${token}`), 200)) as string;
    expect(page).toContain('action="/letters/chase"');
  });

  it("offers no chase when the MP replied, and refuses one posted anyway", async () => {
    const t = await sentLetter();
    t.clock.set(t.sentAt + 5 * WEEK);
    await t.answer({ answer: "yes" });
    expect(await t.page()).not.toContain('action="/letters/chase"');
    const res = await t.request(
      "/letters/chase",
      form({ token: t.token, subject: "Following up", body: "Dear MP" }),
    );
    expect(await expectStatus(res, 409)).toContain("replied");
    expect(rows(t, "select count(*) n from letters where chase_of is not null")).toEqual([{ n: 1 - 1 }]);
  });
});
