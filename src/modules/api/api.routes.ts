/** The public API's own description: GET /api/openapi.json (api.openapi.ts). */
import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { openApiDocument } from "./api.openapi";

export const apiRoutes = new Hono<AppEnv>().get("/api/openapi.json", (c) => {
  c.header("cache-control", "public, max-age=3600");
  c.header("access-control-allow-origin", "*");
  return c.json(openApiDocument(c.var.deps.config));
});
