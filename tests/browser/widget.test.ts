/**
 * The widget in a real browser: a partner page on another origin (another port on 127.0.0.1)
 * pastes the script tag; the journey runs inside the iframe, the frame resizes to its content,
 * the completion event reaches the partner page, and the partner is recorded. A site that is not
 * in the partner's allowed origins can't frame the embed (CSP frame-ancestors).
 */
import { eq } from "drizzle-orm";
import type { Browser, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { letters, supporterPledges } from "../../src/db/schema";
import { savePartner } from "../../src/modules/widget/widget.service";
import {
  expectAccessible,
  launchBrowser,
  shot,
  startAppServer,
  startSite,
  type TestServer,
} from "../support/browser";

let browser: Browser;
let app: TestServer;
let partnerSite: Awaited<ReturnType<typeof startSite>>;
let otherSite: Awaited<ReturnType<typeof startSite>>;

const hostPage = (appUrl: string, attrs: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme Family Charity</title></head>
<body style="font-family:sans-serif;margin:2rem;background:#f3f3f3">
<h1>Acme Family Charity</h1>
<p>Our supporters can write to their MP about the Manifesto for Babies right here.</p>
<script>window.completions = []; window.addEventListener("speakup:submitted", function (e) { window.completions.push(e.detail); });</script>
<script src="${appUrl}/widget.js" ${attrs} async></script>
<p>Footer text after the widget.</p>
</body></html>`;

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startAppServer()]);
  partnerSite = await startSite(() =>
    hostPage(app.url, 'data-partner="acme" data-accent="#0b6e4f" data-compact'),
  );
  otherSite = await startSite(() => hostPage(app.url, 'data-partner="acme"'));
  await savePartner(app.deps, {
    key: "acme",
    name: "Acme Family Charity",
    allowedOrigins: [partnerSite.origin],
    active: true,
  });
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), partnerSite?.close(), otherSite?.close()]);
});

async function embedFrame(page: Page): Promise<Frame> {
  await page.waitForSelector("iframe");
  let frame: Frame | undefined;
  await expect.poll(() => (frame = page.frames().find((f) => f.url().includes("/embed")))).toBeTruthy();
  return frame as Frame;
}

const frameHeight = (page: Page) =>
  page.$eval("iframe", (f) => (f as HTMLIFrameElement).getBoundingClientRect().height);
const contentHeight = (frame: Frame) =>
  frame.evaluate(() => Math.ceil(document.body.getBoundingClientRect().height));

/** The iframe has been resized to the page inside it (by postMessage from the frame). */
async function expectFitted(page: Page, frame: Frame) {
  await expect
    .poll(async () => Math.abs((await frameHeight(page)) - (await contentHeight(frame))))
    .toBeLessThanOrEqual(1);
}

describe("embeddable widget in Chromium", () => {
  it("runs the letter journey inside a partner's page, resizing, recording the partner and telling the host", async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    await page.goto(`${partnerSite.origin}/`);
    let frame = await embedFrame(page);
    await frame.waitForSelector("h1");
    expect(await frame.locator("h1").textContent()).toBe("Find your MP");
    expect(await frame.evaluate(() => document.documentElement.className)).toBe("embed compact");
    // The accent reached the frame as a stylesheet (inline styles are refused by our CSP).
    expect(await frame.$eval("button", (b) => getComputedStyle(b).backgroundColor)).toBe("rgb(11, 110, 79)");
    await expectFitted(page, frame);
    const homeHeight = await frameHeight(page);
    expect(homeHeight).not.toBe(640);
    await expectAccessible(frame, "embed home");
    await shot(page, "widget-01-home");

    await frame.getByLabel("Your postcode").fill("ZZ9 9ZZ");
    await frame.getByRole("button", { name: "Find my MP" }).click();
    await expect.poll(() => frame.locator("h1").textContent()).toBe("Your MP");
    frame = await embedFrame(page);
    await expectFitted(page, frame);
    await expectAccessible(frame, "embed result");
    await shot(page, "widget-02-your-mp");

    await frame.getByRole("link", { name: /^Write to Test MP/ }).click();
    await expect.poll(() => frame.locator("h1").textContent()).toContain("Write to");
    await frame.getByLabel("A joined-up national plan for babies").check();
    await frame
      .getByLabel("Your own words")
      .fill("As a nursery manager I see what early help does for toddlers.");
    await expectFitted(page, frame);
    // A longer page: the frame grew with it.
    expect(await frameHeight(page)).toBeGreaterThan(homeHeight);
    await expectAccessible(frame, "embed write");
    await shot(page, "widget-03-write");

    await frame.getByRole("button", { name: "Preview my letter" }).click();
    await expect.poll(() => frame.locator("h1").textContent()).toBe("Check and edit your letter");
    await expectAccessible(frame, "embed preview");
    await frame.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => frame.locator("h1").textContent()).toBe("Your details");
    await frame.getByLabel("Full name").fill("Priya Partner");
    await frame.getByLabel("Email address", { exact: true }).fill("priya.partner@example.org");
    await frame.getByLabel("Address line 1").fill("3 Embed Road");
    await frame.getByLabel("Town or city").fill("Testtown");
    await frame.getByLabel(/^Send my letter/).check();
    await frame.getByLabel(/^I pledge/).check();
    await expectAccessible(frame, "embed details");
    await shot(page, "widget-04-details");

    expect(await page.evaluate(() => (window as unknown as { completions: unknown[] }).completions)).toEqual(
      [],
    );
    await frame.getByRole("button", { name: "Send for confirmation" }).click();
    await expect.poll(() => frame.locator("h1").textContent()).toBe("Check your email");
    // "Submitted" reached the partner's page, with no personal data in it. (Confirming happens in
    // the supporter's inbox: the host page is never told about it.)
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { completions: unknown[] }).completions))
      .toEqual([{ partner: "acme", action: "letter" }]);
    await expectFitted(page, frame);
    await expect
      .poll(() => frame.locator("main").textContent())
      .toContain("The same link confirms your pledge");
    await expectAccessible(frame, "embed check email");
    await shot(page, "widget-05-done");
    // No email yet? The link can be sent again from inside the frame.
    await frame.getByRole("button", { name: "Send the link again" }).click();
    await expect.poll(() => frame.locator("main").textContent()).toContain("we've sent its link again");

    // Every action recorded the partner.
    const [letter] = await app.deps.db
      .select()
      .from(letters)
      .where(eq(letters.supporterEmail, "priya.partner@example.org"));
    expect(letter?.partnerKey).toBe("acme");
    expect(letter?.status).toBe("awaiting_confirmation");
    const [pledge] = await app.deps.db
      .select()
      .from(supporterPledges)
      .where(eq(supporterPledges.emailNorm, "priya.partner@example.org"));
    expect(pledge?.partnerKey).toBe("acme");
    // Confirmed by the letter's own link: no second email to click.
    expect(pledge?.letterId).toBe(letter?.id);
    await page.close();
  });

  it("records the partner on a pledge made inside the frame", async () => {
    const page = await browser.newPage();
    await page.goto(`${partnerSite.origin}/`);
    const frame = await embedFrame(page);
    await frame.getByLabel("Your postcode").fill("ZZ9 9ZZ");
    await frame.getByRole("button", { name: "Find my MP" }).click();
    await frame.getByRole("link", { name: "Make the pledge yourself" }).click();
    await expect.poll(() => frame.locator("h1").textContent()).toBe("Pledge to #SpeakUpForBabies");
    expect(await frame.getByLabel("Postcode").inputValue()).toBe("ZZ9 9ZZ");
    await frame.getByLabel("Full name").fill("Pat Pledger");
    await frame.getByLabel("Email address").fill("pat.pledger@example.org");
    await frame.getByRole("button", { name: "Make my pledge" }).click();
    // Forgot the box: the form comes back filled in.
    await expect.poll(() => frame.locator(".error-summary").textContent()).toContain("Tick the box");
    expect(await frame.getByLabel("Full name").inputValue()).toBe("Pat Pledger");
    await expectAccessible(frame, "embed pledge error");
    await shot(page, "widget-06-pledge-error");
    await frame.getByLabel(/^I pledge/).check();
    await frame.getByRole("button", { name: "Make my pledge" }).click();
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { completions: unknown[] }).completions))
      .toEqual([{ partner: "acme", action: "pledge" }]);
    const [pledge] = await app.deps.db
      .select()
      .from(supporterPledges)
      .where(eq(supporterPledges.emailNorm, "pat.pledger@example.org"));
    expect(pledge?.partnerKey).toBe("acme");
    await page.close();
  });

  it("is refused by the browser on a site that is not in the partner's allowed origins", async () => {
    const page = await browser.newPage();
    const res = await page.request.get(`${app.url}/embed?partner=acme`);
    expect(res.headers()["content-security-policy"]).toContain(`frame-ancestors ${partnerSite.origin}`);
    await page.goto(`${otherSite.origin}/`);
    await page.waitForSelector("iframe");
    // Give the frame time to load (or be blocked), then look inside: none of our page is there.
    await page.waitForTimeout(500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const text = frame ? await frame.evaluate(() => document.body?.textContent ?? "").catch(() => "") : "";
    // Chromium replaces a frame refused by frame-ancestors with its own error page.
    expect(frame?.url()).toMatch(/^chrome-error:/);
    expect(text).not.toContain("Find your MP");
    // No resize and no messages came through.
    expect(await frameHeight(page)).toBe(640);
    await shot(page, "widget-07-refused");
    await page.close();
  });

  it("shows a clear message inside the frame for an unknown partner key", async () => {
    const site = await startSite(() => hostPage(app.url, 'data-partner="no-such-partner"'));
    try {
      const page = await browser.newPage();
      await page.goto(`${site.origin}/`);
      const frame = await embedFrame(page);
      await expect.poll(() => frame.locator("h1").textContent()).toBe("This form isn't available here");
      expect(await frame.locator("main").textContent()).toContain("data-partner");
      await expectAccessible(frame, "embed unknown partner");
      await shot(page, "widget-08-unknown-partner");
      await page.close();
    } finally {
      await site.close();
    }
  });
});
