/**
 * Site-wide static files: the stylesheet shared by every page (in the campaign's colours), the
 * campaign's pictures (logo, hero image: data/campaigns/<file>, named by its branding) and the
 * favicon. The lookup steps themselves (postcode, your MP, search) are the first steps of the
 * supporter journey: see modules/journey/journey.pages.ts.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { AppError } from "../../lib/errors";
import { brandingOf } from "../letters/letters.campaign";

/** Campaign pictures change only with a restart (or a deploy): a day's caching is safe. */
const ASSET_CACHE = "public, max-age=86400";

/** Used when the campaign names no SVG logo: a speech bubble in the default accent colour. */
const DEFAULT_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><path fill="#6b2c91" d="M32 4C16.5 4 4 14.7 4 28c0 7.6 4.1 14.4 10.5 18.8L12 60l13.4-8.3c2.1.4 4.3.6 6.6.6 15.5 0 28-10.7 28-24S47.5 4 32 4z"/></svg>`;

export const lookupPages = new Hono<AppEnv>()
  .get("/static/app.css", (c) => {
    c.header("cache-control", "public, max-age=3600");
    return c.body(c.var.deps.templates.render("pages/app.css", {}), 200, {
      "content-type": "text/css; charset=utf-8",
    });
  })
  .get("/campaign/:file", (c) => {
    const asset = c.var.deps.config.assets[c.req.param("file")];
    if (!asset) throw new AppError("not_found", "There is nothing at this address.");
    return c.body(asset.body as Uint8Array<ArrayBuffer>, 200, {
      "content-type": asset.type,
      "cache-control": ASSET_CACHE,
    });
  })
  // Browsers ask for /favicon.ico whatever the page says; an SVG answers it (every current
  // browser reads the content type, not the name).
  .get("/favicon.ico", (c) => {
    const config = c.var.deps.config;
    const logo = brandingOf(config.campaign).logo;
    const asset = logo && config.assets[logo.file];
    const svg = asset?.type === "image/svg+xml" ? asset.body : new TextEncoder().encode(DEFAULT_ICON);
    return c.body(svg as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "image/svg+xml",
      "cache-control": ASSET_CACHE,
    });
  });
