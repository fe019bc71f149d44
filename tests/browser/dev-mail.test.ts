/**
 * /dev/mail in Chromium: links to this site are clickable, and a letter with a very long word (or
 * a long token in a link) wraps instead of making the page thousands of pixels wide.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { submitLetter } from "../../src/modules/letters/letters.service";
import { expectAccessible, launchBrowser, shot, startAppServer, type TestServer } from "../support/browser";

let browser: Browser;
let app: TestServer;

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startAppServer()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe("captured mail in a browser", () => {
  it("fits the window with long lines and opens a confirm link with one click", async () => {
    await submitLetter(app.deps, {
      recipient: { kind: "mp" },
      asks: ["prevention"],
      story: `A very long word follows: ${"w".repeat(3000)} and then the end.`,
      supporter: {
        name: "Ada Lovelace",
        email: "ada@example.org",
        address: { line1: "1 Test Street", town: "Testtown", postcode: "ZZ9 9ZZ" },
      },
    });
    await drainOutbox(app.deps);
    for (const width of [390, 1280]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(`${app.url}/dev/mail`);
      expect(await page.locator("h1").textContent()).toBe("Captured mail");
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `page is ${overflow}px wider than a ${width}px window`).toBeLessThanOrEqual(0);
      if (width === 390) {
        await expectAccessible(page, "dev mail");
        await shot(page, "dev-mail-390");
        await page.locator('a[href*="/letters/confirm?token="]').first().click();
        await expect.poll(() => page.locator("h1").textContent()).toBe("Confirm your letter");
      }
      await page.close();
    }
  });
});
