/**
 * The stylesheet shared by every page. The lookup steps themselves (postcode, your MP, search)
 * are the first steps of the supporter journey: see modules/journey/journey.pages.ts.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../http/types";

export const lookupPages = new Hono<AppEnv>().get("/static/app.css", (c) => {
  c.header("cache-control", "public, max-age=3600");
  return c.body(c.var.deps.templates.render("pages/app.css", {}), 200, {
    "content-type": "text/css; charset=utf-8",
  });
});
