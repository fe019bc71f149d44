import { describe, expect, it } from "vitest";
import { createUser } from "../../src/modules/admin/admin.auth";
import { safeCell } from "../../src/modules/admin/admin.export";
import { savePartner } from "../../src/modules/widget/widget.service";
import { ADMIN, adminApp, cookieFrom, ORIGIN, signInForm } from "../support/admin";
import { expectStatus } from "../support/deps";
import { json, pledgeTestApp, tokenIn } from "../support/pledges";

/** Every admin route the app serves, with a placeholder for path parameters. */
function adminRoutes(app: { routes: { method: string; path: string }[] }) {
  const seen = new Set<string>();
  return app.routes
    .filter((r) => r.path.startsWith("/admin") && r.method !== "ALL" && r.path !== "/admin/sign-in")
    .map((r) => ({ method: r.method, path: r.path.replace(/:[a-z]+/gi, "some-id") }))
    .filter((r) => {
      const k = `${r.method} ${r.path}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}

describe("admin security", () => {
  it("lists the admin routes it protects (sanity check for the loops below)", () => {
    const t = pledgeTestApp();
    const routes = adminRoutes(t.app);
    expect(routes.length).toBeGreaterThanOrEqual(14);
    expect(routes).toContainEqual({ method: "GET", path: "/admin" });
    expect(routes).toContainEqual({ method: "POST", path: "/admin/outbox/some-id/retry" });
  });

  it("refuses every admin route to an anonymous request", async () => {
    const t = pledgeTestApp();
    for (const r of adminRoutes(t.app)) {
      const res = await t.request(r.path, { method: r.method, headers: { origin: ORIGIN } });
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
      expect(await res.text()).not.toContain("Campaign dashboard");
    }
  });

  it("refuses every admin route to a forged session cookie", async () => {
    const t = await adminApp();
    const forged = `speakup_admin=${t.session.slice(0, -4)}AAAA`;
    for (const r of adminRoutes(t.app)) {
      for (const cookie of [
        forged,
        "speakup_admin=",
        "speakup_admin=admin",
        `speakup_admin=${"x".repeat(43)}`,
      ]) {
        const res = await t.request(r.path, { method: r.method, headers: { origin: ORIGIN, cookie } });
        expect(res.status, `${r.method} ${r.path} with ${cookie}`).toBe(401);
      }
    }
  });

  it("sends a browser without a session to the sign-in form", async () => {
    const t = pledgeTestApp();
    const res = await t.request("/admin", { headers: { accept: "text/html" } });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/admin/sign-in");
  });

  it("requires the session's CSRF token on every admin POST", async () => {
    const t = await adminApp();
    const posts = adminRoutes(t.app).filter((r) => r.method === "POST");
    expect(posts.length).toBeGreaterThanOrEqual(6);
    for (const r of posts) {
      for (const token of ["", "wrong-token"]) {
        const res = await t.request(r.path, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie: t.cookie },
          body: new URLSearchParams({ _csrf: token }).toString(),
        });
        expect(res.status, `${r.path} with token "${token}"`).toBe(403);
      }
      // A form posted from another site is refused even with the right token.
      const cross = await t.post(r.path, {}, { origin: "https://evil.example" });
      expect(cross.status, `${r.path} cross-site`).toBe(403);
    }
    // The session survived all that: sign-out with the token works.
    expect((await t.post("/admin/sign-out")).status).toBe(303);
    expect((await t.get("/admin")).status).toBe(401);
  });

  it("sets the session cookie HttpOnly, Secure and SameSite=Strict, and stores only its hash", async () => {
    const t = pledgeTestApp({});
    await createUser(t.deps, ADMIN);
    const res = await signInForm(t);
    const header = res.headers.getSetCookie().find((c) => c.startsWith("speakup_admin="));
    expect(header).toMatch(/HttpOnly/);
    expect(header).toMatch(/Secure/);
    expect(header).toMatch(/SameSite=Strict/);
    const token = cookieFrom(res, "speakup_admin") as string;
    const rows = t.sqlite.prepare("select token_hash from admin_sessions").all() as { token_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash).not.toContain(token);
    const user = t.sqlite.prepare("select password_hash from admin_users").get() as { password_hash: string };
    expect(user.password_hash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
  });

  it("rate-limits failed sign-ins per account", async () => {
    const t = pledgeTestApp({ ADMIN_SIGNIN_ATTEMPTS: "3" });
    await createUser(t.deps, ADMIN);
    for (let i = 0; i < 3; i++)
      expect((await signInForm(t, { ...ADMIN, password: "wrong password!!" })).status).toBe(401);
    // Even the right password is refused while the limit holds.
    const limited = await signInForm(t);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBeTruthy();
  });

  it("refuses a sign-in without the sign-in form's CSRF cookie", async () => {
    const t = pledgeTestApp({});
    await createUser(t.deps, ADMIN);
    const res = await t.request("/admin/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ _csrf: "x", email: ADMIN.email, password: ADMIN.password }).toString(),
    });
    expect(res.status).toBe(403);
  });
});

describe("dashboard", () => {
  it("shows pledge counts by nation, a chart and the hex map, without any script", async () => {
    const t = await adminApp();
    await savePartner(t.deps, {
      key: "nct",
      name: "NCT",
      allowedOrigins: ["https://nct.example"],
      active: true,
    });
    for (const [email, postcode] of [
      ["a@x.org", "GU11 1AA"],
      ["b@x.org", "EH8 8AA"],
    ] as const) {
      // From the partner's own page (a CORS call): the only way a pledge is credited to them.
      await t.request(
        "/api/pledges",
        json(
          { name: "A", email, postcode, pledgeConsent: "pledge-2026-11", partner: "nct" },
          { origin: "https://nct.example" },
        ),
      );
    }
    for (const m of t.sent)
      await t.request("/api/pledges/confirm", json({ token: tokenIn(m, "/pledge/confirm") }));
    const html = (await expectStatus(await t.get("/admin"), 200)) as string;
    expect(html).toContain("Supporter pledges <strong>2</strong>");
    expect(html).toMatch(/<td>Scotland<\/td><td class="n">1<\/td>/);
    expect(html).toMatch(/<td>nct<\/td><td class="n">2<\/td>/);
    expect(html).toContain("<svg");
    expect(html).toContain("Hex map of 3 constituencies");
    expect(html).not.toContain("<script");
    const map = await t.get("/admin/map.svg?metric=letters");
    expect(map.headers.get("content-type")).toContain("image/svg+xml");
  });

  it("lets a campaign lead mark an MP as pledged with a note", async () => {
    const t = await adminApp();
    const res = await t.post("/admin/representatives/verify", {
      kind: "mp",
      ref: "W07000081",
      note: "Signed at the launch event",
    });
    expect(res.status).toBe(303);
    const wall = await expectStatus(await t.request("/api/pledges/wall"), 200);
    expect(wall).toMatchObject({ total: 1, parties: [{ pledges: [{ name: "MP Cardiff East" }] }] });
    const page = (await expectStatus(await t.get("/admin/representatives"), 200)) as string;
    expect(page).toContain("Signed at the launch event");
  });
});

describe("CSV export", () => {
  it("streams confirmed pledges and neutralises cells a spreadsheet would run as formulas", async () => {
    const t = await adminApp();
    // (A formula carrying a web address is refused as a name: see tests/hostile/12-csv-formulas.)
    const names = ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "Plain Name"];
    for (const [i, name] of names.entries())
      await t.request(
        "/api/pledges",
        json({ name, email: `p${i}@x.org`, postcode: "GU11 1AA", pledgeConsent: "pledge-2026-11" }),
      );
    for (const m of t.sent)
      await t.request("/api/pledges/confirm", json({ token: tokenIn(m, "/pledge/confirm") }));
    const res = await t.get("/admin/export/pledges.csv");
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.body).toBeInstanceOf(ReadableStream);
    const csv = (await expectStatus(res, 200)) as string;
    const lines = csv.trim().split("\n");
    expect(lines).toHaveLength(1 + names.length);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(csv).toContain("'+1,");
    expect(csv).toContain("'-2+3,");
    expect(csv).toContain("'@SUM(A1),");
    expect(csv).toContain("Plain Name,");
    for (const line of lines.slice(1)) expect(line).not.toMatch(/^\d+,[=+\-@\t]/);
  });

  it("escapes cells starting with a tab or carriage return too, and leaves others alone", () => {
    expect(safeCell("\tx")).toBe("'\tx");
    expect(safeCell("\rx")).toBe("'\rx");
    expect(safeCell("=1")).toBe("'=1");
    expect(safeCell("a=1")).toBe("a=1");
    expect(safeCell("")).toBe("");
  });

  it("exports pledges and letters by constituency", async () => {
    const t = await adminApp();
    const csv = (await expectStatus(await t.get("/admin/export/constituencies.csv"), 200)) as string;
    expect(csv.split("\n")[0]).toBe("constituency_code,constituency,nation,region,mp,party,pledges,letters");
    expect(csv).toContain("E14001063,Aldershot,England,South East,MP Aldershot,Labour,0,0");
  });
});
