/**
 * The office's one-click opt-out from digests. GET only shows a page with a button (mail
 * scanners fetch every link in a message and must change nothing); the button POSTs.
 */
import { Hono } from "hono";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { TokenInput } from "../letters/letters.schemas";
import { digestOptOutStatus, optOutOfDigests } from "./digest.service";

export const digestRoutes = new Hono<AppEnv>()
  .use("/digest/*", async (c, next) => {
    await next();
    // The token names the office: never leak it through Referer, never cache the page.
    c.header("referrer-policy", "no-referrer");
    c.header("cache-control", "no-store");
  })
  .get("/digest/opt-out", validate("query", TokenInput), async (c) => {
    const { token } = c.req.valid("query");
    const office = await digestOptOutStatus(c.var.deps, { token });
    return c.html(
      c.var.deps.templates.render("pages/digest/opt-out", { title: "Stop these summaries", token, office }),
    );
  })
  .post("/digest/opt-out", validate("form", TokenInput), async (c) => {
    const office = await optOutOfDigests(c.var.deps, c.req.valid("form"));
    return c.html(
      c.var.deps.templates.render("pages/digest/opt-out", { title: "Summaries stopped", done: true, office }),
    );
  });
