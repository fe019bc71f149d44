/**
 * The HTTP application, built from a deps provider. No runtime imports here (no node:*, no
 * drivers, no process.env): the Node and Workers adapters build the deps and call createApp.
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ProvideDeps } from "./deps";
import { bodyGuard } from "./http/body";
import { clientAddress } from "./http/client";
import { crossSiteGuard } from "./http/csrf";
import { onError } from "./http/problem";
import { limit } from "./http/rate-limit";
import type { AppEnv } from "./http/types";
import { AppError } from "./lib/errors";
import { adminRoutes } from "./modules/admin/admin.routes";
import { apiRoutes } from "./modules/api/api.routes";
import { deliveryRoutes } from "./modules/delivery/delivery.routes";
import { digestRoutes } from "./modules/digest/digest.routes";
import { journeyPages } from "./modules/journey/journey.pages";
import { letterPages } from "./modules/letters/letters.pages";
import { letterRoutes } from "./modules/letters/letters.routes";
import { lookupPages } from "./modules/lookup/lookup.pages";
import { lookupRoutes } from "./modules/lookup/lookup.routes";
import { partnerAdmin } from "./modules/partners/partners.admin";
import { partnerPages } from "./modules/partners/partners.routes";
import { pledgePages } from "./modules/pledges/pledges.pages";
import { pledgeRoutes } from "./modules/pledges/pledges.routes";
import { privacyRoutes } from "./modules/privacy/privacy.routes";
import { widgetAdmin } from "./modules/widget/widget.admin";
import { embedHeaders } from "./modules/widget/widget.embed";
import { partnerCors, widgetRoutes } from "./modules/widget/widget.routes";

export function createApp(provideDeps: ProvideDeps) {
  const app = new Hono<AppEnv>();

  app.use(requestId({ headerName: "x-request-id", limitLength: 64 }));
  app.use(async (c, next) => {
    c.set("deps", provideDeps(c.env));
    await next();
  });
  // Who the request is from, once, for every limit and every "is this local?" question.
  app.use(clientAddress);
  // Before secureHeaders so it runs after it: /embed pages get their partner's frame-ancestors.
  app.use(embedHeaders);
  app.use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      crossOriginEmbedderPolicy: false,
    }),
  );
  // Access log: method, route, status and time only. Never the query string or body, which carry
  // postcodes, emails and letter text.
  app.use(async (c, next) => {
    const start = Date.now();
    await next();
    c.var.deps.logger.debug("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      route: c.req.routePath,
      status: c.res.status,
      ms: Date.now() - start,
    });
  });

  // A form or text/plain POST from another site's page is refused before anything reads it.
  app.use(crossSiteGuard);
  // Every body, on every route, is size-limited and checked before anything parses it.
  app.use(bodyGuard);

  app.get("/healthz", (c) => c.json({ ok: true }));
  // Per-client-address limits (src/http/rate-limit.ts). Form routes show a refusal in the form.
  app.get("/api/lookup", limit("lookup"));
  app.get("/api/constituencies/*", limit("lookup"));
  for (const base of ["", "/embed"]) {
    app.get(`${base}/find`, limit("lookup", { inForm: true }));
    app.get(`${base}/write`, limit("lookup", { inForm: true }));
    app.post(`${base}/write`, limit("preview", { inForm: true }));
    app.post(`${base}/write/preview`, limit("preview", { inForm: true }));
    app.post(`${base}/write/send`, limit("submit", { inForm: true }));
    app.post(`${base}/pledge`, limit("pledge", { inForm: true }));
  }
  app.post("/api/letters/preview", limit("preview"));
  app.post("/api/letters", limit("submit"));
  app.post("/api/letters/group/preview", limit("preview"));
  app.post("/api/letters/group", limit("submit"));
  app.post("/api/pledges", limit("pledge"));
  app.post("/api/representatives/:kind/:ref/pledge-link", limit("resend"));
  app.post("/pledge/:kind{mp|candidate|msp|ms|mla}/:ref", limit("resend"));
  app.post("/privacy/request", limit("privacy", { inForm: true }));
  app.post("/admin/sign-in", limit("signin", { inForm: true }));
  // CORS only for requests that carry an Origin (the partner widget). Hono's cors appends "Vary:
  // Origin" after the handler, which rebuilds the finished response and pushes @hono/node-server
  // off its fast path; for the rest (same-origin pages, scripts) the header is set up front.
  app.use("/api/*", (c, next) => {
    if (c.req.header("origin")) return partnerCors(c, next);
    c.header("vary", "Origin");
    return next();
  });
  app.route("/", lookupRoutes);
  app.route("/", lookupPages);
  app.route("/", journeyPages("site"));
  app.route("/", widgetRoutes);
  app.route("/", widgetAdmin);
  // Partners: their contacts' own pages, and the leads' page for each partner (before adminRoutes,
  // whose /admin/* middleware would otherwise run first; these bring their own checks).
  app.route("/", partnerAdmin);
  app.route("/", partnerPages);
  app.route("/", letterRoutes);
  app.route("/", letterPages);
  app.route("/", pledgeRoutes);
  app.route("/", pledgePages);
  app.route("/", adminRoutes);
  app.route("/", privacyRoutes);
  app.route("/", deliveryRoutes);
  app.route("/", apiRoutes);
  app.route("/", digestRoutes);

  app.notFound((c) => onError(new AppError("not_found", "There is nothing at this address."), c));
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
