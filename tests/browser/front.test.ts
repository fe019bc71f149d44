/**
 * The front page on a phone (390 x 844), as a parent arriving from a share link would use it:
 * the campaign and the postcode finder in the first screen, a pledge made without any lookup
 * first, confirmed from the email, and counted on the front page, all with JavaScript switched
 * off; axe on every page. Screenshots in test-results/screenshots/front-*.png.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import {
  expectAccessible,
  launchBrowser,
  linkIn,
  shot,
  startAppServer,
  type TestServer,
} from "../support/browser";

let browser: Browser;
let app: TestServer;
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startAppServer()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/**
 * Axe + screenshot for a page seen without JavaScript. axe itself needs a script (and timers)
 * to run, so it checks the same document, served from our origin, in a page that has them.
 */
async function step(page: Page, name: string) {
  await shot(page, `front-${name}`);
  const checker = await browser.newPage(PHONE);
  try {
    await checker.goto(`${app.url}/healthz`);
    await checker.setContent(await page.content(), { waitUntil: "load" });
    await expectAccessible(checker, name);
  } finally {
    await checker.close();
  }
}

// Browser steps on a busy 2-core machine: generous, and every wait is on an event, never a sleep.
describe("the front page on a phone, without JavaScript", { timeout: 90_000 }, () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext({ ...PHONE, javaScriptEnabled: false });
  });
  afterAll(async () => context?.close());

  it("shows the campaign and the postcode finder in the first screen, and finds the MP", async () => {
    const page = await context.newPage();
    await page.goto(`${app.url}/`);
    await step(page, "01-home");
    const heading = await page.locator("h1").boundingBox();
    const finder = await page.getByRole("button", { name: "Find my MP" }).boundingBox();
    expect(heading?.y ?? 999).toBeLessThan(PHONE.viewport.height);
    // The first thing to do is on the first screen, without scrolling.
    expect((finder?.y ?? 999) + (finder?.height ?? 0)).toBeLessThanOrEqual(PHONE.viewport.height);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.getByRole("img", { name: /parent holding a baby/ }).count()).toBe(1);
    await page.getByLabel("Your postcode").fill("ZZ9 9ZZ");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Your MP");
    await page.close();
  });

  it("takes a pledge without a lookup first, confirmed from the email, and counts it on the front page", async () => {
    const page = await context.newPage();
    await page.goto(`${app.url}/`);
    const pledges = async () =>
      Number((await page.locator('[data-figure="pledges"] strong').textContent())?.replace(/\D/g, ""));
    const before = await pledges();
    // A mistake first: the messages are linked to the fields, and what was typed stays.
    await page.getByLabel("Full name").fill("Priya Parent");
    await page.getByRole("button", { name: "Make my pledge" }).click();
    await expect
      .poll(() => page.locator(".error-summary").textContent())
      .toContain("Tick the box to make your pledge");
    expect(await page.getByLabel("Full name").inputValue()).toBe("Priya Parent");
    await step(page, "02-pledge-error");
    await page.getByLabel("Email address").fill("priya@example.org");
    await page.getByLabel("Postcode", { exact: true }).fill("LS1 1AZ");
    await page.getByLabel(/I pledge to #SpeakUpForBabies/).check();
    await page.getByRole("button", { name: "Make my pledge" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check your email");
    await step(page, "03-pledge-check-email");
    // The outbox worker's pass, then the supporter's inbox (captured mail), the link, the button.
    await drainOutbox(app.deps);
    const link = linkIn((await app.mailTo("priya@example.org"))?.text, `${app.url}/pledge/confirm`);
    await page.goto(link);
    await page.getByRole("button", { name: "Confirm my pledge" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Thank you for pledging");
    await step(page, "04-pledge-confirmed");
    await page.goto(`${app.url}/`);
    expect(await pledges()).toBe(before + 1);
    await page.close();
  });
});
