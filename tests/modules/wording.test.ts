/**
 * Words a supporter or a campaign lead reads: counts in the right number ("1 supporter"), errors
 * in their words (no field names), share text that claims only what happened, and help that
 * describes what the program does now.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCli } from "../../src/adapters/node/cli";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { adminApp } from "../support/admin";
import { expectStatus } from "../support/deps";
import { form, json, pledgeTestApp, tokenIn } from "../support/pledges";

/** One confirmed supporter pledge in Aldershot. */
async function onePledge() {
  const t = pledgeTestApp();
  await ensureTestSeat(t.deps);
  await expectStatus(
    await t.request(
      "/api/pledges",
      json({ name: "Ada", email: "ada@example.org", postcode: "GU11 1AA", pledgeConsent: "pledge-2026-11" }),
    ),
    202,
  );
  const token = tokenIn(t.sent[0], "/pledge/confirm");
  return { t, token };
}

/** The share links' text on a page (the WhatsApp link carries it whole). */
const shareText = (html: string) => {
  const decoded = html
    .replace(/&#x3D;/g, "=")
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, "&");
  const href = /href="https:\/\/wa\.me\/\?text=([^"]+)"/.exec(decoded)?.[1];
  if (!href) throw new Error("no share links on the page");
  return decodeURIComponent(href);
};

describe("counts in words", () => {
  it("says 1 supporter, 1 person and the first, never '1 supporters' or 'one of 1 people'", async () => {
    const { t, token } = await onePledge();
    const done = (await expectStatus(await t.request("/pledge/confirm", form({ token })), 200)) as string;
    expect(done).not.toMatch(/one of 1 people/);
    expect(done).toContain("You are the first person to pledge");
    const wall = (await expectStatus(await t.request("/pledges/wall"), 200)) as string;
    expect(wall).not.toMatch(/\b1<\/strong> supporters|\b1 supporters/);
    expect(wall).toMatch(/1<\/strong> supporter has pledged/);
    const page = (await expectStatus(await t.request("/pledge"), 200)) as string;
    expect(page).toContain("1 person has pledged so far");
    const thanks = (await expectStatus(await t.request("/thanks"), 200)) as string;
    expect(thanks).toContain("1 person has pledged so far");
  });

  it("says 2 people when there are two", async () => {
    const { t, token } = await onePledge();
    await t.request("/pledge/confirm", form({ token }));
    await t.request(
      "/api/pledges",
      json({ name: "Bo", email: "bo@example.org", postcode: "GU11 1AA", pledgeConsent: "pledge-2026-11" }),
    );
    const second = tokenIn(t.sent.at(-1), "/pledge/confirm");
    const done = (await expectStatus(
      await t.request("/pledge/confirm", form({ token: second })),
      200,
    )) as string;
    expect(done).toContain("You are one of 2 people who have pledged");
  });
});

describe("share text", () => {
  it("claims nothing before the supporter has confirmed, and says what they did once they have", async () => {
    const { t, token } = await onePledge();
    // Submitted, not confirmed: the pledge's "check your email" page, and /thanks.
    const checkEmail = (await expectStatus(
      await t.request(
        "/pledge",
        form({ name: "Cy", email: "cy@example.org", postcode: "GU11 1AA", pledgeConsent: "pledge-2026-11" }),
      ),
      202,
    )) as string;
    for (const html of [checkEmail, (await expectStatus(await t.request("/thanks"), 200)) as string]) {
      const text = shareText(html);
      expect(text).not.toMatch(/I've|I have|asked my MP|written|pledged/i);
      expect(text).toContain("#SpeakUpForBabies");
    }
    const done = (await expectStatus(await t.request("/pledge/confirm", form({ token })), 200)) as string;
    expect(shareText(done)).toMatch(/^I've pledged to #SpeakUpForBabies/);
  });
});

describe("partner form errors", () => {
  it("are sentences about the field, never the form's internal field names", async () => {
    const t = await adminApp();
    const res = await t.post("/admin/partners", { key: "Bad Key!", name: "", allowedOrigins: "not-a-url" });
    const html = (await expectStatus(res, 400)) as string;
    const summary = /<div class="error-summary"[\s\S]*?<\/div>/.exec(html)?.[0] ?? "";
    expect(summary).toContain('<a href="#key">');
    expect(summary).toContain('<a href="#allowedOrigins">');
    const messages = [...summary.matchAll(/<a href="#[^"]+">([^<]+)<\/a>/g)].map((m) => m[1] ?? "");
    expect(messages).toHaveLength(3);
    for (const m of messages) {
      expect(m).toMatch(/^[A-Z]/);
      expect(m).not.toMatch(/allowedOrigins|key:|name:/);
    }
  });
});

describe("command line help", () => {
  afterEach(() => vi.restoreAllMocks());
  it("describes only what the server still does", async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    expect(await runCli(["--help"], {})).toBe(2);
    const help = out.join("");
    expect(help).toContain("tally");
    expect(help).not.toMatch(/every minute/);
  });
});
