/**
 * HOSTILE 10: RFC 5321 lengths (254 in all, 64 before the @); international domains accepted,
 * punycoded and lower-cased for de-duplication, the address as typed kept for sending; and one
 * mailbox is one person for pledges and limits however it is written (Gmail dots, googlemail.com,
 * +tags where the provider ignores them).
 * Finding: local parts over 64 were accepted, international domains refused, and Gmail dot and
 * +tag variants made three pledges for one mailbox.
 */
import { describe, expect, it } from "vitest";
import { emailKey, parseEmail } from "../../src/lib/email";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { hostileApp, pledgeForm, withRealSmtp } from "./support";

const local64 = "l".repeat(64);
const domainOf = (n: number) => `${"d".repeat(n - 4)}.org`;

describe("10: email lengths, international domains, one mailbox", () => {
  it("accepts 254 characters with a 64-character local part; refuses 255, or a 65-character local part", async () => {
    const t = await hostileApp();
    const longest = `${local64}@${domainOf(189)}`.replace(/d{63}/g, (m) => `${m.slice(0, 62)}.`);
    expect(longest).toHaveLength(254);
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: longest })), 202);
    for (const bad of [
      `${local64}@${domainOf(190)}`.replace(/d{63}/g, (m) => `${m.slice(0, 62)}.`),
      `l${local64}@example.org`,
    ]) {
      const problem = await expectStatus(await t.post("/api/pledges", pledgeForm({ email: bad })), 400);
      expect(JSON.stringify(problem)).toMatch(/at most (254|64) characters/);
    }
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 1 });
  });

  it("an international domain: accepted, keyed by its punycode, mail sent to the address as typed", async () => {
    const t = await withRealSmtp();
    expect(parseEmail("USER@Bücher.Example")).toEqual({
      address: "USER@Bücher.Example",
      ascii: "USER@xn--bcher-kva.example",
      canonical: "user@xn--bcher-kva.example",
    });
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: "USER@Bücher.Example" })), 202);
    // Typed again in another form of the same domain: the same pledge.
    await expectStatus(
      await t.post("/api/pledges", pledgeForm({ email: "user@XN--BCHER-KVA.example" })),
      202,
    );
    expect(t.sqlite.prepare("select email_norm, email from supporter_pledges").all()).toEqual([
      { email_norm: "user@xn--bcher-kva.example", email: "USER@Bücher.Example" },
    ]);
    await drainOutbox(t.deps);
    const [mail] = t.sink.messages;
    expect(mail?.to && !Array.isArray(mail.to) ? mail.to.value[0]?.address : "").toMatch(
      /^USER@(Bücher\.Example|xn--bcher-kva\.example)$/i,
    );
    // One recipient, that mailbox (smtp-server shows the domain decoded).
    expect(t.sink.recipients).toHaveLength(1);
    expect(t.sink.recipients[0]?.[0]).toMatch(/^USER@(bücher|xn--bcher-kva)\.example$/);
  });

  it("Gmail dots, googlemail.com and +tags are one pledge and one allowance; other domains' +tags are kept", async () => {
    const t = await hostileApp({ LETTER_LIMIT_PER_EMAIL_DAY: "2" });
    for (const email of [
      "a.l.i.c.e+x@gmail.com",
      "alice@googlemail.com",
      "ALICE@gmail.com",
      "al.ice+pledge@GMAIL.com",
    ])
      await expectStatus(await t.post("/api/pledges", pledgeForm({ email })), 202);
    expect(t.sqlite.prepare("select email_norm, email from supporter_pledges").all()).toEqual([
      { email_norm: "alice@gmail.com", email: "a.l.i.c.e+x@gmail.com" },
    ]);
    // The confirmation went once, to the address first typed (resends wait their pause).
    expect(t.sqlite.prepare("select to_email from outbox where kind = 'service'").all()).toEqual([
      { to_email: "a.l.i.c.e+x@gmail.com" },
    ]);
    // Letters: two a day per mailbox, however it is written.
    const write = (email: string) => {
      const input = letterInput({ story: `A story by ${email}` });
      return t.post("/api/letters", { ...input, supporter: { ...input.supporter, email } });
    };
    await expectStatus(await write("alice@gmail.com"), 201);
    await expectStatus(await write("a.lice+1@gmail.com"), 201);
    expect(await expectStatus(await write("ALICE@googlemail.com"), 429)).toMatchObject({
      code: "rate_limited",
    });
    // Elsewhere bob+x may be another mailbox (no plus addressing): two people.
    expect(emailKey("bob+x@example.org")).not.toBe(emailKey("bob@example.org"));
    expect(emailKey("Bob@Example.org")).toBe(emailKey("bob@example.org"));
    expect(emailKey("jane.doe+news@outlook.com")).toBe("jane.doe@outlook.com");
  });
});
