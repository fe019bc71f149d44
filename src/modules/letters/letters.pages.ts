/**
 * Pages behind the links in emails. GET only shows a page with a button (mail scanners and link
 * previewers fetch links; fetching changes nothing); the button POSTs, and POST is idempotent.
 * /dev/mail lists captured mail and exists only in MAIL_MODE=capture.
 */
import { desc } from "drizzle-orm";
import { Hono } from "hono";
import { capturedMail } from "../../db/schema.letters";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { AppError } from "../../lib/errors";
import { letterBodyLimit } from "./letters.routes";
import { FollowupInput, TokenInput } from "./letters.schemas";
import { answerFollowup, confirmLetter, followupContext, letterForConfirmPage } from "./letters.service";

const DEV_MAIL_LIMIT = 50;

export const letterPages = new Hono<AppEnv>()
  .use("/letters/*", async (c, next) => {
    // Token links must not leak through Referer to any other page.
    await next();
    c.header("referrer-policy", "no-referrer");
    c.header("cache-control", "no-store");
  })
  .get("/letters/confirm", validate("query", TokenInput), async (c) => {
    const { token } = c.req.valid("query");
    const letter = await letterForConfirmPage(c.var.deps, { token });
    if (letter.status !== "awaiting_confirmation")
      return c.html(
        c.var.deps.templates.render("pages/letters/confirmed", {
          title: "Letter confirmed",
          status: letter.status,
          recipientName: letter.recipientName,
          alreadyConfirmed: true,
        }),
      );
    return c.html(
      c.var.deps.templates.render("pages/letters/confirm", { title: "Confirm your letter", letter, token }),
    );
  })
  .post("/letters/confirm", letterBodyLimit, validate("form", TokenInput), async (c) => {
    const result = await confirmLetter(c.var.deps, c.req.valid("form"));
    return c.html(
      c.var.deps.templates.render("pages/letters/confirmed", { title: "Letter confirmed", ...result }),
    );
  })
  .get("/letters/followup", validate("query", TokenInput), async (c) => {
    const { token } = c.req.valid("query");
    const l = await followupContext(c.var.deps, { token });
    return c.html(
      c.var.deps.templates.render("pages/letters/followup", {
        title: "Did they reply?",
        token,
        recipientName: l.recipientName,
      }),
    );
  })
  .post("/letters/followup", letterBodyLimit, validate("form", FollowupInput), async (c) => {
    const input = c.req.valid("form");
    const l = await followupContext(c.var.deps, input);
    await answerFollowup(c.var.deps, input);
    return c.html(
      c.var.deps.templates.render("pages/letters/followup", {
        title: "Thank you",
        answered: true,
        recipientName: l.recipientName,
      }),
    );
  })
  .get("/dev/mail", async (c) => {
    const deps = c.var.deps;
    // Captured mail holds letters and addresses: never served unless nothing is being sent for real.
    if (deps.config.MAIL_MODE !== "capture")
      throw new AppError("not_found", "There is nothing at this address.");
    const mail = await deps.db
      .select()
      .from(capturedMail)
      .orderBy(desc(capturedMail.id))
      .limit(DEV_MAIL_LIMIT);
    c.header("cache-control", "no-store");
    if ((c.req.header("accept") ?? "").includes("application/json")) return c.json({ mail });
    return c.html(
      deps.templates.render("pages/letters/dev-mail", {
        title: "Captured mail",
        mail,
        limit: DEV_MAIL_LIMIT,
      }),
    );
  });
