/**
 * Cross-site requests that change things, refused on every route (403 `csrf_failed`).
 *
 * Rules:
 * - A browser can send a "simple" request to any site without asking first: a form post
 *   (urlencoded, multipart) or a text/plain body. Those are refused when the browser says the
 *   request came from another site.
 * - Sec-Fetch-Site, when sent (every current browser), decides: same-origin or none (typed,
 *   bookmarked) pass; same-site and cross-site are refused. Without it, the Origin decides: ours
 *   (the request's own origin or PUBLIC_URL) passes, another site's is refused. "null" passes
 *   there: our pages send no referrer (their URLs carry tokens), and a browser old enough to lack
 *   Sec-Fetch-Site then sends Origin: null on our own forms.
 * - Requests with neither header are not from a browser page on another site (browsers send
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
  const site = c.req.header("sec-fetch-site");
  const origin = c.req.header("origin");
  const ours = (o: string) =>
    o === "null" || o === new URL(c.req.url).origin || o === new URL(c.var.deps.config.PUBLIC_URL).origin;
  const foreign = site ? site !== "same-origin" && site !== "none" : origin !== undefined && !ours(origin);
  if (foreign)
    throw new AppError("csrf_failed", "This form was not sent from our site, so nothing was done.");
  return next();
};
