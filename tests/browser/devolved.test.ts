/**
 * A Scottish supporter's journey in a real browser (Chromium): postcode -> their MP and MSPs ->
 * one letter per parliament with the asks it can act on -> one confirmation -> the letters
 * captured, addressed to the MP and the two MSPs. axe-core on every page, a screenshot of every
 * step in test-results/screenshots/. Offline (REMOTE_LOOKUP=off): EH1 2NG's Holyrood constituency
 * is in data/devolved/postcode-areas.csv.
 */
import { eq, like } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedMail, letters } from "../../src/db/schema";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import {
  journeyStep,
  launchBrowser,
  linkIn,
  shot,
  startAppServer,
  type TestServer,
} from "../support/browser";

let browser: Browser;
let app: TestServer;

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startAppServer()]);
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const step = journeyStep("devolved");

describe("a Scottish supporter in Chromium", () => {
  it("writes to their MP and two MSPs, each about what their parliament decides, and confirms them all with one click", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${app.url}/`);
    await page.getByLabel("Your postcode").fill("EH1 2NG");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await expect.poll(() => page.locator(".seat h2").textContent()).toBe("Edinburgh East and Musselburgh");
    expect(await page.locator(".devolved").textContent()).toContain("Edinburgh Central");
    expect(await page.locator(".devolved").textContent()).toContain("Lorna Slater");
    await step(page, "01-result");

    await page.getByRole("link", { name: "Write to your MP and MSPs" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Write to the people who can act");
    // The MP and the constituency MSP are ticked; no regional MSP until one is chosen.
    expect(await page.getByLabel(/Chris Murray .*your MP/).isChecked()).toBe(true);
    expect(await page.getByLabel(/Lorna Slater .*your constituency MSP/).isChecked()).toBe(true);
    expect(await page.getByLabel("No regional MSP").isChecked()).toBe(true);
    // Who can act on each ask, in Scotland.
    expect(await page.locator("#ask-prevention-who").textContent()).toContain("Scottish Parliament");
    expect(await page.locator("#ask-prevention-who").textContent()).not.toContain("UK Parliament");
    await step(page, "02-write");

    // No ask: the choice of people survives the error.
    const regional = page.locator('input[name="regional"]:not([value=""]):not([disabled])').first();
    await regional.check();
    const regionalName = (
      (await page.locator(`label[for="${await regional.getAttribute("id")}"]`).textContent()) ?? ""
    )
      .replace(/ \(.*$/, "")
      .trim();
    await page.getByRole("button", { name: "Preview my letters" }).click();
    await expect
      .poll(() => page.locator(".error-summary").textContent())
      .toContain("Choose at least one ask");
    expect(await regional.isChecked()).toBe(true);
    await step(page, "03-write-error");

    await page.getByLabel("Put money into prevention").check();
    await page.getByLabel(/^Tax, benefits and leave/).check();
    await page
      .getByLabel(/^Your own words/)
      .fill("Our health visitor in Leith was a lifeline when our twins arrived.");
    await page.getByRole("button", { name: "Preview my letters" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check and edit your letters");
    // The MP's letter carries the Westminster ask only; the MSPs' letter both.
    const mpLetter = page.getByLabel("Your letter to your MP", { exact: true });
    expect(await mpLetter.inputValue()).toContain("Tax, benefits and leave");
    expect(await mpLetter.inputValue()).not.toContain("Put money into prevention");
    const mspLetter = page.getByLabel("Your letter to your MSPs", { exact: true });
    expect(await mspLetter.inputValue()).toContain("Put money into prevention");
    expect(await mspLetter.inputValue()).toContain("lifeline");
    await mspLetter.fill(
      `${await mspLetter.inputValue()}\n\nPS: I would welcome a reply about health visiting in Edinburgh.`,
    );
    await step(page, "04-preview");

    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Your details");
    await page.getByLabel("Full name").fill("Eilidh Journey");
    await page.getByLabel("Email address", { exact: true }).fill("eilidh.journey@example.org");
    await page.getByLabel("Address line 1").fill("2 Royal Mile");
    await page.getByLabel("Town or city").fill("Edinburgh");
    await page.getByLabel(/^Send my letters/).check();
    await step(page, "05-details");
    await page.getByRole("button", { name: "Send for confirmation" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check your email");
    expect(await page.locator(".panel").textContent()).toContain(
      `Chris Murray MP, Lorna Slater MSP and ${regionalName} MSP`,
    );
    await step(page, "06-check-email");

    const written = await app.deps.db
      .select()
      .from(letters)
      .where(eq(letters.supporterEmail, "eilidh.journey@example.org"));
    expect(written.map((l) => [l.recipientKind, l.status, l.asks])).toEqual([
      ["mp", "awaiting_confirmation", ["families"]],
      ["msp", "awaiting_confirmation", ["prevention", "families"]],
      ["msp", "awaiting_confirmation", ["prevention", "families"]],
    ]);

    // One confirmation email; its link confirms all three.
    await drainOutbox(app.deps);
    const confirms = await app.deps.db
      .select()
      .from(capturedMail)
      .where(like(capturedMail.toHeader, "%eilidh.journey@example.org%"));
    expect(confirms).toHaveLength(1);
    await page.goto(linkIn(confirms[0]?.text, `${app.url}/letters/confirm?token=`));
    expect(await page.locator(".letter-copy").count()).toBe(3);
    await step(page, "07-confirm");
    await page.getByRole("button", { name: "Send my letters" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toContain("Thank you, your letters");
    await step(page, "08-confirmed");

    await drainOutbox(app.deps);
    const toLorna = await app.mailTo("Lorna.Slater.msp@parliament.scot");
    expect(toLorna?.text).toMatch(/^Dear Lorna Slater MSP,/);
    expect(toLorna?.text).toContain("PS: I would welcome a reply about health visiting in Edinburgh.");
    expect(toLorna?.text).toContain("2 Royal Mile\nEdinburgh\nEH1 2NG");
    const toMp = await app.mailTo("chris.murray.mp@parliament.uk");
    expect(toMp?.text).toMatch(/^Dear Chris Murray,/);
    expect(toMp?.text).not.toContain("PS: I would welcome");
    const sent = await app.deps.db
      .select({ status: letters.status })
      .from(letters)
      .where(eq(letters.supporterEmail, "eilidh.journey@example.org"));
    expect(sent.map((l) => l.status)).toEqual(["sent", "sent", "sent"]);
    await page.close();
  });
});
