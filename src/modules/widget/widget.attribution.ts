/**
 * Partner attribution: which partner a letter or pledge is credited to.
 *
 * Rules:
 * - A partner key alone proves nothing (it is printed in every partner's page source). Credit is
 *   given only for an active partner, and only when the action demonstrably started on one of
 *   that partner's allowed origins:
 *   - JSON API: the browser's Origin header is one of them (a CORS call from the partner's page);
 *   - pages and the embed: the first page was requested from one of them (Origin, else the
 *     Referer's origin; the widget loader asks browsers to send it). That page carries a signed,
 *     expiring attribution token in its links and forms, and later steps verify it, because
 *     inside the frame the requests come from our own origin.
 * - Without proof the action still succeeds; it is just not credited to anyone.
 * - Browsers can't forge Origin or Referer; a script outside a browser can, so these counts are
 *   "as reported by browsers", good enough to see how the campaign spreads, never to pay by.
 */
import type { Context } from "hono";
import type { Deps } from "../../deps";
import type { AppEnv } from "../../http/types";
import { isAppError } from "../../lib/errors";
import { signToken, verifyToken } from "../../lib/tokens";
import { PartnerKey } from "./widget.schemas";
import { getPartner } from "./widget.service";

export const ATTRIBUTION_PURPOSE = "partner.attribution";
/** Long enough to finish a letter in one sitting (or after lunch); it only ever names a partner. */
const ATTRIBUTION_TTL_MS = 12 * 60 * 60 * 1000;

/** The origin of the page a request was made from, as the browser says it (Origin, else Referer). */
export function sourceOrigin(c: Context<AppEnv>): string | undefined {
  const origin = c.req.header("origin");
  if (origin && origin !== "null") return origin;
  const referer = c.req.header("referer");
  if (!referer) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}

/** The key, if it names an active partner that lists `origin` among its own. */
export async function partnerForOrigin(
  deps: Pick<Deps, "db">,
  key: string | undefined,
  origin: string | undefined,
): Promise<string | undefined> {
  const parsed = PartnerKey.safeParse(key ?? "");
  if (!parsed.success || !origin) return undefined;
  const partner = await getPartner(deps, { key: parsed.data });
  return partner?.active && partner.allowedOrigins.includes(origin) ? partner.key : undefined;
}

/** JSON API: credit `key` only for a call made from one of that partner's pages. */
export const creditedPartner = (c: Context<AppEnv>, key: string | undefined) =>
  partnerForOrigin(c.var.deps, key, c.req.header("origin"));

export const mintAttribution = (deps: Pick<Deps, "config" | "clock">, key: string) =>
  signToken(deps.config, {
    purpose: ATTRIBUTION_PURPOSE,
    subject: key,
    expiresAt: deps.clock.now() + ATTRIBUTION_TTL_MS,
  });

/** The partner an attribution token names, if it is valid, unexpired and the partner still active. */
export async function verifyAttribution(
  deps: Pick<Deps, "config" | "clock" | "db">,
  token: string | undefined,
): Promise<string | undefined> {
  if (!token) return undefined;
  try {
    const { subject } = await verifyToken(deps.config, token, ATTRIBUTION_PURPOSE, deps.clock.now());
    const partner = await getPartner(deps, { key: subject });
    return partner?.active ? partner.key : undefined;
  } catch (e) {
    if (isAppError(e)) return undefined;
    throw e;
  }
}

/**
 * For a page that starts a flow (the embed's first page, the site's pledge form): the partner to
 * credit, and a token to carry, if this request came from one of the partner's pages or carries
 * a valid token already.
 */
export async function attributionFor(
  c: Context<AppEnv>,
  key: string | undefined,
  token: string | undefined,
): Promise<{ partner: string; token: string } | undefined> {
  const deps = c.var.deps;
  const fromToken = await verifyAttribution(deps, token);
  if (fromToken && token && (!key || key === fromToken)) return { partner: fromToken, token };
  const fromPage = await partnerForOrigin(deps, key, sourceOrigin(c));
  return fromPage ? { partner: fromPage, token: await mintAttribution(deps, fromPage) } : undefined;
}
