/**
 * The campaign leads' dashboard: server-rendered, readable without JavaScript.
 *
 * Rules:
 * - Everything under /admin except the sign-in form needs a live session (cookie -> row); no
 *   session answers 401 (browsers asking for a page are sent to the sign-in form instead).
 * - Every POST passes two CSRF checks: Hono's csrf() (Origin / Sec-Fetch-Site must be ours) and
 *   the session's token in `_csrf` (or x-csrf-token). The sign-in form uses a double-submit
 *   cookie for the same purpose, as there is no session yet.
 * - Admin responses are never cached (no-store).
 */
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { clientOf } from "../../http/client";
import { withinLimit } from "../../http/rate-limit";
import type { AppEnv } from "../../http/types";
import { AppError, isAppError } from "../../lib/errors";
import { probeRelayNow } from "../delivery/delivery.relay";
import { AdminVerifyInput } from "../pledges/pledges.schemas";
import { adminVerifyRepPledge } from "../pledges/pledges.service";
import {
  type AdminSession,
  DEVICE_TTL_MS,
  randomToken,
  SignInInput,
  sameToken,
  sessionFor,
  signIn,
  signOut,
} from "./admin.auth";
import { checkSameOrigin } from "./admin.csrf";
import { constituenciesCsv, pledgesCsv, representativesCsv } from "./admin.export";
import { recentReplies, replyRates } from "./admin.replies";
import {
  byConstituency,
  cancelOutbox,
  clearFlag,
  dashboard,
  moderateLetter,
  moderationQueue,
  outboxHealth,
  repPledgeList,
  requeueDeadOutbox,
  retryOutbox,
} from "./admin.service";
import { dailyChart, hexMap } from "./admin.svg";

export type AdminEnv = { Variables: AppEnv["Variables"] & { admin: AdminSession; adminToken: string } };

const SIGN_IN_PATH = "/admin/sign-in";
const SIGN_IN_CSRF_COOKIE = "speakup_signin";
/** Marks a browser that has signed in to an account before (see admin.auth.ts). */
const DEVICE_COOKIE = "speakup_device";

function cookieName(c: Context) {
  // The __Host- prefix pins the cookie to this host and path "/" with Secure; browsers only
  // accept it over https, so plain-http development uses an unprefixed name.
  return (c.var as AppEnv["Variables"]).deps.config.PUBLIC_URL.startsWith("https:")
    ? "__Host-speakup_admin"
    : "speakup_admin";
}

/** The signed-in lead behind this request, if any (for pages outside /admin, e.g. /dev/mail). */
export const adminSessionOf = async (c: Context<AppEnv>) => {
  const session = await sessionFor(c.var.deps, getCookie(c, cookieName(c)));
  return session?.role === "lead" ? session : null;
};

/** The session behind this request's cookie, whatever its role (partner pages check their own). */
export const sessionOf = (c: Context) => {
  const token = getCookie(c, cookieName(c));
  return { token, session: sessionFor((c.var as AppEnv["Variables"]).deps, token) };
};

/** Forget this browser's session cookie (after signing out). */
export const clearSessionCookie = (c: Context) => deleteCookie(c, cookieName(c), { path: "/", secure: true });

export { SIGN_IN_PATH };

const cookieOptions = (_c: Context<AdminEnv>, maxAge: number) => ({
  path: "/",
  httpOnly: true,
  secure: true,
  sameSite: "Strict" as const,
  maxAge,
});

const wantsHtml = (c: Context) => (c.req.header("accept") ?? "").includes("text/html");

export const requireAdmin: MiddlewareHandler<AdminEnv> = async (c, next) => {
  if (c.req.path === SIGN_IN_PATH) return next();
  const token = getCookie(c, cookieName(c));
  const session = await sessionFor(c.var.deps, token);
  if (!session) {
    if (c.req.method === "GET" && wantsHtml(c)) return c.redirect(SIGN_IN_PATH, 303);
    throw new AppError("unauthorized", "Sign in to see the campaign dashboard.");
  }
  // The dashboard is the campaign team's alone: a partner contact's session opens /partner only.
  if (session.role !== "lead") {
    if (c.req.method === "GET" && wantsHtml(c)) return c.redirect("/partner", 303);
    throw new AppError("forbidden", "This account can see its own partner's pages only, at /partner.");
  }
  c.set("admin", session);
  c.set("adminToken", token as string);
  c.header("cache-control", "no-store");
  await next();
};

export const requireCsrf: MiddlewareHandler<AdminEnv> = async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.path === SIGN_IN_PATH) return next();
  await checkSameOrigin(c as unknown as Context<AppEnv>);
  let sent = c.req.header("x-csrf-token") ?? "";
  if (!sent) {
    const type = c.req.header("content-type") ?? "";
    if (type.startsWith("application/x-www-form-urlencoded") || type.startsWith("multipart/form-data")) {
      const v = (await c.req.parseBody())._csrf;
      sent = typeof v === "string" ? v : "";
    }
  }
  if (!sameToken(sent, c.var.admin.csrfToken))
    throw new AppError(
      "csrf_failed",
      "The form's security token is missing or out of date. Reload the page.",
    );
  await next();
};

function page(c: Context<AdminEnv>, name: string, data: Record<string, unknown>, status = 200) {
  return c.html(
    c.var.deps.templates.render(`pages/admin/${name}`, {
      ...data,
      admin: { email: c.var.admin.email, csrf: c.var.admin.csrfToken },
    }),
    status as 200,
  );
}

const csvResponse = (c: Context, name: string, body: ReadableStream<Uint8Array>) =>
  c.body(body, 200, {
    "content-type": "text/csv; charset=utf-8",
    "content-disposition": `attachment; filename="${name}"`,
    "cache-control": "no-store",
  });

const IdParam = z.object({ id: z.string().min(1).max(100) });
const FlagInput = z.object({ address: z.string().trim().min(3).max(254) });
const MapMetric = z.enum(["pledges", "letters"]).catch("pledges");

export const adminRoutes = new Hono<AdminEnv>()
  .use("/admin", requireAdmin, requireCsrf)
  .use("/admin/*", requireAdmin, requireCsrf)
  .get(SIGN_IN_PATH, (c) => {
    const token = randomToken(24);
    setCookie(c, SIGN_IN_CSRF_COOKIE, token, { ...cookieOptions(c, 3600), path: SIGN_IN_PATH });
    c.header("cache-control", "no-store");
    return c.html(c.var.deps.templates.render("pages/admin/sign-in", { title: "Sign in", csrf: token }));
  })
  .post(SIGN_IN_PATH, async (c) => {
    const deps = c.var.deps;
    await checkSameOrigin(c as unknown as Context<AppEnv>);
    const body = await c.req.parseBody();
    const cookieToken = getCookie(c, SIGN_IN_CSRF_COOKIE) ?? "";
    if (!sameToken(typeof body._csrf === "string" ? body._csrf : "", cookieToken))
      throw new AppError("csrf_failed", "The sign-in form has expired. Reload the page and try again.");
    const input = SignInInput.safeParse(body);
    const deviceToken = getCookie(c, DEVICE_COOKIE);
    const rerender = (message: string, status: number) => {
      const token = randomToken(24);
      setCookie(c, SIGN_IN_CSRF_COOKIE, token, { ...cookieOptions(c, 3600), path: SIGN_IN_PATH });
      return c.html(
        deps.templates.render("pages/admin/sign-in", {
          title: "Sign in",
          csrf: token,
          email: typeof body.email === "string" ? body.email.slice(0, 254) : "",
          error: message,
        }),
        status as 401,
      );
    };
    try {
      withinLimit(c as unknown as Context<AppEnv>);
      if (!input.success) return rerender("Enter your email address and password.", 400);
      const signedIn = await signIn(deps, {
        ...input.data,
        clientKey: clientOf(c as unknown as Context<AppEnv>).key,
        deviceToken,
      });
      setCookie(c, cookieName(c), signedIn.token, cookieOptions(c, deps.config.ADMIN_SESSION_HOURS * 3600));
      setCookie(c, DEVICE_COOKIE, signedIn.deviceToken, {
        ...cookieOptions(c, DEVICE_TTL_MS / 1000),
        path: SIGN_IN_PATH,
      });
      deleteCookie(c, SIGN_IN_CSRF_COOKIE, { path: SIGN_IN_PATH, secure: true });
      return c.redirect(signedIn.session.role === "partner" ? "/partner" : "/admin", 303);
    } catch (e) {
      if (!isAppError(e) || e.code === "internal") throw e;
      if (typeof e.extra.retryAfter === "number") c.header("retry-after", String(e.extra.retryAfter));
      return rerender(e.detail ?? e.title, e.status);
    }
  })
  .post("/admin/sign-out", async (c) => {
    await signOut(c.var.deps, c.var.adminToken);
    deleteCookie(c, cookieName(c), { path: "/", secure: true });
    return c.redirect(SIGN_IN_PATH, 303);
  })
  .get("/admin", async (c) => {
    const metric = MapMetric.parse(c.req.query("map"));
    const d = await dashboard(c.var.deps);
    return page(c, "dashboard", {
      title: "Campaign dashboard",
      d,
      metric,
      chart: dailyChart(d.days),
      map: hexMap(
        d.seats.map((s) => ({ ...s, value: metric === "letters" ? s.letters : s.pledges })),
        metric,
      ),
      recentDays: d.days.slice(-14).reverse(),
    });
  })
  .get("/admin/constituencies", async (c) =>
    page(c, "constituencies", { title: "By constituency", seats: await byConstituency(c.var.deps) }),
  )
  .get("/admin/representatives", async (c) =>
    page(c, "representatives", { title: "MP and candidate pledges", reps: await repPledgeList(c.var.deps) }),
  )
  .post("/admin/representatives/verify", async (c) => {
    const input = AdminVerifyInput.safeParse(await c.req.parseBody());
    if (!input.success)
      throw new AppError("validation_failed", input.error.issues.map((i) => i.message).join("; "));
    await adminVerifyRepPledge(c.var.deps, { ...input.data, userId: c.var.admin.userId });
    return c.redirect("/admin/representatives", 303);
  })
  .get("/admin/outbox", async (c) =>
    page(c, "outbox", { title: "Outbox", ...(await outboxHealth(c.var.deps)) }),
  )
  .post("/admin/outbox/:id/retry", async (c) => {
    await retryOutbox(c.var.deps, IdParam.parse(c.req.param()));
    return c.redirect("/admin/outbox", 303);
  })
  .post("/admin/outbox/:id/cancel", async (c) => {
    await cancelOutbox(c.var.deps, IdParam.parse(c.req.param()));
    return c.redirect("/admin/outbox", 303);
  })
  .post("/admin/outbox/:id/requeue", async (c) => {
    await requeueDeadOutbox(c.var.deps, IdParam.parse(c.req.param()));
    return c.redirect("/admin/outbox", 303);
  })
  .post("/admin/outbox/relay/probe", async (c) => {
    await probeRelayNow(c.var.deps);
    return c.redirect("/admin/outbox", 303);
  })
  .post("/admin/outbox/flags/clear", async (c) => {
    const input = FlagInput.safeParse(await c.req.parseBody());
    if (!input.success) throw new AppError("validation_failed", "Which address?");
    await clearFlag(c.var.deps, input.data);
    return c.redirect("/admin/outbox", 303);
  })
  .get("/admin/replies", async (c) => {
    const deps = c.var.deps;
    const [replies, recent] = await Promise.all([replyRates(deps), recentReplies(deps)]);
    return page(c, "replies", { title: "Replies", replies, recent });
  })
  .get("/admin/moderation", async (c) =>
    page(c, "moderation", { title: "Moderation", letters: await moderationQueue(c.var.deps) }),
  )
  .post("/admin/moderation/:id/release", async (c) => {
    await moderateLetter(c.var.deps, { ...IdParam.parse(c.req.param()), decision: "release" });
    return c.redirect("/admin/moderation", 303);
  })
  .post("/admin/moderation/:id/reject", async (c) => {
    await moderateLetter(c.var.deps, { ...IdParam.parse(c.req.param()), decision: "reject" });
    return c.redirect("/admin/moderation", 303);
  })
  .get("/admin/map.svg", async (c) => {
    const metric = MapMetric.parse(c.req.query("metric"));
    const seats = await byConstituency(c.var.deps);
    const svg = hexMap(
      seats.map((s) => ({ ...s, value: metric === "letters" ? s.letters : s.pledges })),
      metric,
    );
    return c.body(svg, 200, { "content-type": "image/svg+xml; charset=utf-8" });
  })
  .get("/admin/export/pledges.csv", (c) => csvResponse(c, "pledges.csv", pledgesCsv(c.var.deps)))
  .get("/admin/export/constituencies.csv", (c) =>
    csvResponse(c, "constituencies.csv", constituenciesCsv(c.var.deps)),
  )
  .get("/admin/export/representatives.csv", (c) =>
    csvResponse(c, "representatives.csv", representativesCsv(c.var.deps)),
  )
  .get("/static/admin.css", (c) => {
    c.header("cache-control", "public, max-age=3600");
    return c.body(c.var.deps.templates.render("pages/admin/admin.css", {}), 200, {
      "content-type": "text/css; charset=utf-8",
    });
  });
