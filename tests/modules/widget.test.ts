/**
 * Widget over app.request: the loader, per-partner framing and CORS, theme limits, the embed
 * journey's partner carry-through, and partner management behind the admin sign-in.
 */
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import {
  contrastWithWhite,
  getPartner,
  savePartner,
  usableAccent,
} from "../../src/modules/widget/widget.service";
import { adminApp } from "../support/admin";
import { expectStatus, testApp } from "../support/deps";

const PARTNER_ORIGIN = "https://www.acme-charity.example";
const html = { headers: { accept: "text/html" } };

async function widgetApp() {
  const t = testApp({ REMOTE_LOOKUP: "off" });
  await ensureTestSeat(t.deps);
  await savePartner(t.deps, {
    key: "acme",
    name: "Acme",
    allowedOrigins: [PARTNER_ORIGIN, "http://127.0.0.1:8080"],
    active: true,
  });
  return t;
}

describe("widget loader", () => {
  it("serves /widget.js as cacheable JavaScript that partners' pages may load, under 5 KB gzipped", async () => {
    const { request } = await widgetApp();
    const res = await request("/widget.js");
    const body = String(await expectStatus(res, 200));
    expect(res.headers.get("content-type")).toContain("text/javascript");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(res.headers.get("cache-control")).toContain("max-age");
    expect(gzipSync(body).length).toBeLessThan(5 * 1024);
    // Exact origin checks on the partner side.
    expect(body).toContain("e.origin !== origin || e.source !== f.contentWindow");
  });
});

describe("embed framing", () => {
  it("lets only the partner's own origins frame the embed", async () => {
    const { request } = await widgetApp();
    const res = await request("/embed?partner=acme", html);
    await expectStatus(res, 200);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`frame-ancestors ${PARTNER_ORIGIN} http://127.0.0.1:8080;`);
    expect(res.headers.get("x-frame-options")).toBeNull();
    // Everything else keeps the site-wide refusal.
    const home = await request("/", html);
    expect(home.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(home.headers.get("x-frame-options")).toBe("SAMEORIGIN");
  });

  it("explains an unknown partner key inside the frame instead of showing the flow", async () => {
    const { request } = await widgetApp();
    const res = await request("/embed?partner=nobody", html);
    const page = String(await expectStatus(res, 404));
    expect(page).toContain("This form isn&#x27;t available here");
    expect(page).not.toContain("<form");
    expect(res.headers.get("content-security-policy")).toContain("frame-ancestors *");
  });

  it("refuses the flow for a partner that has been switched off", async () => {
    const t = await widgetApp();
    await savePartner(t.deps, { key: "acme", name: "Acme", allowedOrigins: [PARTNER_ORIGIN], active: false });
    const page = String(
      await expectStatus(await t.request("/embed/find?postcode=ZZ9+9ZZ&partner=acme", html), 404),
    );
    expect(page).toContain("switched off");
  });

  it("carries the partner and theme through links and forms", async () => {
    const { request } = await widgetApp();
    const page = String(
      await expectStatus(
        await request("/embed/find?postcode=ZZ9+9ZZ&partner=acme&accent=0b6e4f&compact=1", html),
        200,
      ),
    );
    expect(page).toContain(
      'href="/embed/write?postcode=ZZ9%209ZZ&to=mp&amp;partner&#x3D;acme&amp;accent&#x3D;0b6e4f&amp;compact&#x3D;1"',
    );
    expect(page).toContain('class="embed compact"');
    expect(page).toContain(`data-embed-origins="${PARTNER_ORIGIN} http://127.0.0.1:8080"`);
    expect(page).toContain('href="/static/theme.css?accent=0b6e4f"');
  });
});

describe("theme", () => {
  it("keeps only accent colours that white button text stays readable on (WCAG AA 4.5:1)", async () => {
    expect(contrastWithWhite("6b2c91")).toBeGreaterThan(4.5);
    expect(usableAccent("0b6e4f")).toBe("0b6e4f");
    expect(usableAccent("ffdd00")).toBeUndefined();
    const { request } = await widgetApp();
    expect(await expectStatus(await request("/static/theme.css?accent=ffdd00"), 200)).toBe("");
    expect(await expectStatus(await request("/static/theme.css?accent=0b6e4f"), 200)).toBe(
      ":root{--accent:#0b6e4f}",
    );
    expect(await expectStatus(await request("/static/theme.css?accent=red;}body{x"), 200)).toBe("");
  });
});

describe("CORS for partners", () => {
  it("answers API requests from a partner's origin and no other", async () => {
    const { request } = await widgetApp();
    const ok = await request("/api/lookup?postcode=ZZ9+9ZZ", { headers: { origin: PARTNER_ORIGIN } });
    expect(ok.headers.get("access-control-allow-origin")).toBe(PARTNER_ORIGIN);
    const other = await request("/api/lookup?postcode=ZZ9+9ZZ", {
      headers: { origin: "https://evil.example" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await request("/api/letters", {
      method: "OPTIONS",
      headers: { origin: PARTNER_ORIGIN, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(PARTNER_ORIGIN);
  });
});

describe("partner admin", () => {
  it("needs a signed-in campaign lead", async () => {
    const { request } = await widgetApp();
    const res = await request("/admin/partners", { method: "POST", body: new URLSearchParams({ key: "x" }) });
    expect(res.status).toBe(401);
  });

  it("adds a partner with normalised origins and shows its snippet", async () => {
    const t = await adminApp();
    const res = await t.post("/admin/partners", {
      key: "family-hub",
      name: "Family Hub",
      allowedOrigins: "HTTPS://Family-Hub.example:443\nhttp://localhost:8080",
      active: "yes",
    });
    const page = String(await expectStatus(res, 200));
    expect(page).toContain('data-partner="family-hub"');
    expect(await getPartner(t.deps, { key: "family-hub" })).toEqual({
      key: "family-hub",
      name: "Family Hub",
      allowedOrigins: ["https://family-hub.example", "http://localhost:8080"],
      active: true,
    });
  });

  it("rejects an origin with a path and keeps the form", async () => {
    const t = await adminApp();
    const res = await t.post("/admin/partners", {
      key: "hub",
      name: "Hub",
      allowedOrigins: "https://hub.example/page",
    });
    const page = String(await expectStatus(res, 400));
    expect(page).toContain("no path");
    expect(page).toContain("https://hub.example/page");
    expect(await getPartner(t.deps, { key: "hub" })).toBeNull();
  });
});
