/**
 * One pledge form: the site's /pledge, the partner's frame (/embed/pledge) and the front page show
 * the same fields, wording, layout and messages, from one partial.
 */
import { describe, expect, it } from "vitest";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { savePartner } from "../../src/modules/widget/widget.service";
import { expectStatus } from "../support/deps";
import { form, pledgeTestApp } from "../support/pledges";

async function app() {
  const t = pledgeTestApp({ REMOTE_LOOKUP: "off" });
  await ensureTestSeat(t.deps);
  await savePartner(t.deps, {
    key: "acme",
    name: "Acme",
    allowedOrigins: ["https://acme.example"],
    active: true,
  });
  return t;
}

/** The pledge form's markup without what legitimately differs (where it posts, hidden fields). */
function pledgeForm(html: string): string {
  const m = /<form[^>]*class="pledge-form"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!m?.[1]) throw new Error(`no pledge form in:\n${html}`);
  return m[1].replace(/<input type="hidden"[^>]*>\s*/g, "").trim();
}

describe("the pledge form", () => {
  it("is the same form on /pledge, in a partner's frame and on the front page", async () => {
    const t = await app();
    const site = (await expectStatus(await t.request("/pledge"), 200)) as string;
    const embed = (await expectStatus(await t.request("/embed/pledge?partner=acme"), 200)) as string;
    const home = (await expectStatus(await t.request("/"), 200)) as string;
    expect(pledgeForm(embed)).toBe(pledgeForm(site));
    expect(pledgeForm(home)).toBe(pledgeForm(site));
    const f = pledgeForm(site);
    expect(f).toContain(">Full name</label>");
    expect(f).not.toContain("Your name");
    // Each box sits in a .check wrapper with its label (the styles that make them big and aligned).
    expect(f).toMatch(/<div class="check">\s*<input id="pledge-consent"[^>]*type="checkbox"/);
    expect(f).toMatch(/<div class="check">\s*<input id="pledge-updates"[^>]*type="checkbox"/);
    expect(f).not.toContain('class="inline"');
  });

  it("says what is wrong in sentences, linked to each field, and marks the unticked pledge box invalid", async () => {
    const t = await app();
    for (const [path, base] of [
      ["/pledge", {}],
      ["/embed/pledge", { partner: "acme" }],
    ] as const) {
      const res = await t.request(path, form({ ...base, name: "", email: "nope", postcode: "" }));
      const html = (await expectStatus(res, 400)) as string;
      const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0] ?? "";
      expect(summary, path).toContain('<a href="#pledge-name">Enter your full name</a>');
      expect(summary, path).toContain(
        '<a href="#pledge-email">Enter an email address, such as jane@example.org</a>',
      );
      expect(summary, path).toContain('<a href="#pledge-consent">Tick the box to make your pledge</a>');
      // Every message starts with a capital letter and names no schema field.
      for (const m of summary.matchAll(/<a href="#[^"]+">([^<]+)<\/a>/g)) {
        expect(m[1], path).toMatch(/^[A-Z]/);
        expect(m[1], path).not.toMatch(/pledgeConsent|updatesConsent|postcode:/);
      }
      expect(html, path).toMatch(
        /<input id="pledge-consent"[^>]*aria-invalid="true"[^>]*aria-describedby="pledge-consent-error"/,
      );
      expect(html, path).toMatch(/<input id="pledge-name"[^>]*aria-invalid="true"/);
      // What was typed stays.
      expect(html, path).toContain('value="nope"');
    }
  });

  it("keeps the JSON API's messages in sentences too", async () => {
    const t = await app();
    const res = await t.request("/api/pledges", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "", email: "x", postcode: "" }),
    });
    const body = (await expectStatus(res, 400)) as { errors: { message: string }[] };
    for (const e of body.errors) expect(e.message).toMatch(/^[A-Z]/);
  });
});
