/**
 * Cross-site requests that change things, refused on every route (403 `csrf_failed`).
 *
 * Rules:
 * - A browser can send a "simple" request to any site without asking first: a form post
 *   (urlencoded, multipart) or a text/plain body. Those are refused when the browser says the
 *   request came from another site: an Origin that is not ours (the request's own origin or
 *   PUBLIC_URL), or Sec-Fetch-Site cross-site / same-site without our Origin.
 * - Requests without either header are not from a browser page on another site (browsers send
 *   Origin on every cross-origin POST), so scripts and curl keep working; the admin and privacy
 *   forms are stricter still (admin.csrf.ts: both headers missing is refused there too).
 * - JSON is never a simple request: a browser on another origin must ask first (CORS preflight),
 *   and only partners' allowed origins get a yes (widget.routes.ts).
 * - Signed webhooks (/webhooks/*) come from a mail provider's servers, not from a page.
 */
import type { MiddlewareHandler } from "hono";
import { AppError } from "../lib/errors";
import type { AppEnv } from "./types";

const SAFE = /^(GET|HEAD|OPTIONS)$/;
const SIMPLE = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

export const crossSiteGuard: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (SAFE.test(c.req.method) || c.req.path.startsWith("/webhooks/")) return next();
  const type = c.req.header("content-type") ?? "text/plain";
  if (!SIMPLE.test(type)) return next();
  const origin = c.req.header("origin");
  const site = c.req.header("sec-fetch-site");
  const ours = (o: string) =>
    o === new URL(c.req.url).origin || o === new URL(c.var.deps.config.PUBLIC_URL).origin;
  const foreignOrigin = origin !== undefined && !ours(origin);
  const foreignSite = (site === "cross-site" || site === "same-site") && !(origin && ours(origin));
  if (foreignOrigin || foreignSite)
    throw new AppError("csrf_failed", "This form was not sent from our site, so nothing was done.");
  return next();
};
