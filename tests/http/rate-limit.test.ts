/**
 * The rate-limiter port and its middleware: form routes show a refusal inside the form with what
 * was typed; counts live in SQLite, so a restart doesn't reset them.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { supporterPledges } from "../../src/db/schema";
import { letters } from "../../src/db/schema.letters";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { savePartner } from "../../src/modules/widget/widget.service";
import { signInForm } from "../support/admin";
import { expectStatus, PEER, testApp } from "../support/deps";
import { letterInput } from "../support/letters";
import { pledgeTestApp } from "../support/pledges";

const ONE_EACH = {
  LOOKUP_LIMIT_PER_IP_HOUR: "1",
  PREVIEW_LIMIT_PER_IP_HOUR: "1",
  LETTER_LIMIT_PER_IP_HOUR: "1",
  PLEDGE_LIMIT_PER_IP_HOUR: "1",
  PRIVACY_LIMIT_PER_IP_HOUR: "1",
  SIGNIN_LIMIT_PER_IP_HOUR: "1",
  RESEND_LIMIT_PER_IP_HOUR: "1",
};

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const draft = {
  postcode: "ZZ9 9ZZ",
  to: "mp",
  asks: "prevention",
  story: "Our health visitor was a lifeline.",
  subject: "Please speak up for babies",
  body: "Dear MP, my own words.",
  recipientName: "Test MP",
};
const details = {
  name: "Ada Lovelace",
  email: "ada@example.org",
  line1: "1 Test Street",
  town: "Testtown",
  agree: "yes",
};

/** Form routes registered with { inForm: true }: each must show its refusal in the form. */
const FORMS: {
  name: string;
  method: "GET" | "POST";
  path: string;
  fields?: Record<string, string>;
  keeps: string;
}[] = [
  { name: "postcode step", method: "GET", path: "/find?postcode=ZZ9+9ZZ", keeps: 'value="ZZ9 9ZZ"' },
  { name: "write step", method: "GET", path: "/write?postcode=ZZ9+9ZZ&to=mp", keeps: 'value="ZZ9 9ZZ"' },
  {
    name: "back to write",
    method: "POST",
    path: "/write",
    fields: draft,
    keeps: "Our health visitor was a lifeline.",
  },
  {
    name: "preview",
    method: "POST",
    path: "/write/preview",
    fields: draft,
    keeps: "Our health visitor was a lifeline.",
  },
  {
    name: "send",
    method: "POST",
    path: "/write/send",
    fields: { ...draft, ...details },
    keeps: 'value="ada@example.org"',
  },
  {
    name: "site pledge",
    method: "POST",
    path: "/pledge",
    fields: { name: "Ada", email: "ada@example.org", postcode: "ZZ9 9ZZ", pledgeConsent: "pledge-2026-11" },
    keeps: 'value="ada@example.org"',
  },
  {
    name: "embed pledge",
    method: "POST",
    path: "/embed/pledge?partner=acme",
    fields: { name: "Ada", email: "ada@example.org", postcode: "ZZ9 9ZZ", pledgeConsent: "pledge-2026-11" },
    keeps: 'value="ada@example.org"',
  },
  {
    name: "privacy request",
    method: "POST",
    path: "/privacy/request",
    fields: { email: "ada@example.org", kind: "erase" },
    keeps: 'value="ada@example.org"',
  },
];

describe("form routes over their limit", () => {
  it.each(FORMS)(
    "$name: 429 in the form, with what was typed and Retry-After, and nothing done",
    async (f) => {
      const t = testApp(ONE_EACH);
      await ensureTestSeat(t.deps);
      await savePartner(t.deps, {
        key: "acme",
        name: "Acme",
        allowedOrigins: ["https://acme.example"],
        active: true,
      });
      const send = () =>
        t.app.request(
          f.path,
          f.method === "GET"
            ? { headers: { accept: "text/html" } }
            : {
                method: "POST",
                headers: {
                  accept: "text/html",
                  origin: "http://localhost",
                  "content-type": "application/x-www-form-urlencoded",
                },
                body: new URLSearchParams(f.fields).toString(),
              },
          PEER("198.51.100.7"),
        );
      await send(); // uses the one allowed
      const before = { pledges: (await t.deps.db.select().from(supporterPledges)).length };
      const res = await send();
      const html = await res.text();
      expect(res.status, html.slice(0, 300)).toBe(429);
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(html).toMatch(/Too many .* from your network/);
      expect(html).toContain(f.keeps);
      expect((await t.deps.db.select().from(supporterPledges)).length).toBe(before.pledges);
    },
  );

  it("the sign-in form shows the refusal too, keeping the email typed", async () => {
    const t = pledgeTestApp(ONE_EACH);
    await signInForm(t, { email: "lead@example.org", password: "wrong" });
    const res = await signInForm(t, { email: "lead@example.org", password: "wrong" });
    expect(res.status).toBe(429);
    const html = await res.text();
    expect(html).toContain("Too many sign-in attempts from your network");
    expect(html).toContain('value="lead@example.org"');
  });

  it("JSON routes answer 429 problem+json and do nothing", async () => {
    const t = testApp(ONE_EACH);
    await ensureTestSeat(t.deps);
    const post = (path: string, body: unknown) =>
      t.app.request(
        path,
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
        PEER("198.51.100.7"),
      );
    await expectStatus(await post("/api/letters", letterInput()), 201);
    const again = letterInput({ supporter: { ...letterInput().supporter, email: "b@example.org" } });
    expect(await expectStatus(await post("/api/letters", again), 429)).toMatchObject({
      code: "rate_limited",
    });
    expect(await t.deps.db.select().from(letters)).toHaveLength(1);
  });
});

describe("limits in SQLite", () => {
  it("are shared by two processes on one database, each seeing the other's counts after a flush", async () => {
    const dir = mkdtempSync(join(tmpdir(), "speakup-limits-"));
    dirs.push(dir);
    const env = { DATABASE_PATH: join(dir, "speakup.sqlite"), LOOKUP_LIMIT_PER_IP_HOUR: "4" };
    const a = testApp(env);
    await ensureTestSeat(a.deps);
    const b = testApp(env);
    const lookup = (t: typeof a) => t.app.request("/api/lookup?postcode=ZZ9+9ZZ", {}, PEER("198.51.100.7"));
    await expectStatus(await lookup(a), 200);
    await expectStatus(await lookup(a), 200);
    a.limiter.flush();
    await expectStatus(await lookup(b), 200);
    await expectStatus(await lookup(b), 200);
    await expectStatus(await lookup(b), 429);
    a.sqlite.close();
    b.sqlite.close();
  });

  it("survive a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "speakup-limits-"));
    dirs.push(dir);
    const env = { DATABASE_PATH: join(dir, "speakup.sqlite"), LOOKUP_LIMIT_PER_IP_HOUR: "3" };
    const first = testApp(env);
    await ensureTestSeat(first.deps);
    const lookup = (t: typeof first) =>
      t.app.request("/api/lookup?postcode=ZZ9+9ZZ", {}, PEER("198.51.100.7"));
    for (let i = 0; i < 3; i++) await expectStatus(await lookup(first), 200);
    // What a clean shutdown does (and the 1 s flush timer does while running).
    first.limiter.stop();
    first.sqlite.close();
    const second = testApp(env);
    await expectStatus(await lookup(second), 429);
    // The counters are pseudonyms: no address is stored.
    const keys = second.sqlite.prepare("select key from rate_limits").all() as { key: string }[];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.map((k) => k.key).join(" ")).not.toContain("198.51.100.7");
    second.sqlite.close();
  });
});
