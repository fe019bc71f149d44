/**
 * HOSTILE 23: a double-clicked Send, and twenty at once with the same idempotency key (the API's
 * header, the form's hidden field): one letter, one confirmation mail, every caller answered.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { letterInput } from "../support/letters";
import { detailsForm, hostileApp } from "./support";

describe("23: double submits", () => {
  it("twenty API submits with one Idempotency-Key: one letter (201 once, 200 after), one mail", async () => {
    const t = await hostileApp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        t.post("/api/letters", letterInput(), { "idempotency-key": "click-1234567890" }),
      ),
    );
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(19);
    const ids = new Set(await Promise.all(answers.map(async (r) => ((await r.json()) as { id: string }).id)));
    expect(ids.size).toBe(1);
    await drainOutbox(t.deps);
    expect(t.sqlite.prepare("select count(*) n from letters").get()).toEqual({ n: 1 });
    expect(t.captured().filter((m) => m.subject.startsWith("Please confirm"))).toHaveLength(1);
  });

  it("twenty form posts of the same details page (its hidden key): one letter, one mail, every page says check your email", async () => {
    const t = await hostileApp();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => t.form("/write/send", detailsForm({ idem: "form-key-0987654321" }))),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    for (const r of answers) expect(await r.text()).toContain("Check your email");
    await drainOutbox(t.deps);
    expect(t.sqlite.prepare("select count(*) n from letters").get()).toEqual({ n: 1 });
    expect(t.captured().filter((m) => m.subject.startsWith("Please confirm"))).toHaveLength(1);
  });
});
