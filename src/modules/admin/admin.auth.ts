/**
 * Campaign leads' sign-in.
 *
 * Rules:
 * - Passwords: bcrypt (bcryptjs, pure JS, so it runs on Workers too). A sign-in for an unknown
 *   address still runs one bcrypt comparison, so timing does not reveal which addresses exist.
 * - Sessions are server-side rows keyed by SHA-256 of a 256-bit random token; the cookie holds the
 *   token (HttpOnly, Secure, SameSite=Strict, __Host- prefix over https). A forged or stale cookie
 *   matches no row. Signing out deletes the row.
 * - Each session has its own CSRF token; every admin POST must carry it (hidden `_csrf` field or
 *   `x-csrf-token` header), on top of Hono's Origin / Sec-Fetch-Site check.
 * - Failed sign-ins are limited per account and per client address (rate-limiter-flexible, in
 *   process memory: one Node process; on Workers it is per isolate, which still slows guessing).
 */
import bcrypt from "bcryptjs";
import { and, eq, gt, lt } from "drizzle-orm";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { z } from "zod";
import { adminSessions, adminUsers } from "../../db/schema";
import type { Deps } from "../../deps";
import type { Config } from "../../env";
import { AppError } from "../../lib/errors";
import { sha256Hex } from "../../lib/tokens";

export const SIGN_IN_WINDOW_S = 15 * 60;

export const CreateUserInput = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email("an email address")),
  password: z.string().min(12, "at least 12 characters").max(72, "bcrypt uses at most 72 bytes"),
});
export type CreateUserInput = z.infer<typeof CreateUserInput>;

export const SignInInput = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().min(1).max(200),
});
export type SignInInput = z.infer<typeof SignInInput>;

export type AdminSession = { userId: string; email: string; csrfToken: string; expiresAt: number };

function randomToken(bytes = 32): string {
  const b = crypto.getRandomValues(new Uint8Array(bytes));
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export async function createUser(deps: Deps, input: CreateUserInput): Promise<{ id: string; email: string }> {
  const passwordHash = await bcrypt.hash(input.password, deps.config.ADMIN_BCRYPT_COST);
  const id = deps.ids.uuid();
  const [row] = await deps.db
    .insert(adminUsers)
    .values({ id, email: input.email, passwordHash, createdAt: deps.clock.now() })
    .onConflictDoUpdate({ target: adminUsers.email, set: { passwordHash } })
    .returning({ id: adminUsers.id, email: adminUsers.email });
  if (!row) throw new AppError("internal");
  // A password change ends every existing session of that user.
  await deps.db.delete(adminSessions).where(eq(adminSessions.userId, row.id));
  return row;
}

const limiters = new WeakMap<Config, RateLimiterMemory>();
function signInLimiter(deps: Deps) {
  let l = limiters.get(deps.config);
  if (!l) {
    l = new RateLimiterMemory({ points: deps.config.ADMIN_SIGNIN_ATTEMPTS, duration: SIGN_IN_WINDOW_S });
    limiters.set(deps.config, l);
  }
  return l;
}

/** Placeholder hash compared against when the address is unknown (equal work either way). */
const DUMMY_HASH = "$2b$12$/D4RdONlfPVzr5o4VsgOj.EWi6NgEIl.Q1YZ/JfbfTkTFu517rARi";

export async function signIn(
  deps: Deps,
  input: SignInInput & { clientKey: string },
): Promise<{ token: string; session: AdminSession }> {
  const limiter = signInLimiter(deps);
  const keys = [`acct:${await sha256Hex(input.email)}`, `ip:${input.clientKey}`];
  for (const key of keys) {
    const state = await limiter.get(key);
    if (state && state.consumedPoints >= deps.config.ADMIN_SIGNIN_ATTEMPTS) {
      throw new AppError("rate_limited", "Too many failed sign-ins. Please wait and try again.", {
        retryAfter: Math.ceil(state.msBeforeNext / 1000),
      });
    }
  }
  const [user] = await deps.db.select().from(adminUsers).where(eq(adminUsers.email, input.email));
  const ok = await bcrypt.compare(input.password, user?.passwordHash ?? DUMMY_HASH);
  if (!user || !ok) {
    for (const key of keys)
      await limiter.consume(key).catch((e) => e instanceof RateLimiterRes || Promise.reject(e));
    deps.logger.warn("admin sign-in failed", {});
    throw new AppError("sign_in_failed");
  }
  await limiter.delete(keys[0] as string);
  const now = deps.clock.now();
  const token = randomToken();
  const session: AdminSession = {
    userId: user.id,
    email: user.email,
    csrfToken: randomToken(24),
    expiresAt: now + deps.config.ADMIN_SESSION_HOURS * 3_600_000,
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
  deps.logger.info("admin signed in", { userId: user.id });
  return { token, session };
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
