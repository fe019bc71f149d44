/**
 * The HTTP application, built from a deps provider. No runtime imports here (no node:*, no
 * drivers, no process.env): the Node and Workers adapters build the deps and call createApp.
 */
import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import type { ProvideDeps } from "./deps";
import { onError } from "./http/problem";
import type { AppEnv } from "./http/types";
import { AppError } from "./lib/errors";
import { lookupPages } from "./modules/lookup/lookup.pages";
import { lookupRoutes } from "./modules/lookup/lookup.routes";

export function createApp(provideDeps: ProvideDeps) {
  const app = new Hono<AppEnv>();

  app.use(requestId({ headerName: "x-request-id", limitLength: 64 }));
  app.use(async (c, next) => {
    c.set("deps", provideDeps(c.env));
    await next();
  });
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

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.route("/", lookupRoutes);
  app.route("/", lookupPages);

  app.notFound((c) => onError(new AppError("not_found", "There is nothing at this address."), c));
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
