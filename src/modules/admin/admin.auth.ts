/**
 * Sign-in for campaign leads and partner contacts: one set of rules for both.
 *
 * Rules:
 * - Every account has a role (schema.admin.ts): `lead` or `partner` (with its partner's key).
 *   The session carries both, and each area checks them itself: /admin only for leads
 *   (admin.routes.ts requireAdmin), /partner only for partner contacts, whose every verb is
 *   scoped to the session's partner (modules/partners). A partner contact is made only by
 *   accepting a lead's invitation (partners.accounts.ts); the CLI makes leads.
 * - Passwords: argon2id through the deps.passwords port (off the event loop on Node), stored as
 *   PHC strings. Older bcrypt hashes verify and are re-hashed by the sign-in that proves them, as
 *   is any hash whose parameters differ from the configured ones.
 * - A sign-in for an unknown address is checked against a dummy hash made with the configured
 *   parameters, so it costs what a real one does and timing does not say which addresses exist.
 * - Attempts are counted before the password is checked, by one conditional UPSERT per key
 *   (signin_throttle): parallel guesses queue on the same row, so no more than
 *   ADMIN_SIGNIN_ATTEMPTS can ever be in flight. Beyond that, each attempt must wait 1 s, 2 s,
 *   4 s ... (up to ADMIN_SIGNIN_MAX_DELAY_SECONDS): slow for guessing, never a lock-out.
 * - Keys: the account and the client address; a browser that has signed in to this account
 *   before carries a signed device cookie and is counted on its own instead, so someone guessing
 *   a lead's password elsewhere can't slow the lead down (OWASP's "device cookies").
 * - Sessions are server-side rows keyed by SHA-256 of a 256-bit random token; the cookie holds the
 *   token (HttpOnly, Secure, SameSite=Strict, __Host- prefix over https). A forged or stale cookie
 *   matches no row. Signing out deletes the row.
 * - Each session has its own CSRF token; every admin POST must carry it (hidden `_csrf` field or
 *   `x-csrf-token` header), on top of Hono's Origin / Sec-Fetch-Site check.
 */
import { and, eq, gt, inArray, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { type AccountRole, adminSessions, adminUsers, signinThrottle } from "../../db/schema";
import type { Deps } from "../../deps";
import { AppError } from "../../lib/errors";
import { pseudonym, sha256Hex, signToken, verifyToken } from "../../lib/tokens";

/** A counter untouched this long starts again from zero. */
const THROTTLE_STALE_MS = 24 * 3_600_000;
/** A browser stays trusted for this long after its last successful sign-in. */
export const DEVICE_TTL_MS = 90 * 24 * 3_600_000;
const DEVICE_PURPOSE = "admin.device";

/** Password rules for every account (leads and partner contacts). */
export const Password = z.string().min(12, "at least 12 characters").max(200, "at most 200 characters");

export const CreateUserInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("an email address")),
  password: Password,
});
export type CreateUserInput = z.infer<typeof CreateUserInput>;

export const SignInInput = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().min(1).max(200),
});
export type SignInInput = z.infer<typeof SignInInput>;

export type AdminSession = {
  userId: string;
  email: string;
  csrfToken: string;
  expiresAt: number;
  role: AccountRole;
  /** The partner a partner contact belongs to; null for leads. */
  partnerKey: string | null;
};

function randomToken(bytes = 32): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function createUser(deps: Deps, input: CreateUserInput): Promise<{ id: string; email: string }> {
  const passwordHash = await deps.passwords.hash(input.password);
  const id = deps.ids.uuid();
  const [row] = await deps.db
    .insert(adminUsers)
    .values({ id, email: input.email, passwordHash, role: "lead", createdAt: deps.clock.now() })
    // A partner contact's address is not turned into a lead's (nor their password changed here).
    .onConflictDoUpdate({
      target: adminUsers.email,
      set: { passwordHash },
      setWhere: eq(adminUsers.role, "lead"),
    })
    .returning({ id: adminUsers.id, email: adminUsers.email });
  if (!row)
    throw new AppError(
      "validation_failed",
      "That address belongs to a partner contact's account; a campaign lead needs an address of their own.",
    );
  // A password change ends every existing session of that user.
  await deps.db.delete(adminSessions).where(eq(adminSessions.userId, row.id));
  return row;
}

/**
 * Claim one attempt for `key`: one conditional UPSERT, so concurrent claims on a key are
 * serialised by the database. Returns 0 when claimed, else the milliseconds to wait.
 */
async function claimAttempt(deps: Deps, key: string): Promise<number> {
  const now = deps.clock.now();
  const free = deps.config.ADMIN_SIGNIN_ATTEMPTS;
  const maxDelayMs = deps.config.ADMIN_SIGNIN_MAX_DELAY_SECONDS * 1000;
  const t = signinThrottle;
  const attempts = sql`(case when ${t.updatedAt} < ${now - THROTTLE_STALE_MS} then 1 else ${t.attempts} + 1 end)`;
  // After the n-th attempt the next one waits 0 while n < free, then 1 s, 2 s, 4 s ... capped.
  const delay = (n: unknown) =>
    sql`(case when ${n} < ${free} then 0 else min(${maxDelayMs}, 1000 * (1 << min(${n} - ${free}, 30))) end)`;
  const claimed = await deps.db
    .insert(t)
    .values({ key, attempts: 1, nextAt: now + (1 < free ? 0 : 1000), updatedAt: now })
    .onConflictDoUpdate({
      target: t.key,
      set: { attempts, nextAt: sql`${now} + ${delay(attempts)}`, updatedAt: now },
      setWhere: sql`${t.nextAt} <= ${now}`,
    })
    .returning({ attempts: t.attempts });
  if (claimed.length) return 0;
  const [row] = await deps.db.select({ nextAt: t.nextAt }).from(t).where(eq(t.key, key));
  return Math.max(1000, (row?.nextAt ?? now) - now);
}

/** Give back one attempt on `key` (a sign-in that proved its password), lifting any wait it set. */
async function refundAttempt(deps: Deps, key: string): Promise<void> {
  const t = signinThrottle;
  const free = deps.config.ADMIN_SIGNIN_ATTEMPTS;
  await deps.db
    .update(t)
    .set({
      attempts: sql`max(${t.attempts} - 1, 0)`,
      nextAt: sql`(case when ${t.attempts} - 1 < ${free} then ${t.updatedAt} else ${t.nextAt} end)`,
    })
    .where(eq(t.key, key));
}

const accountKey = async (deps: Deps, email: string) =>
  `acct:${await pseudonym(deps.config.TOKEN_SECRET, `admin:${email}`)}`;

/** The device cookie's key, if it is ours, unexpired and was issued for this account. */
async function deviceKey(
  deps: Deps,
  token: string | undefined,
  account: string,
): Promise<string | undefined> {
  if (!token || token.length > 400) return undefined;
  try {
    const { subject } = await verifyToken(deps.config, token, DEVICE_PURPOSE, deps.clock.now());
    const [forAccount, device] = subject.split(" ");
    return forAccount === account && device ? `dev:${device}` : undefined;
  } catch {
    return undefined;
  }
}

export async function signIn(
  deps: Deps,
  input: SignInInput & { clientKey: string; deviceToken?: string },
): Promise<{ token: string; session: AdminSession; deviceToken: string }> {
  const account = await accountKey(deps, input.email);
  const device = await deviceKey(deps, input.deviceToken, account);
  const keys = device
    ? [device]
    : [account, `ip:${await pseudonym(deps.config.TOKEN_SECRET, `admin-ip:${input.clientKey}`)}`];
  for (const key of keys) {
    const waitMs = await claimAttempt(deps, key);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new AppError(
        "rate_limited",
        `Too many sign-in attempts. Please wait ${seconds < 90 ? `${seconds} seconds` : `${Math.ceil(seconds / 60)} minutes`} and try again.`,
        { retryAfter: seconds },
      );
    }
  }
  const [user] = await deps.db.select().from(adminUsers).where(eq(adminUsers.email, input.email));
  const stored = user?.passwordHash ?? (await deps.passwords.dummyHash());
  const ok = (await deps.passwords.verify(stored, input.password)) && !!user;
  if (!user || !ok) {
    deps.logger.warn("admin sign-in failed", {});
    throw new AppError("sign_in_failed");
  }
  // The right password resets this account's (and this browser's) count. The address keeps its
  // count, so one lead's sign-in can't clear the way for guesses at another account, but gets
  // back the attempt this sign-in used: only wrong passwords slow an address down, so a team
  // signing in from one office is never made to wait.
  await deps.db
    .delete(signinThrottle)
    .where(inArray(signinThrottle.key, device ? [account, device] : [account]));
  if (!device) await refundAttempt(deps, keys[1] as string);
  if (deps.passwords.needsRehash(user.passwordHash)) {
    const upgraded = await deps.passwords.hash(input.password);
    // Conditional: a password changed meanwhile (CLI) is not overwritten with the old one.
    await deps.db
      .update(adminUsers)
      .set({ passwordHash: upgraded })
      .where(and(eq(adminUsers.id, user.id), eq(adminUsers.passwordHash, user.passwordHash)));
    deps.logger.info("admin password re-hashed", { userId: user.id });
  }
  const now = deps.clock.now();
  const token = randomToken();
  const session: AdminSession = {
    userId: user.id,
    email: user.email,
    csrfToken: randomToken(24),
    expiresAt: now + deps.config.ADMIN_SESSION_HOURS * 3_600_000,
    role: user.role,
    partnerKey: user.partnerKey,
  };
  await deps.atomic([
    deps.db.insert(adminSessions).values({
      tokenHash: await sha256Hex(token),
      userId: user.id,
      csrfToken: session.csrfToken,
      createdAt: now,
      expiresAt: session.expiresAt,
    }),
    deps.db.update(adminUsers).set({ lastSignInAt: now }).where(eq(adminUsers.id, user.id)),
  ]);
  const deviceToken = await signToken(deps.config, {
    purpose: DEVICE_PURPOSE,
    subject: `${account} ${device?.slice(4) ?? randomToken(12)}`,
    expiresAt: now + DEVICE_TTL_MS,
  });
  deps.logger.info("admin signed in", { userId: user.id, role: user.role });
  return { token, session, deviceToken };
}

/** The live session for a cookie token, or null (unknown, forged or expired). */
export async function sessionFor(deps: Deps, token: string | undefined): Promise<AdminSession | null> {
  if (!token || token.length > 100) return null;
  const [row] = await deps.db
    .select({
      userId: adminSessions.userId,
      email: adminUsers.email,
      csrfToken: adminSessions.csrfToken,
      expiresAt: adminSessions.expiresAt,
      role: adminUsers.role,
      partnerKey: adminUsers.partnerKey,
    })
    .from(adminSessions)
    .innerJoin(adminUsers, eq(adminUsers.id, adminSessions.userId))
    .where(
      and(eq(adminSessions.tokenHash, await sha256Hex(token)), gt(adminSessions.expiresAt, deps.clock.now())),
    );
  return row ?? null;
}

export async function signOut(deps: Deps, token: string): Promise<void> {
  await deps.db.delete(adminSessions).where(eq(adminSessions.tokenHash, await sha256Hex(token)));
}

/** Sign-in counters nobody has touched for a day (they would start from zero anyway). */
export async function deleteStaleThrottles(deps: Deps): Promise<number> {
  const gone = await deps.db
    .delete(signinThrottle)
    .where(lt(signinThrottle.updatedAt, deps.clock.now() - THROTTLE_STALE_MS))
    .returning({ key: signinThrottle.key });
  return gone.length;
}

export async function deleteExpiredSessions(deps: Deps): Promise<number> {
  const gone = await deps.db
    .delete(adminSessions)
    .where(lt(adminSessions.expiresAt, deps.clock.now()))
    .returning({ t: adminSessions.tokenHash });
  return gone.length;
}

/** Constant-time string comparison for CSRF tokens. */
export function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export { randomToken };
