/**
 * Widget routes: the partner-side loader (/widget.js), the journey under /embed for a partner,
 * our pages' small script and the partner accent stylesheet, and CORS on the JSON API for
 * partners' own origins (e.g. a pledge counter on their page).
 */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "../../http/types";
import { translate } from "../../lib/i18n";
import { journeyPages } from "../journey/journey.pages";
import { embedContext } from "./widget.embed";
import { APP_SCRIPT, widgetLoader } from "./widget.loader";
import { widgetOptions } from "./widget.options";
import { EmbedTheme, PartnerKey, type WidgetConfig } from "./widget.schemas";
import { embedOn, getPartnerSettings, isPartnerOrigin, usableAccent } from "./widget.service";

/** Partners' pages fetch the loader on every view: cache it, but let a fix reach them within minutes. */
const LOADER_CACHE = "public, max-age=300";

export const partnerCors = cors({
  origin: async (origin, c) => {
    if (!origin) return null;
    const deps = (c as unknown as { var: AppEnv["Variables"] }).var.deps;
    return (await isPartnerOrigin(deps, origin)) ? origin : null;
  },
  allowMethods: ["GET", "POST"],
  allowHeaders: ["content-type", "idempotency-key"],
  maxAge: 600,
});

export const widgetRoutes = new Hono<AppEnv>()
  .get("/widget.js", (c) =>
    c.body(widgetLoader(c.var.deps.config.campaign.hashtag), 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": LOADER_CACHE,
      // Cross-Origin-Resource-Policy: cross-origin is set by embedHeaders (after secureHeaders).
    }),
  )
  .get("/static/app.js", (c) =>
    c.body(APP_SCRIPT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }),
  )
  .get("/static/theme.css", (c) => {
    // Inline styles are blocked by our CSP (style-src 'self'), so a partner's accent arrives as a
    // tiny stylesheet. Only colours that keep AA contrast are used.
    const accent = usableAccent(EmbedTheme.parse({ accent: c.req.query("accent") }).accent);
    return c.body(accent ? `:root{--accent:#${accent}}` : "", 200, {
      "content-type": "text/css; charset=utf-8",
      "cache-control": "public, max-age=86400",
    });
  })
  // The loader's question before it inserts anything: is this partner's widget on? Public and
  // readable from any origin (no personal data, no credentials), always a 200 with JSON, so a
  // switched-off or unknown key costs the host page nothing, not even a console error.
  .get("/api/widget/:key", async (c) => {
    const key = PartnerKey.safeParse(c.req.param("key"));
    const partner = key.success ? await getPartnerSettings(c.var.deps, { key: key.data }) : null;
    const body: WidgetConfig = embedOn(partner)
      ? {
          enabled: true,
          lang: partner?.lang ?? "en",
          accent: usableAccent(partner?.accent ?? undefined) ?? null,
          titles: {
            en: "Write to your MP: #SpeakUpForBabies",
            cy: translate("cy", "Write to your MP: #SpeakUpForBabies"),
          },
        }
      : { enabled: false, reason: partner ? "off" : "unknown" };
    return c.json(body, 200, {
      "access-control-allow-origin": "*",
      "cross-origin-resource-policy": "cross-origin",
      // A partner's switch reaches its pages within a minute.
      "cache-control": "public, max-age=60",
    });
  })
  // The published widget security note: what the frame can and cannot do, and what stays with us.
  .get("/widget/security", (c) => {
    const deps = c.var.deps;
    c.header("cache-control", "public, max-age=3600");
    return c.html(
      deps.templates.render("pages/widget/security", {
        title: "The #SpeakUpForBabies widget: a security note for partners",
        publicUrl: deps.config.PUBLIC_URL,
        options: widgetOptions,
        retentionDays: deps.config.RETENTION_DAYS,
      }),
    );
  })
  .use("/embed", embedContext)
  .use("/embed/*", embedContext)
  .route("/embed", journeyPages("embed"));
