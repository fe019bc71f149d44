/**
 * Campaign leads' sign-in under attack.
 * Findings: the limiter checked, then verified, then counted, so parallel guesses all got through;
 * five wrong passwords from anyone locked the real lead out for 15 minutes; bcryptjs at cost 12
 * held the event loop about a second per attempt, unknown addresses included; the fixed-cost
 * dummy hash leaked which addresses exist once the cost changed.
 */
import bcrypt from "bcryptjs";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { argon2PasswordHasher } from "../../src/adapters/node/passwords";
import { adminUsers } from "../../src/db/schema";
import { parseArgon2 } from "../../src/lib/passwords";
import { createUser } from "../../src/modules/admin/admin.auth";
import { ADMIN, cookieFrom, csrfIn, ORIGIN } from "../support/admin";
import { pledgeTestApp } from "../support/pledges";

type T = ReturnType<typeof pledgeTestApp>;

/** Fetch the form (its CSRF cookie), then post it: as a browser with `device` cookie (if any). */
async function attempt(t: T, password: string, opts: { device?: string; email?: string } = {}) {
  const page = await t.request("/admin/sign-in");
  const signin = cookieFrom(page, "speakup_signin") ?? "";
  const csrf = csrfIn(await page.text());
  return () =>
    t.request("/admin/sign-in", {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: ORIGIN,
        cookie: [`speakup_signin=${signin}`, opts.device ? `speakup_device=${opts.device}` : ""]
          .filter(Boolean)
          .join("; "),
      },
      body: new URLSearchParams({ _csrf: csrf, email: opts.email ?? ADMIN.email, password }).toString(),
    });
}

async function app(env: Record<string, string> = {}) {
  const t = pledgeTestApp({ ADMIN_SIGNIN_ATTEMPTS: "5", ...env });
  await createUser(t.deps, ADMIN);
  let verified = 0;
  const verify = t.deps.passwords.verify;
  t.deps.passwords.verify = (stored, password) => {
    verified++;
    return verify(stored, password);
  };
  return Object.assign(t, { verifications: () => verified });
}

describe("sign-in attempts", () => {
  it("counts each attempt before checking the password: 20 parallel guesses, only 5 are checked", async () => {
    const t = await app();
    const sends = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(t, `guess number ${i}`)));
    const statuses = (await Promise.all(sends.map((send) => send()))).map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    expect(t.verifications()).toBe(5);
  });

  it("slows guessing progressively (1 s, 2 s, 4 s ... capped) instead of locking the account", async () => {
    const t = await app({ ADMIN_SIGNIN_MAX_DELAY_SECONDS: "8" });
    for (let i = 0; i < 5; i++) expect((await (await attempt(t, "wrong"))()).status).toBe(401);
    for (const wait of [1, 2, 4, 8, 8]) {
      const refused = await (await attempt(t, ADMIN.password))();
      expect(refused.status).toBe(429);
      expect(refused.headers.get("retry-after")).toBe(String(wait));
      t.clock.advance(wait * 1000 - 1);
      expect((await (await attempt(t, "wrong"))()).status).toBe(429);
      t.clock.advance(1);
      expect((await (await attempt(t, "wrong"))()).status).toBe(401);
    }
    // Never locked: after the (capped) wait, the right password works.
    t.clock.advance(8000);
    expect((await (await attempt(t, ADMIN.password))()).status).toBe(303);
  });

  it("a lead's own browser is not slowed by someone guessing their password elsewhere", async () => {
    const t = await app({ ADMIN_SIGNIN_MAX_DELAY_SECONDS: "600" });
    const first = await (await attempt(t, ADMIN.password))();
    expect(first.status).toBe(303);
    const device = cookieFrom(first, "speakup_device");
    expect(device).toBeTruthy();
    expect(first.headers.getSetCookie().find((c) => c.startsWith("speakup_device="))).toMatch(
      /HttpOnly.*Secure|Secure.*HttpOnly/,
    );
    // Someone else hammers the account.
    for (let i = 0; i < 12; i++) await (await attempt(t, `attacker guess ${i}`))();
    expect((await (await attempt(t, ADMIN.password))()).status).toBe(429);
    // The lead's browser goes straight in, and a device cookie for another account does nothing.
    expect((await (await attempt(t, ADMIN.password, { device }))()).status).toBe(303);
    expect((await (await attempt(t, "x", { device, email: "other@speakup.invalid" }))()).status).toBe(429);
  });

  it("never slows a team signing in from one office: only wrong passwords count against an address", async () => {
    const t = await app();
    const team = Array.from({ length: 12 }, (_, i) => ({
      email: `lead${i}@speakup.invalid`,
      password: `password of lead ${i}`,
    }));
    for (const lead of team) await createUser(t.deps, lead);
    // Twelve leads, each in a new browser (no device cookie), one after another, same address and
    // the same instant: every one goes straight in.
    for (const lead of team) {
      const res = await (await attempt(t, lead.password, { email: lead.email }))();
      expect(res.status, lead.email).toBe(303);
    }
    // Wrong passwords from that address still add up to a wait, whoever they are for.
    for (let i = 0; i < 5; i++) {
      expect((await (await attempt(t, "wrong", { email: team[i % 12]?.email }))()).status).toBe(401);
    }
    expect((await (await attempt(t, "wrong", { email: team[6]?.email }))()).status).toBe(429);
  });

  it("answers an unknown address exactly as a known one, checked against a hash with the configured parameters", async () => {
    const t = await app();
    const unknown = await (await attempt(t, "whatever", { email: "nobody@speakup.invalid" }))();
    const known = await (await attempt(t, "whatever"))();
    expect(unknown.status).toBe(401);
    expect(known.status).toBe(401);
    const page = async (r: Response) => (await r.text()).replace(/name="_csrf" value="[^"]+"/, "");
    expect(await page(unknown)).toBe((await page(known)).replace(ADMIN.email, "nobody@speakup.invalid"));
    expect(t.verifications()).toBe(2);
    const dummy = parseArgon2(await t.deps.passwords.dummyHash());
    const real = parseArgon2(
      (await t.deps.db.select().from(adminUsers).where(eq(adminUsers.email, ADMIN.email)))[0]?.passwordHash ??
        "",
    );
    expect(dummy).toEqual(real);
    expect(dummy).toMatchObject({ algorithm: "argon2id", memoryKib: 1024, iterations: 1, parallelism: 1 });
  });
});

describe("password hashes", () => {
  it("verifies a legacy bcrypt hash and upgrades it to argon2id at that sign-in", async () => {
    const t = pledgeTestApp();
    await t.deps.db.insert(adminUsers).values({
      id: "legacy",
      email: ADMIN.email,
      passwordHash: bcrypt.hashSync(ADMIN.password, 4),
      createdAt: t.clock.now(),
    });
    expect((await (await attempt(t, ADMIN.password))()).status).toBe(303);
    const [user] = await t.deps.db.select().from(adminUsers);
    expect(user?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    expect((await (await attempt(t, ADMIN.password))()).status).toBe(303);
    expect((await (await attempt(t, "not the password"))()).status).toBe(401);
  });

  it("re-hashes with new parameters when they are raised", async () => {
    const t = pledgeTestApp();
    await createUser(t.deps, ADMIN);
    t.deps.passwords = argon2PasswordHasher({ memoryKib: 2048, iterations: 2, parallelism: 1 });
    expect((await (await attempt(t, ADMIN.password))()).status).toBe(303);
    const [user] = await t.deps.db.select().from(adminUsers);
    expect(parseArgon2(user?.passwordHash ?? "")).toMatchObject({ memoryKib: 2048, iterations: 2 });
  });

  it("hashes with the production parameters off the event loop", async () => {
    const hasher = argon2PasswordHasher({ memoryKib: 19_456, iterations: 2, parallelism: 1 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const hash = await hasher.hash("correct horse battery staple");
    clearInterval(timer);
    // bcryptjs (and any hash on the main thread) lets no timer run until it is done.
    expect(ticks).toBeGreaterThan(2);
    expect(await hasher.verify(hash, "correct horse battery staple")).toBe(true);
  });
});
