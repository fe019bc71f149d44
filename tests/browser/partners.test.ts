/**
 * Partners in a real browser (Chromium): a contact accepts the emailed invitation, signs in and
 * uses every partner page (axe on each); the widget's off-switch leaves the host page untouched
 * (no frame, no error, nothing in the console); the widget in Welsh with the consent box.
 */
import type { Browser, ConsoleMessage, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { inviteContact } from "../../src/modules/partners/partners.accounts";
import { savePartner } from "../../src/modules/widget/widget.service";
import {
  expectAccessible,
  launchBrowser,
  linkIn,
  shot,
  startAppServer,
  startSite,
  type TestServer,
} from "../support/browser";
import { startReceiver } from "../support/receiver";

const SLOW = 90_000;
let browser: Browser;
let app: TestServer;
let site: Awaited<ReturnType<typeof startSite>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let attrs = 'data-partner="acme"';

beforeAll(async () => {
  [browser, app, receiver] = await Promise.all([
    launchBrowser(),
    startAppServer({ WEBHOOK_ALLOW_PRIVATE: "on" }),
    startReceiver(),
  ]);
  site = await startSite(
    () => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme Family Charity</title><link rel="icon" href="data:,"></head>
<body><h1>Acme Family Charity</h1><main id="speakup"></main>
<script src="${app.url}/widget.js" ${attrs} async></script></body></html>`,
  );
  await savePartner(app.deps, {
    key: "acme",
    name: "Acme Family Charity",
    allowedOrigins: [site.origin],
    active: true,
  });
});
afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), site?.close(), receiver?.close()]);
});

/** Everything the host page would show a developer: uncaught errors and console errors. */
function watch(page: Page) {
  const problems: string[] = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m: ConsoleMessage) => {
    if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
  });
  return problems;
}

async function embedFrame(page: Page): Promise<Frame> {
  await page.waitForSelector("iframe");
  let frame: Frame | undefined;
  await expect.poll(() => (frame = page.frames().find((f) => f.url().includes("/embed")))).toBeTruthy();
  return frame as Frame;
}

describe("partner pages in Chromium", () => {
  it(
    "a contact accepts the invitation, signs in, and uses results, widget, supporters and webhooks pages",
    async () => {
      await inviteContact(app.deps, {
        partnerKey: "acme",
        email: "pat@acme.example",
        invitedBy: { id: "lead", email: "lead@speakup.invalid" },
      });
      await drainOutbox(app.deps);
      const mail = await app.mailTo("pat@acme.example");
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      await page.goto(linkIn(mail?.text, `${app.url}/partner/invite?token=`));
      await expectAccessible(page, "invitation");
      await page.getByLabel("Password", { exact: true }).fill("short");
      await page.getByRole("button", { name: "Create my account" }).click();
      await expect
        .poll(() => page.locator(".error-summary").textContent())
        .toContain("at least 12 characters");
      await expectAccessible(page, "invitation with errors");
      await page.getByLabel("Password", { exact: true }).fill("correct horse battery partner");
      await page.getByLabel("The same password again").fill("correct horse battery partner");
      await page.getByRole("button", { name: "Create my account" }).click();
      await expect.poll(() => page.locator("h1").textContent()).toBe("Your account is ready");
      await page.getByRole("link", { name: "Sign in" }).click();
      await page.getByLabel("Email address").fill("pat@acme.example");
      await page.getByLabel("Password").fill("correct horse battery partner");
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect.poll(() => page.locator("h1").textContent()).toBe("Your results");
      await expectAccessible(page, "partner results");
      await shot(page, "partner-01-results");

      await page.getByRole("link", { name: "Widget" }).click();
      await expect.poll(() => page.locator("h1").textContent()).toBe("Your widget");
      expect(await page.locator("#snippet").inputValue()).toContain('data-partner="acme"');
      await page.getByLabel("Button and link colour (optional)").fill("#ffdd00");
      await page.getByRole("button", { name: "Save settings" }).click();
      await expect.poll(() => page.locator(".error-summary").textContent()).toContain("too light");
      await expectAccessible(page, "partner widget with an error");
      await page.getByLabel("Button and link colour (optional)").fill("#0b6e4f");
      await page.getByLabel("Cymraeg (Welsh)").check();
      await page.getByRole("button", { name: "Save settings" }).click();
      await expect.poll(() => page.locator("[role=status]").first().textContent()).toContain("Saved");
      await expectAccessible(page, "partner widget");
      await shot(page, "partner-02-widget");

      await page.getByRole("link", { name: "Supporters" }).click();
      await expect.poll(() => page.locator("h1").textContent()).toBe("Supporters who asked to hear from you");
      await expectAccessible(page, "partner supporters");

      await page.getByRole("link", { name: "Webhooks", exact: true }).click();
      await page.getByLabel("Your endpoint's address").fill(receiver.url);
      await page.getByRole("button", { name: "Save webhook" }).click();
      await expect.poll(() => page.locator("[role=status]").first().textContent()).toContain("Saved");
      await page.getByRole("button", { name: "Send a test event" }).click();
      await expect
        .poll(() => page.locator("[role=status]").first().textContent())
        .toContain("Test event delivered");
      expect(receiver.received.at(-1)?.headers["webhook-signature"]).toMatch(/^v1,/);
      await expectAccessible(page, "partner webhooks");
      await shot(page, "partner-03-webhooks");
      await page.close();
      // Put the widget back in English for the other tests.
      await savePartner(app.deps, {
        key: "acme",
        name: "Acme Family Charity",
        allowedOrigins: [site.origin],
        active: true,
      });
      app.sqlite.prepare("update partners set lang = 'en', accent = null where key = 'acme'").run();
    },
    SLOW,
  );
});

describe("published notes", () => {
  it(
    "the widget security note and the webhook verification page are readable and accessible",
    async () => {
      const page = await browser.newPage();
      await page.goto(`${app.url}/widget/security`);
      expect(await page.locator("h1").textContent()).toContain("security note");
      expect(await page.locator("main").textContent()).toContain("frame-ancestors");
      await expectAccessible(page, "widget security note");
      await page.goto(`${app.url}/docs/webhooks`);
      expect(await page.locator("main").textContent()).toContain("webhook-signature");
      await expectAccessible(page, "webhook verification");
      await page.close();
    },
    SLOW,
  );
});

describe("the widget on a partner's page", () => {
  it(
    "switched off, shows nothing and puts nothing in the host page's console; switched on, appears",
    async () => {
      app.sqlite.prepare("update partners set embed_enabled = 0 where key = 'acme'").run();
      const page = await browser.newPage();
      const problems = watch(page);
      const asked = page.waitForResponse((r) => r.url().endsWith("/api/widget/acme"));
      await page.goto(`${site.origin}/`);
      expect(await (await asked).json()).toEqual({ enabled: false, reason: "off" });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0))));
      expect(await page.locator("iframe").count()).toBe(0);
      expect(await page.locator("h1").textContent()).toBe("Acme Family Charity");
      expect(problems).toEqual([]);
      await page.close();

      app.sqlite.prepare("update partners set embed_enabled = 1 where key = 'acme'").run();
      const again = await browser.newPage();
      const problemsOn = watch(again);
      await again.goto(`${site.origin}/`);
      const frame = await embedFrame(again);
      await expect.poll(() => frame.locator("h1").textContent()).toBe("Find your MP");
      expect(problemsOn).toEqual([]);
      await again.close();
    },
    SLOW,
  );

  it(
    "a malformed key, or a campaign server that can't be reached, leaves the host page as it was, without errors",
    async () => {
      const page = await browser.newPage();
      const problems = watch(page);
      const other = await startSite(
        () => `<!doctype html><html lang="en"><head><title>x</title><link rel="icon" href="data:,"></head><body><h1>Host</h1>
<script src="${app.url}/widget.js" data-partner="Not A Key" async></script>
<script src="${app.url}/widget.js" data-partner="" async></script></body></html>`,
      );
      const loaded = page.waitForResponse((r) => r.url().endsWith("/widget.js"));
      await page.goto(`${other.origin}/`);
      await loaded;
      await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
      expect(await page.locator("iframe").count()).toBe(0);
      expect(problems).toEqual([]);
      await page.close();
      // The server gone: the loader's question fails, and nothing shows (the failed request is
      // the browser's own network message, not an error thrown on the page).
      const offline = await browser.newPage();
      const thrown: string[] = [];
      offline.on("pageerror", (e) => thrown.push(e.message));
      await offline.route(`${app.url}/api/widget/**`, (route) => route.abort("connectionrefused"));
      await offline.goto(`${site.origin}/`);
      await offline.evaluate(() => new Promise((r) => setTimeout(r, 100)));
      expect(await offline.locator("iframe").count()).toBe(0);
      expect(thrown).toEqual([]);
      await offline.close();
      await other.close();
    },
    SLOW,
  );

  it(
    "in Welsh from data-lang, opening on the pledge form with the box naming the partner, unticked",
    async () => {
      attrs = 'data-partner="acme" data-lang="cy" data-start="pledge" data-target="#speakup"';
      const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
      const problems = watch(page);
      await page.goto(`${site.origin}/`);
      const frame = await embedFrame(page);
      expect(await page.locator("#speakup iframe").count()).toBe(1);
      await expect.poll(() => frame.locator("h1").textContent()).toBe("Gwneud addewid #SpeakUpForBabies");
      expect(await frame.evaluate(() => document.documentElement.lang)).toBe("cy");
      expect(await page.$eval("iframe", (f) => f.title)).toBe("Ysgrifennu at eich AS: #SpeakUpForBabies");
      const box = frame.getByLabel(/Ydw, caiff Acme Family Charity gysylltu â mi/);
      expect(await box.isChecked()).toBe(false);
      await expectAccessible(frame, "Welsh pledge form with the partner's box");
      await shot(page, "partner-04-welsh-pledge");
      await frame.getByLabel("Enw llawn").fill("Ffion Jones");
      await frame.getByLabel("Cyfeiriad e-bost").fill("ffion@example.org");
      await frame.getByLabel("Cod post").fill("ZZ9 9ZZ");
      await frame.getByLabel(/^Rwy'n addo/).check();
      await box.check();
      await frame.getByRole("button", { name: "Gwneud fy addewid" }).click();
      await expect.poll(() => frame.locator("h1").textContent()).toBe("Gwiriwch eich e-bost");
      const consent = app.sqlite
        .prepare(
          "select partner_key p, source s, confirmed_at c from partner_consents where email_norm = 'ffion@example.org'",
        )
        .get();
      expect(consent).toEqual({ p: "acme", s: "pledge", c: null });
      expect(problems).toEqual([]);
      await page.close();
      attrs = 'data-partner="acme"';
    },
    SLOW,
  );
});
