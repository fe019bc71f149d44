/**
 * Server-rendered lookup pages. They work without JavaScript: the form is a GET to /find, and a
 * failed lookup re-renders the form with the supporter's input and a message linked to the field.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { AppError, isAppError } from "../../lib/errors";
import { lookupPostcode, searchConstituencies } from "./lookup.service";

const MAX_INPUT = 100;

export const lookupPages = new Hono<AppEnv>()
  .get("/", (c) => c.html(c.var.deps.templates.render("pages/home", { title: "Find your MP" })))
  .get("/find", async (c) => {
    const deps = c.var.deps;
    const postcode = (c.req.query("postcode") ?? "").slice(0, MAX_INPUT);
    const q = (c.req.query("q") ?? "").slice(0, MAX_INPUT).trim();
    try {
      if (q) {
        if (q.length < 2)
          throw new AppError("validation_failed", "Type at least 2 letters of the constituency name.");
        const results = await searchConstituencies(deps, { q });
        return c.html(deps.templates.render("pages/search", { title: "Constituencies", q, results }));
      }
      const result = await lookupPostcode(deps, { postcode });
      return c.html(
        deps.templates.render("pages/result", { title: `Your MP: ${result.constituency.name}`, result }),
      );
    } catch (e) {
      if (!isAppError(e) || (e.status >= 500 && e.code !== "upstream_unavailable")) throw e;
      const field = q ? "q" : "postcode";
      return c.html(
        deps.templates.render("pages/home", {
          title: "Find your MP",
          postcode,
          q,
          error: { field, code: e.code, message: e.detail ?? e.title },
        }),
        e.status as 400,
      );
    }
  })
  .get("/static/app.css", (c) => {
    c.header("cache-control", "public, max-age=3600");
    return c.body(c.var.deps.templates.render("pages/app.css", {}), 200, {
      "content-type": "text/css; charset=utf-8",
    });
  });
