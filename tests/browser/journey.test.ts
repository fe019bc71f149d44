/**
 * The supporter journey in a real browser (Chromium), from postcode to a captured letter, with
 * axe-core on every page and a screenshot of every step in test-results/screenshots/.
 */
import { eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capturedMail, letters, supporterPledges } from "../../src/db/schema";
import { signToken } from "../../src/lib/tokens";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { FOLLOWUP_PURPOSE } from "../../src/modules/letters/letters.emails";
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

const step = journeyStep("journey");

// Browser steps on a busy 2-core machine: generous, and every wait is on an event, never a sleep.
describe("supporter journey in Chromium", { timeout: 90_000 }, () => {
  it("goes from a postcode to a confirmed letter in the outbox, keeping input through errors", async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${app.url}/`);
    await step(page, "01-postcode");

    // A malformed postcode: error summary linked to the field, input kept, focus on the summary.
    await page.getByLabel("Your postcode").fill("12345");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.className)).toBe("error-summary");
    expect(await page.getByLabel("Your postcode").inputValue()).toBe("12345");
    expect(await page.getByLabel("Your postcode").getAttribute("aria-invalid")).toBe("true");
    await page.locator(".error-summary a").click();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("postcode");
    await step(page, "02-postcode-error");

    await page.getByLabel("Your postcode").fill("zz99zz");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Your MP");
    await step(page, "03-your-mp");

    await page.getByRole("link", { name: /^Write to Test MP/ }).click();
    await page
      .getByLabel("Your own words")
      .fill("Our health visitor noticed my son's reflux early. Every family should have that.");
    await page.getByRole("button", { name: "Preview my letter" }).click();
    // No ask chosen: the story survives the error.
    await expect
      .poll(() => page.locator(".error-summary").textContent())
      .toContain("Choose at least one ask");
    expect(await page.getByLabel("Your own words").inputValue()).toContain("reflux early");
    await step(page, "04-write-error");

    await page.getByLabel("Put money into prevention").check();
    await page.getByLabel("Enough trained people to care for babies").check();
    await shot(page, "journey-05-write");
    await page.getByRole("button", { name: "Preview my letter" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check and edit your letter");
    const body = page.getByLabel("Your letter");
    expect(await body.inputValue()).toContain("reflux early");
    await body.fill(`${await body.inputValue()}\n\nPS: I will be at your surgery on Friday.`);
    await step(page, "06-preview");

    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Your details");
    await page.getByLabel("Email address", { exact: true }).fill("sam.journey@example.org");
    await page.getByLabel("Address line 1").fill("1 Test Street");
    await page.getByLabel("Town or city").fill("Testtown");
    await page.getByRole("button", { name: "Send for confirmation" }).click();
    // Missing name and agreement: both listed, the rest kept.
    await expect.poll(() => page.locator(".error-summary li").count()).toBe(2);
    expect(await page.getByLabel("Email address", { exact: true }).inputValue()).toBe(
      "sam.journey@example.org",
    );
    expect(await page.getByLabel("Town or city").inputValue()).toBe("Testtown");
    await step(page, "07-details-error");

    await page.getByLabel("Full name").fill("Sam Journey");
    await page.getByLabel(/^Send my letter/).check();
    await page.getByLabel(/^I pledge/).check();
    await shot(page, "journey-08-details");
    await page.getByRole("button", { name: "Send for confirmation" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check your email");
    expect(await page.locator(".panel").textContent()).toContain("sam.journey@example.org");
    expect(await page.locator(".share-links a").count()).toBeGreaterThanOrEqual(4);
    await step(page, "09-check-email");

    // The letter waits for confirmation; the pledge was made too (no partner on the site).
    const [letter] = await app.deps.db
      .select()
      .from(letters)
      .where(eq(letters.supporterEmail, "sam.journey@example.org"));
    expect(letter?.status).toBe("awaiting_confirmation");
    expect(letter?.partnerKey).toBeNull();
    expect(letter?.body).toContain("PS: I will be at your surgery on Friday.");
    // The text went through a <textarea> and hidden fields unchanged (no added indentation).
    expect(letter?.body).toMatch(/^Our health visitor noticed my son's reflux early/m);
    expect(letter?.asks).toEqual(["prevention", "workforce"]);
    const [pledge] = await app.deps.db
      .select()
      .from(supporterPledges)
      .where(eq(supporterPledges.emailNorm, "sam.journey@example.org"));
    expect(pledge?.status).toBe("unconfirmed");

    // The confirmation email, as captured, and its link (the pledge's confirm email went too).
    await drainOutbox(app.deps);
    const confirmMail = await app.mailTo("sam.journey@example.org", "/letters/confirm?token=");
    await page.goto(linkIn(confirmMail?.text, `${app.url}/letters/confirm?token=`));
    await step(page, "10-confirm");
    await page.getByRole("button", { name: "Send my letter" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toContain("Thank you");
    await step(page, "11-confirmed");

    // The outbox sends it: captured (MAIL_MODE=capture), addressed to the test MP's address.
    await drainOutbox(app.deps);
    const [sent] = await app.deps.db
      .select()
      .from(letters)
      .where(eq(letters.id, letter?.id ?? ""));
    expect(sent?.status).toBe("sent");
    // The test MP's mail comes back to the sender: the letter itself, with the edit and address.
    const [captured] = await app.deps.db
      .select()
      .from(capturedMail)
      .where(eq(capturedMail.subject, sent?.subject ?? ""));
    expect(captured?.toHeader).toContain("sam.journey@example.org");
    expect(captured?.text).toContain("PS: I will be at your surgery on Friday.");
    expect(captured?.text).toContain("1 Test Street");

    // Confirmed: now the share links may say so.
    const whatsapp = await page.getByRole("link", { name: /WhatsApp/ }).getAttribute("href");
    expect(decodeURIComponent(whatsapp ?? "")).toContain("I've written to my MP");
    await page.goto(`${app.url}/thanks`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Thank you for speaking up for babies");
    await step(page, "12-thanks");

    // The follow-up survey, from the link the follow-up email carries.
    const token = await signToken(app.deps.config, {
      purpose: FOLLOWUP_PURPOSE,
      subject: letter?.id ?? "",
      expiresAt: app.clock.now() + 86_400_000,
    });
    await page.goto(`${app.url}/letters/followup?token=${token}`);
    await step(page, "13-followup");
    await page.getByLabel("Yes, they replied").check();
    await page.getByText("If they replied: what did they say?").click();
    await page
      .getByLabel("Paste their reply")
      .fill("Thank you for your letter. I will raise this with the minister.");
    await page
      .getByRole("group", { name: /Put money into prevention/ })
      .getByLabel("Supports it")
      .check();
    await page.getByRole("button", { name: "Save my answer" }).click();
    await expect.poll(() => page.locator("main").textContent()).toContain("recorded your answer");
    await step(page, "14-followup-answered");
    const [answered] = await app.deps.db
      .select()
      .from(letters)
      .where(eq(letters.id, letter?.id ?? ""));
    expect(answered?.replyAnswer).toBe("yes");
    await page.close();
  });

  it("finds a constituency by name for people who don't know their postcode", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/`);
    await page.getByText("Don't know your postcode?").click();
    await page.getByLabel("Constituency or town name").fill("Aldersh");
    await page.getByRole("button", { name: "Search" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toContain("Aldersh");
    expect(await page.locator(".seat h2").first().textContent()).toBe("Aldershot");
    await step(page, "14-search");
    // A real seat from a local postcode, out of the box: its MP (a by-election winner) can be written to.
    await page.goto(`${app.url}/find?postcode=AB11+6EW`);
    expect(await page.locator(".seat h2").textContent()).toBe("Aberdeen South");
    expect(await page.getByRole("link", { name: "Write to Douglas Lumsden" }).count()).toBe(1);
    await step(page, "14b-real-seat");
    // An MP Parliament publishes no address for: no write button, a reason and their official page.
    await page.goto(`${app.url}/find?postcode=BT47+2GD`);
    expect(await page.locator(".seat h2").textContent()).toBe("West Tyrone");
    expect(await page.locator(".seat .note").textContent()).toContain("can't send a letter");
    expect(await page.getByRole("link", { name: "their official contact page" }).getAttribute("href")).toBe(
      "https://members.parliament.uk/member/4697/contact",
    );
    expect(await page.getByRole("link", { name: /^Write to/ }).count()).toBe(0);
    await step(page, "14c-no-address");
    await page.close();
  });

  it("takes a postcode as people type it: half of one, or one that has closed", async () => {
    const page = await browser.newPage();
    await page.goto(`${app.url}/`);
    await page.getByLabel("Your postcode").fill("g78");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Which constituency is yours?");
    await step(page, "15-outcode");
    await page.getByLabel(/Paisley and Renfrewshire South/).check();
    await page.getByRole("button", { name: "This is my constituency" }).click();
    await expect.poll(() => page.locator(".seat h2").textContent()).toBe("Paisley and Renfrewshire South");
    await step(page, "15b-outcode-chosen");
    await page.getByLabel("Your full postcode").fill("G78 1TW");
    await page.getByRole("button", { name: "Continue" }).click();
    await expect.poll(() => page.getByRole("link", { name: "Write to Johanna Baxter" }).count()).toBe(1);

    await page.goto(`${app.url}/`);
    await page.getByLabel("Your postcode").fill("AB10 1HQ");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await expect
      .poll(() => page.locator("#closed-postcode").textContent())
      .toContain("It was in Aberdeen South");
    await step(page, "16-closed-postcode");
    await page.getByRole("link", { name: "Yes, I still live in Aberdeen South" }).click();
    await page.getByRole("link", { name: "Write to Douglas Lumsden" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toContain("Douglas Lumsden");
    await page.close();
  });

  it("works with JavaScript switched off, through to the check-your-email page", async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${app.url}/`);
    await page.getByLabel("Your postcode").fill("ZZ9 9ZZ");
    await page.getByRole("button", { name: "Find my MP" }).click();
    await page.getByRole("link", { name: /^Write to Test MP/ }).click();
    await page.getByLabel("A fair start for every baby").check();
    await page.getByRole("button", { name: "Preview my letter" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByLabel("Full name").fill("Noor Nojs");
    await page.getByLabel("Email address", { exact: true }).fill("noor.nojs@example.org");
    await page.getByLabel("Address line 1").fill("2 Quiet Lane");
    await page.getByLabel("Town or city").fill("Testtown");
    await page.getByLabel(/^Send my letter/).check();
    await page.getByRole("button", { name: "Send for confirmation" }).click();
    await expect.poll(() => page.locator("h1").textContent()).toBe("Check your email");
    await shot(page, "journey-15-no-js-done");
    const [letter] = await app.deps.db
      .select()
      .from(letters)
      .where(eq(letters.supporterEmail, "noor.nojs@example.org"));
    expect(letter?.status).toBe("awaiting_confirmation");
    await context.close();
  });
});
