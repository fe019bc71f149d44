/**
 * HOSTILE 22: the same pledge twice with the email in another case, and identical pledges in
 * parallel: one row, every caller told to check their email, one confirmation mail.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { hostileApp, pledgeForm } from "./support";

describe("22: duplicate pledges", () => {
  it("another case of the same address is the same pledge, with one confirmation mail", async () => {
    const t = await hostileApp();
    for (const email of ["Jane@Example.org", "JANE@EXAMPLE.ORG", " jane@example.org "])
      expect(await expectStatus(await t.post("/api/pledges", pledgeForm({ email })), 202)).toEqual({
        status: "check_email",
      });
    await drainOutbox(t.deps);
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 1 });
    expect(t.captured().filter((m) => m.subject.includes("confirm your"))).toHaveLength(1);
  });

  it("twenty identical pledges at once, by API and by form: one row, all told to check their email, one mail", async () => {
    const t = await hostileApp();
    const api = Array.from({ length: 10 }, () => t.post("/api/pledges", pledgeForm()));
    const forms = Array.from({ length: 10 }, () => t.form("/pledge", pledgeForm()));
    const answers = await Promise.all([...api, ...forms]);
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(202));
    for (const r of answers.slice(10)) expect(await r.text()).toContain("Check your email");
    await drainOutbox(t.deps);
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 1 });
    expect(t.sqlite.prepare("select count(*) n from outbox where kind = 'service'").get()).toEqual({ n: 1 });
    expect(t.captured()).toHaveLength(1);
  });
});
