/**
 * HOSTILE 21: the embed can be framed only by the partner's own origins (CSP frame-ancestors);
 * CORS answers only a partner's exact origin (never a look-alike); and in a real browser the
 * loader ignores postMessage from any other origin, and malformed messages.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { savePartner } from "../../src/modules/widget/widget.service";
import { launchBrowser, startAppServer, startSite, type TestServer } from "../support/browser";
import { hostileApp, PARTNER, pledgeForm } from "./support";

const LOOK_ALIKES = [
  "https://partner.example.evil.com",
  "https://evilpartner.example",
  "http://partner.example",
  "https://partner.example:8443",
  "https://sub.partner.example",
  "null",
];

describe("21: framing and CORS", () => {
  it("frame-ancestors names exactly the partner's origins; the site itself can't be framed", async () => {
    const t = await hostileApp();
    const csp = (await t.page(`/embed?partner=${PARTNER.key}`)).headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/frame-ancestors https:\/\/partner\.example(;|$)/);
    for (const o of LOOK_ALIKES) expect(csp).not.toContain(` ${o}`);
    // A mistyped key gets an explanation any page may show: it holds no form and no data.
    const unknown = await t.page("/embed?partner=nobody");
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).not.toContain("<form");
    expect((await t.page("/")).headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  it("CORS: the partner's exact origin is allowed; look-alikes get no Access-Control-Allow-Origin", async () => {
    const t = await hostileApp();
    const preflight = (origin: string) =>
      t.request("/api/pledges", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type",
        },
      });
    expect(
      (await preflight(PARTNER.allowedOrigins[0] as string)).headers.get("access-control-allow-origin"),
    ).toBe("https://partner.example");
    for (const origin of LOOK_ALIKES) {
      expect((await preflight(origin)).headers.get("access-control-allow-origin"), origin).toBeNull();
      const res = await t.post("/api/pledges", pledgeForm({ email: `x${origin.length}@example.org` }), {
        origin,
      });
      expect(res.headers.get("access-control-allow-origin"), origin).toBeNull();
    }
  });
});

describe("21: postMessage in a real browser", () => {
  let browser: Browser;
  let app: TestServer;
  let site: Awaited<ReturnType<typeof startSite>>;
  beforeAll(async () => {
    [browser, app] = await Promise.all([launchBrowser(), startAppServer()]);
    site = await startSite(
      () => `<!doctype html><html lang="en"><head><title>Partner</title></head><body>
<script>window.completions = []; window.addEventListener("speakup:submitted", function (e) { window.completions.push(e.detail); });</script>
<script src="${app.url}/widget.js" data-partner="acme" async></script></body></html>`,
    );
    await savePartner(app.deps, { key: "acme", name: "Acme", allowedOrigins: [site.origin], active: true });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([app?.close(), site?.close()]);
  });

  it("messages from another origin, or malformed ones, neither resize the frame nor fire the event", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${site.origin}/`);
      await page.waitForSelector("iframe");
      // Wait until the frame has fitted itself to its content (the real frame's messages work).
      const fitted = async () => page.$eval("iframe", (f) => (f as HTMLIFrameElement).style.height);
      await expect.poll(fitted, { timeout: 15_000 }).not.toBe("640px");
      const before = await fitted();
      // The host page's own origin is not ours: a forged resize and completion, and junk.
      await page.evaluate(() => {
        const forged: unknown[] = [
          { type: "speakup:resize", height: 3 },
          { type: "speakup:submitted", action: "letter" },
          "speakup:resize",
          null,
          { type: "speakup:resize", height: "1e9" },
          { type: { toString: null } },
        ];
        for (const m of forged) window.postMessage(m, "*");
        // From inside a frame of another origin too: a srcdoc frame is an opaque origin.
        const evil = document.createElement("iframe");
        evil.srcdoc = `<script>parent.postMessage({ type: "speakup:resize", height: 7 }, "*");
          parent.postMessage({ type: "speakup:submitted", action: "pledge" }, "*");</script>`;
        document.body.appendChild(evil);
        return new Promise((loaded) => evil.addEventListener("load", loaded));
      });
      // A round trip through the page's own message queue: the forged messages have been handled.
      await page.evaluate(
        () =>
          new Promise((done) => {
            window.addEventListener("message", function once(e) {
              if (e.data === "flush") {
                window.removeEventListener("message", once);
                done(null);
              }
            });
            window.postMessage("flush", "*");
          }),
      );
      expect(await fitted()).toBe(before);
      expect(
        await page.evaluate(() => (window as unknown as { completions: unknown[] }).completions),
      ).toEqual([]);
    } finally {
      await page.close();
    }
  }, 60_000);
});
