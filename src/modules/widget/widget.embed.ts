/**
 * The /embed side of the widget: which partner a page is for, and the headers that let exactly
 * that partner's origins frame it.
 *
 * The partner (and theme) travel with every link and form inside the frame, as query string or
 * hidden fields, so the flow is stateless (no third-party cookies, which browsers block in
 * iframes anyway) and every action can record the partner.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../../http/types";
import { isLang, type Lang, translate } from "../../lib/i18n";
import { attributionFor } from "./widget.attribution";
import { EmbedTheme, PartnerKey } from "./widget.schemas";
import { embedOn, frameAncestors, getPartnerSettings, usableAccent } from "./widget.service";

export type EmbedContext = {
  /** null: unknown or inactive key; the page explains and offers nothing else. */
  partner: { key: string; name: string } | null;
  /**
   * The partner this flow is credited to: set only when it started on one of the partner's pages
   * (see widget.attribution.ts). The page still works, uncredited, when this is null.
   */
  attributed: string | null;
  /** Space-separated exact origins the frame may talk to (postMessage) and be framed by. */
  origins: string;
  /** CSP frame-ancestors source list. */
  frameAncestors: string;
  compact: boolean;
  accent?: string;
  /** The supporters' language: the page's data-lang (the `lang` query), else the partner's default. */
  lang: Lang;
  /** For links: "partner=…&accent=…&compact=1" (no leading separator). */
  qs: string;
  /** For forms: the same as hidden fields. */
  fields: { name: string; value: string }[];
};

const one = (v: unknown) =>
  typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";

async function embedParams(c: Context<AppEnv>) {
  const q = {
    partner: c.req.query("partner"),
    accent: c.req.query("accent"),
    compact: c.req.query("compact"),
    attr: c.req.query("attr"),
    lang: c.req.query("lang"),
  };
  if (c.req.method !== "POST") return q;
  const body = await c.req.parseBody();
  return {
    partner: q.partner ?? one(body.partner),
    accent: q.accent ?? (one(body.accent) || undefined),
    compact: q.compact ?? (one(body.compact) || undefined),
    attr: q.attr ?? (one(body.attr) || undefined),
    lang: q.lang ?? (one(body.lang) || undefined),
  };
}

/** Resolves the partner for every /embed page; unknown keys get a message, not the flow. */
export const embedContext: MiddlewareHandler<AppEnv> = async (c, next) => {
  const deps = c.var.deps;
  const raw = await embedParams(c);
  const theme = EmbedTheme.parse({ accent: raw.accent, compact: raw.compact });
  const key = PartnerKey.safeParse(raw.partner ?? "");
  const partner = key.success ? await getPartnerSettings(deps, { key: key.data }) : null;
  // Both switches on: the campaign's (active) and the partner's own (embed_enabled).
  const on = embedOn(partner);
  // The page's data-accent wins; else the partner's own; only colours white text stays readable on.
  const accent = usableAccent(theme.accent ?? partner?.accent ?? undefined);
  const lang: Lang = isLang(raw.lang) ? raw.lang : (partner?.lang ?? "en");
  const attribution = on && partner ? await attributionFor(c, partner.key, raw.attr) : undefined;
  const fields = [
    ...(partner ? [{ name: "partner", value: partner.key }] : []),
    ...(theme.accent && accent ? [{ name: "accent", value: accent }] : []),
    ...(theme.compact ? [{ name: "compact", value: "1" }] : []),
    ...(isLang(raw.lang) ? [{ name: "lang", value: lang }] : []),
    ...(attribution ? [{ name: "attr", value: attribution.token }] : []),
  ];
  c.set("embed", {
    partner: on && partner ? { key: partner.key, name: partner.name } : null,
    attributed: attribution?.partner ?? null,
    origins: on && partner ? partner.allowedOrigins.join(" ") : "",
    // The "unknown partner" page holds no form and no data: any site may frame it, so whoever
    // pasted a wrong key sees the explanation instead of a browser error.
    frameAncestors: on && partner ? frameAncestors(partner) : "*",
    compact: theme.compact,
    accent,
    lang,
    qs: fields.map((f) => `${f.name}=${encodeURIComponent(f.value)}`).join("&"),
    fields,
  });
  c.header("cache-control", "no-store");
  if (!on) {
    if (partner) deps.logger.info("embed for a switched-off partner", { partner: partner.key });
    return c.html(
      deps.templates.render("pages/widget/unavailable", {
        title: translate(lang, "This form isn't available here"),
        embed: c.var.embed,
        lang,
        base: "/embed",
        known: !!partner,
      }),
      404,
    );
  }
  await next();
};

/**
 * Registered in app.ts before secureHeaders, so it runs after it on the way out: on /embed pages
 * it swaps the global frame-ancestors 'none' for the partner's origins and drops X-Frame-Options
 * (which can't name other origins; browsers use frame-ancestors when both are present anyway).
 */
export const embedHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  // The loader is fetched by <script> from partners' pages (a cross-origin no-cors load), which
  // the global Cross-Origin-Resource-Policy: same-origin would block.
  if (c.req.path === "/widget.js") c.res.headers.set("cross-origin-resource-policy", "cross-origin");
  const embed = c.get("embed");
  if (!embed) return;
  const csp = c.res.headers.get("content-security-policy");
  if (csp)
    c.res.headers.set(
      "content-security-policy",
      csp.replace(/frame-ancestors [^;]*/, `frame-ancestors ${embed.frameAncestors}`),
    );
  c.res.headers.delete("x-frame-options");
};
