/**
 * HOSTILE 17: HTML a supporter or partner types (<script>, <img onerror>, "><svg onload>) is inert
 * everywhere it comes back: every page of the journey, the confirm page, the admin pages
 * (dashboard, moderation, outbox, MP pledges, partners), /dev/mail, the embed, the privacy form,
 * the CSV exports (sent as attachments, never as HTML) and the mail (plain text only).
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus, LOOPBACK } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, hostileApp, pledgeForm, signedIn, withRealSmtp } from "./support";

const PAYLOAD = `"><svg onload=alert(1)><script>alert(1)</script><img src=x onerror=alert(1)>`;
/** What must never appear raw in HTML we serve. */
const LIVE = [/<svg onload/i, /<script>alert/i, /<img src=x/i, /onerror=alert\(1\)>/i];
const inert = (what: string, html: string) => {
  for (const re of LIVE) expect(html, what).not.toMatch(re);
};

describe("17: HTML typed by supporters and partners", () => {
  it("is escaped on every page that shows it, and CSP forbids inline script anyway", async () => {
    const t = await hostileApp({ ADMIN_SESSION_HOURS: "336" });
    const lead = await signedIn(t);
    // A partner whose name carries the payload (a lead types it; it is shown in the embed).
    await lead.post("/admin/partners", {
      key: "xss",
      name: `Partner ${PAYLOAD}`.slice(0, 120),
      allowedOrigins: "https://partner.example",
      active: "yes",
    });
    // A letter carrying the payload in every field, from a name like the MP's (so it is held).
    const base = letterInput({ story: PAYLOAD, subject: `Babies ${PAYLOAD}`.slice(0, 150) });
    const letter = {
      ...base,
      supporter: {
        name: `Alex Baker ${PAYLOAD}`.slice(0, 100),
        email: emailFor("xss"),
        address: { line1: PAYLOAD, line2: PAYLOAD, town: "Farnborough", postcode: "GU14 7JU" },
      },
    };
    const { id } = await t.submit(letter);
    const token = await t.confirmToken(id);
    inert("confirm page", (await (await t.page(`/letters/confirm?token=${token}`)).text()) as string);
    await t.confirm(token);
    await expectStatus(
      await t.post("/api/pledges", pledgeForm({ name: `Pat ${PAYLOAD}`.slice(0, 100) })),
      202,
    );
    await lead.post("/admin/representatives/verify", { kind: "mp", ref: "E14001172", note: PAYLOAD });
    await drainOutbox(t.deps);

    const pages: [string, Response][] = [
      [
        "preview",
        await t.form("/write/preview", {
          postcode: "GU14 7JU",
          to: "mp",
          asks: "prevention",
          story: PAYLOAD,
        }),
      ],
      [
        "write, back",
        await t.form("/write", {
          postcode: "GU14 7JU",
          to: "mp",
          asks: "prevention",
          story: PAYLOAD,
          recipientName: PAYLOAD,
        }),
      ],
      [
        "details refused",
        await t.form("/write/send", {
          postcode: "GU14 7JU",
          to: "mp",
          asks: "prevention",
          subject: PAYLOAD,
          body: PAYLOAD,
          recipientName: PAYLOAD,
          name: PAYLOAD,
          email: PAYLOAD,
          line1: PAYLOAD,
          town: PAYLOAD,
        }),
      ],
      ["find", await t.page(`/find?postcode=${encodeURIComponent(PAYLOAD)}`)],
      ["search", await t.page(`/find?q=${encodeURIComponent(PAYLOAD)}`)],
      ["pledge refused", await t.form("/pledge", { name: PAYLOAD, email: PAYLOAD, postcode: PAYLOAD })],
      ["privacy refused", await t.form("/privacy/request", { email: PAYLOAD, kind: PAYLOAD })],
      ["embed", await t.page("/embed?partner=xss")],
      [
        "embed pledge",
        await t.form("/embed/pledge", { partner: "xss", name: PAYLOAD, email: PAYLOAD, postcode: "x" }),
      ],
      ["dashboard", await lead.get("/admin")],
      ["moderation", await lead.get("/admin/moderation")],
      ["outbox", await lead.get("/admin/outbox")],
      ["MP pledges", await lead.get("/admin/representatives")],
      ["partners", await lead.get("/admin/partners")],
      ["dev mail", await t.app.request("/dev/mail", { headers: { accept: "text/html" } }, LOOPBACK)],
    ];
    let shown = 0;
    for (const [what, res] of pages) {
      const html = await res.text();
      expect(res.status, `${what}: ${html.slice(0, 200)}`).toBeLessThan(500);
      inert(what, html);
      if (html.includes("&lt;script&gt;alert(1)&lt;/script&gt;")) shown++;
      if ((res.headers.get("content-type") ?? "").includes("html"))
        expect(res.headers.get("content-security-policy"), what).toMatch(/script-src 'self'/);
    }
    // The payload really was on those pages (escaped), not just absent.
    expect(shown).toBeGreaterThanOrEqual(8);
    for (const path of ["pledges.csv", "representatives.csv", "constituencies.csv"]) {
      const res = await lead.get(`/admin/export/${path}`);
      expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
      expect(res.headers.get("content-disposition")).toMatch(/^attachment/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  it("mail is plain text only: no HTML part for the payload to live in", async () => {
    const t = await withRealSmtp();
    const input = letterInput({ story: PAYLOAD });
    const { id } = await t.submit({
      ...input,
      supporter: { ...input.supporter, name: `Jo ${PAYLOAD}`.slice(0, 100) },
    });
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);
    expect(t.sink.messages.length).toBeGreaterThanOrEqual(2);
    for (const m of t.sink.messages) {
      expect(m.html).toBe(false);
      expect(m.headers.get("content-type")).toMatchObject({ value: "text/plain" });
    }
  });
});
