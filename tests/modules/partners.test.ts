/**
 * Partners as users, over app.request: invited contacts, their own pages, the consent box, the
 * supporters' CSV, figures that agree with the dashboard, widget settings and the off-switch,
 * and privacy (export, erasure, retention) of consents and contacts.
 */
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { byPartner } from "../../src/modules/admin/admin.service";
import { partnerOverview } from "../../src/modules/partners/partners.service";
import { runRetention } from "../../src/modules/privacy/privacy.service";
import { savePartner } from "../../src/modules/widget/widget.service";
import { ADMIN, ORIGIN } from "../support/admin";
import { expectStatus } from "../support/deps";
import { ACME, BRAVO, PASSWORD, partnersApp } from "../support/partners";
import { linkIn } from "../support/pledges";

const html = { accept: "text/html" };
const DAY = 86_400_000;

describe("partner contacts' accounts", () => {
  it("a lead invites a contact, who chooses a password from the emailed link and signs in to their own pages", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    const page = String(await expectStatus(await acme.get("/partner", html), 200));
    expect(page).toContain(ACME.name);
    expect(page).not.toContain(BRAVO.name);
    // The lead's page for the partner lists the contact.
    expect(String(await expectStatus(await t.get(`/admin/partners/${ACME.key}`), 200))).toContain(acme.email);
  });

  it("the invitation link works once, only before it expires, and opening it changes nothing", async () => {
    const t = await partnersApp();
    const link = await t.invite(ACME.key, "someone@acme.example");
    const token = new URL(link).searchParams.get("token") ?? "";
    // Link scanners: GET twice, still usable.
    for (let i = 0; i < 2; i++) await expectStatus(await t.request(`/partner/invite?token=${token}`), 200);
    const accept = (password: string, confirm = password) =>
      t.request("/partner/invite", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ token, password, confirm }).toString(),
      });
    expect(String(await expectStatus(await accept("short"), 400))).toContain("at least 12 characters");
    expect(String(await expectStatus(await accept(PASSWORD, `${PASSWORD}!`), 400))).toContain(
      "the two passwords differ",
    );
    await expectStatus(await accept(PASSWORD), 200);
    const again = await accept("another long password");
    expect(again.status).toBe(410);
    // The first password stands.
    expect((await t.signInForm(t, { email: "someone@acme.example", password: PASSWORD })).status).toBe(303);

    const late = new URL(await t.invite(ACME.key, "late@acme.example")).searchParams.get("token") ?? "";
    t.clock.advance((72 + 1) * 3_600_000);
    expect((await t.request(`/partner/invite?token=${late}`)).status).toBe(410);
  });

  it("refuses to invite an address that already has an account (a lead's or another partner's)", async () => {
    const t = await partnersApp();
    await t.contact(BRAVO.key, "shared@example.org");
    for (const email of [ADMIN.email, "shared@example.org"]) {
      const res = await t.post(`/admin/partners/${ACME.key}/invite`, { email });
      expect(String(await expectStatus(res, 409))).toContain("already has an account");
    }
  });

  it("a lead removes a contact: their session ends at once", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    const page = String(await expectStatus(await t.get(`/admin/partners/${ACME.key}`), 200));
    const id = /\/contacts\/([^/]+)\/remove/.exec(page)?.[1] ?? "";
    expect((await t.post(`/admin/partners/${ACME.key}/contacts/${id}/remove`)).status).toBe(303);
    expect((await acme.get("/partner")).status).toBe(401);
    // Not a lead's account, and not another partner's contact through this partner's URL.
    expect((await t.post(`/admin/partners/${BRAVO.key}/contacts/${id}/remove`)).status).toBe(404);
  });

  it("keeps the two roles apart: a partner session never opens the dashboard, a lead's never the partner pages", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    for (const path of [
      "/admin",
      "/admin/partners",
      `/admin/partners/${ACME.key}`,
      "/admin/export/pledges.csv",
      "/dev/mail",
    ]) {
      const res = await acme.get(path);
      expect([401, 403, 404], `${path}: ${res.status}`).toContain(res.status);
    }
    expect((await acme.get("/admin", html)).headers.get("location")).toBe("/partner");
    expect((await acme.post(`/admin/partners/${ACME.key}/invite`, { email: "x@y.example" })).status).toBe(
      403,
    );
    expect((await t.get("/partner")).status).toBe(403);
    expect(
      (await t.request("/partner", { headers: { cookie: t.cookie, accept: "text/html" } })).headers.get(
        "location",
      ),
    ).toBe("/admin");
    // A partner signs out of its own pages.
    expect((await acme.post("/partner/sign-out")).status).toBe(303);
    expect((await acme.get("/partner")).status).toBe(401);
  });
});

describe("the consent box and the supporters' CSV", () => {
  it("lists only supporters who ticked the box naming the partner and confirmed, once per address, formulas neutralised", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    await t.pledgeVia(ACME, { name: "Ann Opted", email: "ann@example.org" }, { consent: true });
    await t.pledgeVia(ACME, { name: "Ben Silent", email: "ben@example.org" });
    await t.pledgeVia(
      ACME,
      { name: "Cat Unconfirmed", email: "cat@example.org" },
      { consent: true, confirm: false },
    );
    await t.letterVia(ACME, { name: "=SUM(A1:A9)*2", email: "dan@example.org" }, { consent: true });
    await t.letterVia(ACME, { name: "Ann Opted", email: "ann@example.org" }, { consent: true });
    await t.pledgeVia(BRAVO, { name: "Eve Bravo", email: "eve@example.org" }, { consent: true });
    // A box ticked on a call the partner isn't credited with (not from its page) counts for nobody.
    await t.pledgeVia(null, { name: "Fay Direct", email: "fay@example.org" }, { consent: true });
    const res = await acme.get("/partner/supporters.csv");
    expect(res.headers.get("content-type")).toContain("text/csv");
    expect(res.headers.get("content-disposition")).toContain("acme-supporters.csv");
    const rows = parse(String(await expectStatus(res, 200)), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.email)).toEqual(["ann@example.org", "dan@example.org"]);
    expect(rows[1]?.name).toBe("'=SUM(A1:A9)*2");
    expect(rows[0]?.consent_wording).toContain(`Yes, ${ACME.name} may contact me.`);
    expect(rows[0]?.given_with).toBe("letter");
  });

  it("offers the box in the embed only when the flow is credited to the partner, unticked, naming it", async () => {
    const t = await partnersApp();
    const { ensureTestSeat } = await import("../../src/modules/lookup/lookup.import");
    await ensureTestSeat(t.deps);
    const credited = String(
      await expectStatus(
        await t.request(`/embed/pledge?partner=${ACME.key}`, {
          headers: { ...html, referer: `${ACME.origin}/campaign` },
        }),
        200,
      ),
    );
    expect(credited).toContain(`Yes, ${ACME.name} may contact me.`);
    expect(credited).toMatch(
      /id="pledge-partner-consent" name="partnerConsent" type="checkbox" value="partner-2026-12" aria-describedby/,
    );
    // Opened from elsewhere: the flow works, uncredited, and asks nothing about the partner.
    const uncredited = String(
      await expectStatus(await t.request(`/embed/pledge?partner=${ACME.key}`, { headers: html }), 200),
    );
    expect(uncredited).not.toContain("partnerConsent");
  });
});

describe("the consent on the confirm page", () => {
  it("shows the owner of the address what was ticked, and unticking it there keeps the supporter from the partner", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    const confirmVia = async (email: string, keep: boolean) => {
      const mail = [...t.sent].reverse().find((m) => m.to.address.toLowerCase() === email.toLowerCase());
      const token = new URL(linkIn(mail, "/pledge/confirm?token=")).searchParams.get("token") ?? "";
      const page = String(
        await expectStatus(await t.request(`/pledge/confirm?token=${encodeURIComponent(token)}`), 200),
      );
      expect(page).toContain(`Yes, ${ACME.name} may contact me.`);
      expect(page).toMatch(/name="partnerConsent" type="checkbox" value="yes" checked/);
      const res = await t.request("/pledge/confirm", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({
          token,
          partnerConsentShown: "1",
          ...(keep ? { partnerConsent: "yes" } : {}),
        }).toString(),
      });
      await expectStatus(res, 200);
    };
    await t.pledgeVia(ACME, { name: "Kept", email: "kept@example.org" }, { consent: true, confirm: false });
    await confirmVia("kept@example.org", true);
    await t.pledgeVia(
      ACME,
      { name: "Changed Mind", email: "changed@example.org" },
      { consent: true, confirm: false },
    );
    await confirmVia("changed@example.org", false);
    const csv = String(await expectStatus(await acme.get("/partner/supporters.csv"), 200));
    expect(csv).toContain("kept@example.org");
    expect(csv).not.toContain("changed@example.org");
    // The pledge itself went ahead either way.
    expect(
      t.sqlite.prepare("select count(*) n from supporter_pledges where status = 'confirmed'").get(),
    ).toEqual({ n: 2 });
  });
});

describe("a partner's figures", () => {
  it("agree with the campaign dashboard's, and add up by day and by nation", async () => {
    const t = await partnersApp({ ADMIN_SESSION_HOURS: "72" });
    const acme = await t.contact(ACME.key);
    await t.pledgeVia(ACME, { name: "A", email: "a@example.org" });
    await t.pledgeVia(ACME, { name: "B", email: "b@example.org", postcode: "CF24 1AA" });
    await t.letterVia(ACME, { name: "C", email: "c@example.org" });
    t.clock.advance(DAY);
    await t.letterVia(ACME, { name: "D", email: "d@example.org", postcode: "CF24 1AA" });
    await t.letterVia(ACME, { name: "E", email: "e@example.org" }, { confirm: false });
    await t.pledgeVia(BRAVO, { name: "F", email: "f@example.org" });
    const o = await partnerOverview(t.deps, { partnerKey: ACME.key });
    const dash = (await byPartner(t.deps)).find((r) => r.key === ACME.key);
    expect(o.totals).toEqual({ letters: 2, pledges: 2 });
    expect({ letters: dash?.letters, pledges: dash?.pledges }).toEqual(o.totals);
    expect(o.allTime).toEqual(o.totals);
    const sum = (k: "letters" | "pledges", rows: { letters: number; pledges: number }[]) =>
      rows.reduce((s, r) => s + r[k], 0);
    expect({ letters: sum("letters", o.days), pledges: sum("pledges", o.days) }).toEqual(o.totals);
    expect({ letters: sum("letters", o.byNation), pledges: sum("pledges", o.byNation) }).toEqual(o.totals);
    expect(o.byNation.map((r) => [r.nation, r.letters, r.pledges])).toEqual([
      ["England", 1, 1],
      ["Wales", 1, 1],
    ]);
    // The page shows the same figures.
    const page = String(await expectStatus(await acme.get("/partner", html), 200));
    expect(page).toContain('<strong id="total-letters">2</strong>');
    expect(page).toContain('<strong id="total-pledges">2</strong>');
    const dashPage = String(await expectStatus(await t.get("/admin"), 200));
    expect(dashPage).toMatch(new RegExp(`<td>${ACME.key}</td><td class="n">2</td><td class="n">2</td>`));
  });
});

describe("a partner's widget settings", () => {
  it("changes its own origins, accent, language and switch, never its name, key or the campaign's switch", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    const res = await acme.post("/partner/widget", {
      allowedOrigins: "https://www.acme-charity.example\nhttps://acme-charity.example/",
      accent: "#0B6E4F",
      lang: "cy",
      embedEnabled: "yes",
      name: "Evil Corp",
      key: "bravo",
      active: "no",
    });
    expect(String(await expectStatus(res, 200))).toContain("Saved.");
    const config = (await expectStatus(await t.request(`/api/widget/${ACME.key}`), 200)) as Record<
      string,
      unknown
    >;
    expect(config).toEqual({
      enabled: true,
      lang: "cy",
      accent: "0b6e4f",
      titles: { en: "Write to your MP: #SpeakUpForBabies", cy: "Ysgrifennu at eich AS: #SpeakUpForBabies" },
    });
    const frame = await t.request(`/embed?partner=${ACME.key}`, { headers: html });
    expect(frame.headers.get("content-security-policy")).toContain(
      "frame-ancestors https://www.acme-charity.example https://acme-charity.example;",
    );
    const { getPartner } = await import("../../src/modules/widget/widget.service");
    expect(await getPartner(t.deps, { key: ACME.key })).toMatchObject({ name: ACME.name, active: true });
    expect(await getPartner(t.deps, { key: BRAVO.key })).toMatchObject({ allowedOrigins: [BRAVO.origin] });
  });

  it("refuses an accent white text would be unreadable on, and an origin with a path, saying which field", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    const light = String(
      await expectStatus(
        await acme.post("/partner/widget", {
          allowedOrigins: ACME.origin,
          accent: "#ffdd00",
          lang: "en",
          embedEnabled: "yes",
        }),
        400,
      ),
    );
    expect(light).toContain('href="#accent"');
    const path = String(
      await expectStatus(
        await acme.post("/partner/widget", {
          allowedOrigins: `${ACME.origin}/page`,
          lang: "en",
          embedEnabled: "yes",
        }),
        400,
      ),
    );
    expect(path).toContain('href="#allowedOrigins"');
  });

  it("switched off by the partner, the loader's question says so and the embed shows nothing of the flow", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    await expectStatus(await acme.post("/partner/widget", { allowedOrigins: ACME.origin, lang: "en" }), 200);
    const res = await t.request(`/api/widget/${ACME.key}`, { headers: { origin: "https://anyone.example" } });
    expect(await expectStatus(res, 200)).toEqual({ enabled: false, reason: "off" });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(await expectStatus(await t.request("/api/widget/nobody"), 200)).toEqual({
      enabled: false,
      reason: "unknown",
    });
    expect(await expectStatus(await t.request("/api/widget/NOT%20A%20KEY"), 200)).toEqual({
      enabled: false,
      reason: "unknown",
    });
    const frame = String(
      await expectStatus(await t.request(`/embed?partner=${ACME.key}`, { headers: html }), 404),
    );
    expect(frame).not.toContain("<form");
    // The campaign's switch overrides the partner's.
    await expectStatus(
      await acme.post("/partner/widget", { allowedOrigins: ACME.origin, lang: "en", embedEnabled: "yes" }),
      200,
    );
    expect(await expectStatus(await t.request(`/api/widget/${ACME.key}`), 200)).toMatchObject({
      enabled: true,
    });
    await savePartner(t.deps, {
      key: ACME.key,
      name: ACME.name,
      allowedOrigins: [ACME.origin],
      active: false,
    });
    expect(await expectStatus(await t.request(`/api/widget/${ACME.key}`), 200)).toEqual({
      enabled: false,
      reason: "off",
    });
  });
});

describe("privacy of consents and contacts", () => {
  it("a supporter's export lists their consents; erasure removes them from the partner's CSV, whichever spelling of the mailbox asks", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    // Given as one spelling of a Gmail mailbox, asked about as another: the same person.
    await t.pledgeVia(ACME, { name: "Ann", email: "Ann.Opted+acme@gmail.com" }, { consent: true });
    const ask = async (kind: "export" | "erase", email: string) => {
      await t.request("/privacy/request", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ email, kind }).toString(),
      });
      const mail = [...t.sent].reverse().find((m) => m.to.address.toLowerCase() === email.toLowerCase());
      return new URL(linkIn(mail, `/privacy/${kind}?token=`)).searchParams.get("token") ?? "";
    };
    const exportToken = await ask("export", "annopted@gmail.com");
    const exported = await t.request("/privacy/export", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ token: exportToken }).toString(),
    });
    const data = (await expectStatus(exported, 200)) as Record<string, unknown>;
    expect(data.partnerConsents).toEqual([
      expect.objectContaining({ partner: ACME.key, givenWith: "pledge", version: "partner-2026-12" }),
    ]);
    const eraseToken = await ask("erase", "ANNOPTED@gmail.com");
    await t.request("/privacy/erase", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ token: eraseToken }).toString(),
    });
    expect(t.sqlite.prepare("select count(*) n from partner_consents").get()).toEqual({ n: 0 });
    const csv = String(await expectStatus(await acme.get("/partner/supporters.csv"), 200));
    expect(csv.toLowerCase()).not.toContain("ann.opted");
  });

  it("a partner contact can export and erase their own account like anyone else", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key, "pat@acme.example");
    await t.request("/privacy/request", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ email: "pat@acme.example", kind: "erase" }).toString(),
    });
    const mail = [...t.sent].reverse().find((m) => m.to.address === "pat@acme.example");
    const token = new URL(linkIn(mail, "/privacy/erase?token=")).searchParams.get("token") ?? "";
    await t.request("/privacy/erase", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ token }).toString(),
    });
    expect(t.sqlite.prepare("select count(*) n from admin_users where role = 'partner'").get()).toEqual({
      n: 0,
    });
    expect((await acme.get("/partner")).status).toBe(401);
    // The lead's account is untouched.
    expect(t.sqlite.prepare("select count(*) n from admin_users where role = 'lead'").get()).toEqual({
      n: 1,
    });
  });

  it("retention removes unconfirmed consents after the confirm window, confirmed ones after RETENTION_DAYS", async () => {
    const t = await partnersApp({ RETENTION_DAYS: "30" });
    await t.pledgeVia(ACME, { name: "Ann", email: "ann@example.org" }, { consent: true });
    await t.pledgeVia(ACME, { name: "Cat", email: "cat@example.org" }, { consent: true, confirm: false });
    t.clock.advance(9 * DAY);
    expect(await runRetention(t.deps)).toMatchObject({ partnerConsentsDeleted: 1 });
    expect(t.sqlite.prepare("select email_norm e from partner_consents").all()).toEqual([
      { e: "ann@example.org" },
    ]);
    t.clock.advance(22 * DAY);
    expect(await runRetention(t.deps)).toMatchObject({ partnerConsentsDeleted: 1 });
  });
});

describe("the widget in Welsh", () => {
  it("renders the supporter's pages in Cymraeg from data-lang (the embed's lang), carried through every step", async () => {
    const t = await partnersApp();
    const { ensureTestSeat } = await import("../../src/modules/lookup/lookup.import");
    await ensureTestSeat(t.deps);
    const first = String(
      await expectStatus(await t.request(`/embed?partner=${ACME.key}&lang=cy`, { headers: html }), 200),
    );
    expect(first).toContain('<html lang="cy"');
    expect(first).toContain("<h1>Dod o hyd i'ch AS</h1>");
    expect(first).toContain('name="lang" value="cy"');
    expect(first).toContain("<title>Dod o hyd i&#x27;ch AS · #SpeakUpForBabies</title>");
    const result = String(
      await expectStatus(
        await t.request(`/embed/find?postcode=ZZ9+9ZZ&partner=${ACME.key}&lang=cy`, { headers: html }),
        200,
      ),
    );
    expect(result).toContain("<h1>Eich AS</h1>");
    expect(result).toContain("lang&#x3D;cy");
    // Messages made in code follow the language too.
    const bad = String(
      await expectStatus(
        await t.request(`/embed/find?postcode=NOT+A+POSTCODE&partner=${ACME.key}&lang=cy`, { headers: html }),
        400,
      ),
    );
    expect(bad).toContain("Rhowch god post llawn yn y DU");
    // English by default, and on the site.
    const english = String(
      await expectStatus(await t.request(`/embed?partner=${ACME.key}`, { headers: html }), 200),
    );
    expect(english).toContain('<html lang="en-GB"');
    expect(english).toContain("<h1>Find your MP</h1>");
  });

  it("uses the partner's own default language when the page doesn't say, and a page's data-lang over it", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    await expectStatus(
      await acme.post("/partner/widget", { allowedOrigins: ACME.origin, lang: "cy", embedEnabled: "yes" }),
      200,
    );
    expect(
      String(
        await expectStatus(await t.request(`/embed/pledge?partner=${ACME.key}`, { headers: html }), 200),
      ),
    ).toContain("Gwneud addewid #SpeakUpForBabies");
    expect(
      String(
        await expectStatus(
          await t.request(`/embed/pledge?partner=${ACME.key}&lang=en`, { headers: html }),
          200,
        ),
      ),
    ).toContain("<h1>Pledge to #SpeakUpForBabies</h1>");
  });
});
