/**
 * HOSTILE 19: JSON with keys nobody asked for ("state": "sent", "toEmail", "__proto__",
 * "constructor.prototype") and form fields named __proto__[x] are ignored (or refused): nothing
 * they name is set, and no object prototype is polluted.
 */
import { afterEach, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { detailsForm, emailFor, hostileApp, pledgeForm, signedIn } from "./support";

const polluted = () =>
  [
    {} as Record<string, unknown>,
    Object.create(null) as Record<string, unknown>,
    [] as unknown as Record<string, unknown>,
  ].some((o) => o.isAdmin !== undefined || o.polluted !== undefined || o.x !== undefined);

afterEach(() => {
  // If anything did get through, don't let it leak into the next test.
  for (const k of ["isAdmin", "polluted", "x"]) delete (Object.prototype as Record<string, unknown>)[k];
});

/** Raw JSON text, so "__proto__" is a real key of the document (an object literal would not do). */
const rawJson = (base: object, extra: string) => `${JSON.stringify(base).slice(0, -1)},${extra}}`;
const EXTRA = `"state":"sent","status":"sent","toEmail":"attacker@example.org","reflectTo":"attacker@example.org","similarity":0,"flags":[],"counted":true,"id":"chosen-id","__proto__":{"isAdmin":true,"polluted":true},"constructor":{"prototype":{"polluted":true}}`;

describe("19: extra keys and prototype pollution", () => {
  it("JSON with extra keys: a letter is made as usual, none of the extras taken, nothing polluted", async () => {
    const t = await hostileApp();
    const res = await t.request("/api/letters", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: rawJson(
        { ...letterInput(), supporter: { ...letterInput().supporter, email: emailFor(19) } },
        EXTRA,
      ),
    });
    const letter = (await expectStatus(res, 201)) as { id: string; status: string };
    expect(letter.status).toBe("awaiting_confirmation");
    expect(letter.id).not.toBe("chosen-id");
    const rows = t.sqlite.prepare("select kind, state, to_email, reflect_to from outbox").all() as Record<
      string,
      string
    >[];
    expect(rows.map((r) => r.state).sort()).toEqual(["awaiting_confirmation", "queued"]);
    expect(JSON.stringify(rows)).not.toContain("attacker@example.org");
    expect(polluted()).toBe(false);

    const pledge = await t.request("/api/pledges", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: rawJson(pledgeForm({ email: emailFor("p19") }), EXTRA),
    });
    await expectStatus(pledge, 202);
    expect(t.sqlite.prepare("select status, counted from supporter_pledges").all()).toEqual([
      { status: "unconfirmed", counted: 0 },
    ]);
    // Nested in the supporter, and in a confirm call: the same.
    const nested = letterInput();
    const res2 = await t.request("/api/letters/preview", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: rawJson(nested, `"supporter":${rawJson(nested.supporter, EXTRA)}`),
    });
    await expectStatus(res2, 200);
    const confirm = await t.request("/api/letters/confirm", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"token":"x","__proto__":{"isAdmin":true}}`,
    });
    expect(confirm.status).toBe(400);
    expect(polluted()).toBe(false);
  });

  it("form fields named __proto__[x] and constructor[prototype][x] change nothing, on forms and the admin", async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    const evil = {
      "__proto__[isAdmin]": "1",
      "constructor[prototype][polluted]": "1",
      "__proto__.x": "1",
      x: "1",
    };
    expect(
      (await t.form("/pledge", { ...pledgeForm({ email: emailFor("f19") }), ...evil })).status,
    ).toBeLessThan(500);
    expect(
      (await t.form("/write/send", { ...detailsForm({ email: emailFor("w19") }), ...evil })).status,
    ).toBeLessThan(500);
    expect(
      (await t.form("/privacy/request", { email: emailFor("f19"), kind: "export", ...evil })).status,
    ).toBe(202);
    expect(
      (
        await lead.post("/admin/partners", {
          key: "p19",
          name: "P",
          allowedOrigins: "https://p.example",
          ...evil,
        })
      ).status,
    ).toBeLessThan(500);
    expect(
      (await t.request("/api/lookup?postcode=SW1A1AA&__proto__[isAdmin]=1&constructor[prototype][x]=1"))
        .status,
    ).toBe(200);
    expect(polluted()).toBe(false);
    // The lead is still just a lead; a visitor is still nobody.
    expect((await t.page("/admin")).status).toBe(303);
  });
});
