/**
 * HOSTILE 20: a POST another site's page can make without asking first (a form, or a text/plain
 * body) is refused with 403 on every route that changes anything, and changes nothing. JSON from
 * another origin needs a CORS preflight, which only partners' origins pass (case 21).
 */
import { describe, expect, it } from "vitest";
import { everyRoute, hostileApp, pledgeForm, SITE } from "./support";

const EVIL = "https://evil.example";

describe("20: cross-site posts", () => {
  it("a form or text/plain POST from another origin is 403 on every route, and nothing changes", async () => {
    const t = await hostileApp();
    const before = t.digest();
    const routes = everyRoute(t.app, ["POST"]).filter((r) => !r.path.startsWith("/webhooks/"));
    expect(routes.length).toBeGreaterThan(25);
    const body = new URLSearchParams({
      ...pledgeForm(),
      email: "victim@example.org",
      kind: "erase",
    }).toString();
    for (const { path } of routes)
      for (const [type, headers] of [
        ["application/x-www-form-urlencoded", { origin: EVIL }],
        ["text/plain", { origin: EVIL }],
        ["multipart/form-data; boundary=x", { origin: EVIL }],
        ["text/plain", { "sec-fetch-site": "cross-site" }],
        [
          "application/x-www-form-urlencoded",
          { "sec-fetch-site": "same-site", origin: "https://sub.localhost" },
        ],
        // An opaque origin (a sandboxed frame): the browser still says cross-site.
        ["application/x-www-form-urlencoded", { origin: "null", "sec-fetch-site": "cross-site" }],
        // A forged Origin of ours does not outweigh the browser's own Sec-Fetch-Site.
        ["application/x-www-form-urlencoded", { origin: SITE, "sec-fetch-site": "cross-site" }],
      ] as const) {
        const res = await t.request(path, {
          method: "POST",
          headers: { "content-type": type, ...headers },
          body,
        });
        expect(res.status, `${path} ${type} ${JSON.stringify(headers)}`).toBe(403);
      }
    expect(t.digest()).toEqual(before);
  });

  it("the same form from our own pages goes through, as browsers send it", async () => {
    const t = await hostileApp();
    // Our pages send no referrer, so a browser's Origin on our own form is "null".
    for (const headers of <Record<string, string>[]>[
      { "sec-fetch-site": "same-origin", origin: "null" },
      { "sec-fetch-site": "same-origin" },
      { origin: SITE },
      { origin: "null" },
    ]) {
      const res = await t.form("/pledge", pledgeForm(), headers);
      expect(res.status, JSON.stringify(headers)).toBe(202);
    }
    expect(t.sqlite.prepare("select count(*) n from supporter_pledges").get()).toEqual({ n: 1 });
  });
});
