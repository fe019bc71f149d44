import { describe, expect, it } from "vitest";
import { letterTallyStatements, tallyLetters } from "../../src/modules/admin/admin.tallies";
import { adminApp } from "../support/admin";
import { allowUnannouncedRows, expectStatus } from "../support/deps";
import { insertLetter } from "../support/pledges";

function insertOutbox(
  t: Awaited<ReturnType<typeof adminApp>>,
  o: { id: string; letterId: string; state: string; attempts?: number },
) {
  const now = t.clock.now();
  t.sqlite
    .prepare(
      `insert into outbox (id, kind, letter_id, state, to_name, to_email, reflect_to, from_name, subject, body_text,
        message_id, attempts, next_attempt_at, created_at, updated_at, last_error)
       values (?, 'letter', ?, ?, 'MP Aldershot', 'mp0@parliament.invalid', 'ada@example.org', 'Ada', 's', 'b', ?, ?, ?, ?, ?, '451 later')`,
    )
    .run(o.id, o.letterId, o.state, `<${o.id}@x>`, o.attempts ?? 2, now + 60_000, now, now);
}

describe("dashboard letter figures", () => {
  it("counts each confirmed letter once, however often tallying runs", async () => {
    const t = await adminApp();
    const a = insertLetter(t.sqlite, { status: "sent" });
    insertLetter(t.sqlite, { status: "sent", code: "S14000021" });
    insertLetter(t.sqlite, { status: "awaiting_confirmation" });
    await t.deps.atomic(letterTallyStatements(t.deps, a));
    await t.deps.atomic(letterTallyStatements(t.deps, a));
    await Promise.all([tallyLetters(t.deps), tallyLetters(t.deps)]);
    await tallyLetters(t.deps);
    const html = (await expectStatus(await t.get("/admin"), 200)) as string;
    expect(html).toContain("Letters written <strong>2</strong>");
    expect(html).toMatch(/<td>MP Aldershot<\/td><td>Aldershot<\/td><td class="n">1<\/td>/);
  });

  it("counts a letter confirmed days after the tally pass first saw it", async () => {
    const t = await adminApp();
    const id = insertLetter(t.sqlite, { status: "awaiting_confirmation" });
    insertLetter(t.sqlite, { status: "sent" });
    await tallyLetters(t.deps);
    t.sqlite
      .prepare("update letters set status = 'sent', confirmed_at = ? where id = ?")
      .run(t.clock.now(), id);
    await tallyLetters(t.deps);
    const html = (await expectStatus(await t.get("/admin"), 200)) as string;
    expect(html).toContain("Letters written <strong>2</strong>");
  });
});

describe("outbox and moderation actions", () => {
  it("retries a failed message, cancels one that has not gone, requeues a dead one, and leaves a sent one alone", async () => {
    const t = await adminApp();
    const l1 = insertLetter(t.sqlite, { status: "confirmed" });
    const l2 = insertLetter(t.sqlite, { status: "confirmed" });
    insertOutbox(t, { id: "o-failed", letterId: l1, state: "failed" });
    insertOutbox(t, { id: "o-dead", letterId: l2, state: "dead", attempts: 8 });
    const page = (await expectStatus(await t.get("/admin/outbox"), 200)) as string;
    expect(page).toContain('action="/admin/outbox/o-failed/retry"');
    expect(page).not.toContain('action="/admin/outbox/o-dead/retry"');
    expect(page).toContain('action="/admin/outbox/o-dead/requeue"');
    expect(page).not.toContain('action="/admin/outbox/o-failed/requeue"');

    expect((await t.post("/admin/outbox/o-failed/retry")).status).toBe(303);
    expect(
      t.sqlite.prepare("select state, next_attempt_at n from outbox where id = 'o-failed'").get(),
    ).toEqual({
      state: "failed",
      n: t.clock.now(),
    });
    expect((await t.post("/admin/outbox/o-failed/cancel")).status).toBe(303);
    expect(t.sqlite.prepare("select state from outbox where id = 'o-failed'").get()).toEqual({
      state: "cancelled",
    });
    expect(t.sqlite.prepare("select status from letters where id = ?").get(l1)).toEqual({
      status: "cancelled",
    });
    // A dead message can be sent again: queued with a fresh allowance of attempts, letter back to confirmed.
    t.sqlite.prepare("update letters set status = 'undeliverable' where id = ?").run(l2);
    expect((await t.post("/admin/outbox/o-dead/requeue")).status).toBe(303);
    expect(t.sqlite.prepare("select state, attempt_limit l from outbox where id = 'o-dead'").get()).toEqual({
      state: "queued",
      l: 8 + 8,
    });
    expect(t.sqlite.prepare("select status from letters where id = ?").get(l2)).toEqual({
      status: "confirmed",
    });
    expect((await t.post("/admin/outbox/o-dead/requeue")).status).toBe(404);
    // Sent is sent: nothing to cancel.
    t.sqlite.prepare("update outbox set state = 'sent' where id = 'o-dead'").run();
    expect((await t.post("/admin/outbox/o-dead/cancel")).status).toBe(404);
  });

  it("releases or rejects a held letter, once", async () => {
    const t = await adminApp();
    const held = insertLetter(t.sqlite, { status: "held", body: "A held letter <b>text</b>" });
    const other = insertLetter(t.sqlite, { status: "held" });
    insertOutbox(t, { id: "o-held", letterId: held, state: "held" });
    insertOutbox(t, { id: "o-other", letterId: other, state: "held" });
    const page = (await expectStatus(await t.get("/admin/moderation"), 200)) as string;
    expect(page).toContain("A held letter &lt;b&gt;text&lt;/b&gt;");
    expect((await t.post(`/admin/moderation/${held}/release`)).status).toBe(303);
    expect(t.sqlite.prepare("select state from outbox where id = 'o-held'").get()).toEqual({
      state: "queued",
    });
    expect(t.sqlite.prepare("select status from letters where id = ?").get(held)).toEqual({
      status: "confirmed",
    });
    expect((await t.post(`/admin/moderation/${held}/reject`)).status).toBe(404);
    expect((await t.post(`/admin/moderation/${other}/reject`)).status).toBe(303);
    expect(t.sqlite.prepare("select state from outbox where id = 'o-other'").get()).toEqual({
      state: "cancelled",
    });
  });

  it("lists a bounced representative's address with its MP and the letters held for it, and clears the flag on request", async () => {
    const t = await adminApp();
    const l = insertLetter(t.sqlite, { status: "confirmed" });
    // A fixture row written behind the domain's back: nobody announces it.
    allowUnannouncedRows(t.sqlite);
    insertOutbox(t, { id: "o-held-for-flag", letterId: l, state: "queued", attempts: 0 });
    t.sqlite
      .prepare(
        "insert into recipient_flags (address, detail, outbox_id, source, flagged_at) values (?, ?, ?, ?, ?)",
      )
      .run("mp0@parliament.invalid", "5.1.1 user unknown", "o-x", "dsn", t.clock.now());
    const dash = (await expectStatus(await t.get("/admin"), 200)) as string;
    expect(dash).toContain("1 representative address bounced.");
    const page = (await expectStatus(await t.get("/admin/outbox"), 200)) as string;
    expect(page).toContain("<td>mp0@parliament.invalid</td>");
    expect(page).toContain("MP Aldershot (Aldershot)");
    expect(page).toMatch(
      /<td class="n">1<\/td>\s*<td class="actions"><form method="post" action="\/admin\/outbox\/flags\/clear">/,
    );
    expect((await t.post("/admin/outbox/flags/clear", { address: "MP0@parliament.invalid" })).status).toBe(
      303,
    );
    expect(t.sqlite.prepare("select count(*) n from recipient_flags").get()).toEqual({ n: 0 });
    expect((await t.post("/admin/outbox/flags/clear", { address: "mp0@parliament.invalid" })).status).toBe(
      404,
    );
  });
});
