/**
 * Partners in tests: a lead signed in (adminApp), two partners with their own origins, contacts
 * invited and signed in through the real forms, and supporters writing and pledging through the
 * JSON API as a partner's page would (a CORS call from the partner's origin), confirming from
 * the emailed links.
 */
import { and, eq } from "drizzle-orm";
import { expect } from "vitest";
import { outbox } from "../../src/db/schema.letters";
import { CURRENT_PARTNER_CONSENT } from "../../src/modules/partners/partners.schemas";
import { savePartner } from "../../src/modules/widget/widget.service";
import { ADMIN, adminApp, cookieFrom, csrfIn, ORIGIN, signInForm } from "./admin";
import { expectStatus } from "./deps";
import { linkIn } from "./pledges";

export const ACME = { key: "acme", name: "Acme Family Charity", origin: "https://www.acme-charity.example" };
export const BRAVO = { key: "bravo", name: "Bravo Babies", origin: "https://bravo.example" };
export const PASSWORD = "a long partner password";

export type Session = Awaited<ReturnType<Awaited<ReturnType<typeof partnersApp>>["contact"]>>;

export async function partnersApp(env: Record<string, string> = {}) {
  const t = await adminApp({
    LETTER_LIMIT_PER_EMAIL_DAY: "50",
    LETTER_LIMIT_PER_IP_HOUR: "500",
    ...env,
  });
  for (const p of [ACME, BRAVO])
    await savePartner(t.deps, { key: p.key, name: p.name, allowedOrigins: [p.origin], active: true });

  /** The lead invites `email` for `partnerKey`; the invitee accepts from the emailed link. */
  async function invite(partnerKey: string, email: string) {
    const res = await t.post(`/admin/partners/${partnerKey}/invite`, { email });
    await expectStatus(res, 200);
    const mail = [...t.sent].reverse().find((m) => m.to.address === email);
    return linkIn(mail, "/partner/invite?token=");
  }

  /** A partner contact, invited, accepted and signed in through the forms. */
  async function contact(partnerKey: string, email = `contact@${partnerKey}.example`) {
    const link = await invite(partnerKey, email);
    const token = new URL(link).searchParams.get("token") ?? "";
    await expectStatus(await t.request(`/partner/invite?token=${encodeURIComponent(token)}`), 200);
    const accepted = await t.request("/partner/invite", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ token, password: PASSWORD, confirm: PASSWORD }).toString(),
    });
    await expectStatus(accepted, 200);
    const res = await signInForm(t, { email, password: PASSWORD });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/partner");
    const cookie = `speakup_admin=${cookieFrom(res, "speakup_admin")}`;
    const home = await t.request("/partner", { headers: { cookie, accept: "text/html" } });
    const csrf = csrfIn(String(await expectStatus(home, 200)));
    const get = (path: string, headers: Record<string, string> = {}) =>
      t.request(path, { headers: { cookie, ...headers } });
    const post = (path: string, fields: Record<string, string | string[]> = {}) => {
      const body = new URLSearchParams({ _csrf: csrf });
      for (const [k, v] of Object.entries(fields))
        for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
      return t.request(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie },
        body: body.toString(),
      });
    };
    return { email, partnerKey, cookie, csrf, get, post };
  }

  const json = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    t.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  /** A pledge made on a partner's page (CORS from its origin), optionally ticking its box; confirmed unless told not to. */
  async function pledgeVia(
    partner: { key: string; origin: string } | null,
    who: { name: string; email: string; postcode?: string },
    opts: { consent?: boolean; confirm?: boolean } = {},
  ) {
    await expectStatus(
      await json(
        "/api/pledges",
        {
          name: who.name,
          email: who.email,
          postcode: who.postcode ?? "GU11 1AA",
          pledgeConsent: "pledge-2026-11",
          partner: partner?.key,
          partnerConsent: opts.consent ? CURRENT_PARTNER_CONSENT : undefined,
        },
        partner ? { origin: partner.origin } : {},
      ),
      202,
    );
    if (opts.confirm === false) return;
    const mail = [...t.sent].reverse().find((m) => m.to.address.toLowerCase() === who.email.toLowerCase());
    const token = new URL(linkIn(mail, "/pledge/confirm?token=")).searchParams.get("token");
    await expectStatus(await json("/api/pledges/confirm", { token }), 200);
  }

  /** A letter written on a partner's page; confirmed from the emailed link unless told not to. */
  async function letterVia(
    partner: { key: string; origin: string } | null,
    who: { name: string; email: string; postcode?: string },
    opts: { consent?: boolean; confirm?: boolean } = {},
  ) {
    const res = await json(
      "/api/letters",
      {
        recipient: { kind: "mp" },
        asks: ["prevention", "workforce"],
        story: `${who.name}'s own story about the first 1001 days.`,
        supporter: {
          name: who.name,
          email: who.email,
          address: { line1: "1 High Street", town: "Town", postcode: who.postcode ?? "GU11 1AA" },
        },
        partner: partner?.key,
        partnerConsent: opts.consent ? CURRENT_PARTNER_CONSENT : undefined,
      },
      partner ? { origin: partner.origin } : {},
    );
    const letter = (await expectStatus(res, 201)) as { id: string };
    if (opts.confirm === false) return letter.id;
    const [row] = await t.deps.db
      .select({ body: outbox.bodyText })
      .from(outbox)
      .where(and(eq(outbox.letterId, letter.id), eq(outbox.kind, "confirm")));
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(row?.body ?? "")?.[1];
    await expectStatus(await json("/api/letters/confirm", { token }), 200);
    return letter.id;
  }

  return { ...t, lead: { email: ADMIN.email }, invite, contact, json, pledgeVia, letterVia, signInForm };
}
