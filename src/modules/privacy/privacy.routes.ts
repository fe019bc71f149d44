/**
 * The privacy notice and supporters' export / erasure requests. Pages work without JavaScript;
 * emailed links open a page with a button and only the POST acts. Form POSTs pass Hono's
 * csrf() check (Origin / Sec-Fetch-Site, via sameOriginOnly): nobody else's page can file a request for a visitor.
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import { withinLimit } from "../../http/rate-limit";
import type { AppEnv } from "../../http/types";
import { EmailField } from "../../lib/email";
import { AppError, isAppError } from "../../lib/errors";
import { safeErrorText } from "../../lib/safe-error";
import { sameOriginOnly } from "../admin/admin.csrf";
import {
  erasePersonalData,
  exportPersonalData,
  privacyNotice,
  privacyRequestFor,
  processPrivacyRequests,
  requestPrivacyLink,
} from "./privacy.service";

const PrivacyRequestInput = z.object({
  email: EmailField,
  kind: z.enum(["export", "erase"]),
});

const str = (v: unknown) => (typeof v === "string" ? v : "");

/**
 * On Workers, answer pending requests right after this response has gone (waitUntil, a macrotask
 * later, so none of it runs on the response path): at most three, about 20 D1 queries, well
 * inside one invocation's allowance even on the Free plan; the cron's sweep answers the rest. On Node there is no execution context: the outbox
 * worker's next pass answers it (every OUTBOX_POLL_MS).
 */
function answerSoon(c: Context<AppEnv>) {
  let ctx: { waitUntil(p: Promise<unknown>): void } | undefined;
  try {
    ctx = c.executionCtx;
  } catch {
    return;
  }
  const deps = c.var.deps;
  ctx.waitUntil(
    new Promise((r) => setTimeout(r, 0))
      .then(() => processPrivacyRequests(deps, { limit: 3 }))
      .catch((e) => deps.logger.error("privacy requests: answering failed", { error: safeErrorText(e) })),
  );
}

export const privacyRoutes = new Hono<AppEnv>()
  .use("/privacy/*", sameOriginOnly())
  .get("/privacy", (c) =>
    c.html(
      c.var.deps.templates.render("pages/privacy", {
        title: "Privacy notice",
        notice: privacyNotice(c.var.deps),
      }),
    ),
  )
  .post("/privacy/request", async (c) => {
    const deps = c.var.deps;
    const body = await c.req.parseBody();
    const again = (error: string, status: number) =>
      c.html(
        deps.templates.render("pages/privacy", {
          title: "Privacy notice",
          notice: privacyNotice(deps),
          error,
          email: str(body.email).slice(0, 254),
          kind: str(body.kind),
        }),
        status as 400,
      );
    const parsed = PrivacyRequestInput.safeParse({ email: str(body.email), kind: str(body.kind) });
    try {
      withinLimit(c);
      if (!parsed.success) return again(parsed.error.issues[0]?.message ?? "enter your email address", 400);
      await requestPrivacyLink(deps, parsed.data);
      answerSoon(c);
    } catch (e) {
      if (!isAppError(e) || e.code === "internal") throw e;
      if (typeof e.extra.retryAfter === "number")
        c.header("retry-after", String(Math.ceil(e.extra.retryAfter)));
      return again(e.detail ?? e.title, e.status);
    }
    return c.html(deps.templates.render("pages/privacy", { title: "Check your email", sent: true }), 202);
  })
  .get("/privacy/:kind{export|erase}", async (c) => {
    const deps = c.var.deps;
    const kind = c.req.param("kind") as "export" | "erase";
    const token = c.req.query("token") ?? "";
    await privacyRequestFor(deps, { token, kind });
    c.header("cache-control", "no-store");
    return c.html(deps.templates.render("pages/privacy", { title: "Your data", confirm: { kind, token } }));
  })
  .post("/privacy/export", async (c) => {
    const token = str((await c.req.parseBody()).token);
    const data = await exportPersonalData(c.var.deps, { token });
    return c.body(JSON.stringify(data, null, 2), 200, {
      "content-type": "application/json; charset=utf-8",
      "content-disposition": 'attachment; filename="speakup-my-data.json"',
      "cache-control": "no-store",
    });
  })
  .post("/privacy/erase", async (c) => {
    const token = str((await c.req.parseBody()).token);
    if (!token) throw new AppError("token_malformed");
    await erasePersonalData(c.var.deps, { token });
    return c.html(
      c.var.deps.templates.render("pages/privacy", { title: "Your data is erased", erased: true }),
    );
  });
