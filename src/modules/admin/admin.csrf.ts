/**
 * Hono's csrf() (Origin / Sec-Fetch-Site must be this site or PUBLIC_URL) as a middleware that
 * fails with our own `csrf_failed` problem instead of a bare 403 text response.
 */
import type { Context, MiddlewareHandler } from "hono";
import { csrf } from "hono/csrf";
import type { AppEnv } from "../../http/types";
import { AppError } from "../../lib/errors";

export async function checkSameOrigin(c: Context<AppEnv>): Promise<void> {
  const check = csrf({
    origin: (origin, ctx) =>
      origin === new URL(ctx.req.url).origin || origin === new URL(c.var.deps.config.PUBLIC_URL).origin,
  });
  try {
    await check(c, async () => {});
  } catch {
    throw new AppError("csrf_failed", "This form was not sent from our site.");
  }
}

export const sameOriginOnly = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  await checkSameOrigin(c);
  await next();
};
