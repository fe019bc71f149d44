/**
 * Pages behind the links in emails. GET only shows a page with a button (mail scanners and link
 * previewers fetch links; fetching changes nothing); the button POSTs, and POST is idempotent.
 * /dev/mail lists captured mail (letters, addresses, live confirm and erasure links): only in
 * MAIL_MODE=capture, and only to this machine (a loopback listener, reached directly, with a
 * loopback PUBLIC_URL) or to a signed-in campaign lead.
 */
import { desc } from "drizzle-orm";
import type { Context } from "hono";
import { Hono } from "hono";
import { capturedMail } from "../../db/schema.letters";
import { isLoopbackHost } from "../../env";
import { clientOf, looksProxied } from "../../http/client";
import type { AppEnv } from "../../http/types";
import { validate } from "../../http/validate";
import { AppError } from "../../lib/errors";
import { adminSessionOf } from "../admin/admin.routes";
import { pendingConsentFor, withdrawConsent } from "../partners/partners.consent";
import { FollowupInput, TokenInput } from "./letters.schemas";
import { answerFollowup, confirmLetter, followupContext, letterForConfirmPage } from "./letters.service";

const DEV_MAIL_LIMIT = 50;

/**
 * Whether this request may read captured mail without signing in: the server listens on loopback
 * only, the client is this machine and came straight here (no proxy headers: a proxy on this
 * machine would otherwise make every visitor look local), and the site's own address is local.
 */
export function isLocalRequest(c: Context<AppEnv>): boolean {
  const deps = c.var.deps;
  return (
    deps.network.loopbackListener &&
    clientOf(c).loopback &&
    !looksProxied(c) &&
    isLoopbackHost(new URL(deps.config.PUBLIC_URL).hostname)
  );
}

/** A mail body split into text and links to this site (linear: one pass of a simple pattern). */
export function linkParts(text: string, publicUrl: string): { text: string; href?: string }[] {
  const parts: { text: string; href?: string }[] = [];
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"']+/g)) {
    const url = m[0];
    if (!url.startsWith(`${publicUrl}/`)) continue;
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    parts.push({ text: url, href: url });
    last = m.index + url.length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

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
    const group = "group" in letter;
    if (letter.status !== "awaiting_confirmation")
      return c.html(
        c.var.deps.templates.render("pages/letters/confirmed", {
          title: group ? "Letters confirmed" : "Letter confirmed",
          status: letter.status,
          recipientName: letter.recipientName,
          alreadyConfirmed: true,
          group,
          letters: group ? letter.letters : [],
        }),
      );
    return c.html(
      c.var.deps.templates.render("pages/letters/confirm", {
        title: group ? "Confirm your letters" : "Confirm your letter",
        letter,
        token,
        // "<partner> may contact me", ticked with these letters: shown, ticked, to be unticked.
        partnerConsent: await pendingConsentFor(c.var.deps, { source: "letter", ref: letter.id }),
      }),
    );
  })
  .post("/letters/confirm", validate("form", TokenInput), async (c) => {
    const form = await c.req.parseBody();
    if (form.partnerConsentShown === "1" && form.partnerConsent !== "yes") {
      const letter = await letterForConfirmPage(c.var.deps, c.req.valid("form"));
      await withdrawConsent(c.var.deps, { source: "letter", ref: letter.id });
    }
    const result = await confirmLetter(c.var.deps, c.req.valid("form"));
    return c.html(
      c.var.deps.templates.render("pages/letters/confirmed", {
        title: "group" in result ? "Letters confirmed" : "Letter confirmed",
        ...result,
      }),
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
  .post("/letters/followup", validate("form", FollowupInput), async (c) => {
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
    if (!isLocalRequest(c) && !(await adminSessionOf(c)))
      throw new AppError(
        "unauthorized",
        "Captured mail is shown only on the machine running speakup, or to a signed-in campaign lead.",
      );
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
        mail: mail.map((m) => ({ ...m, parts: linkParts(m.text, deps.config.PUBLIC_URL) })),
        limit: DEV_MAIL_LIMIT,
      }),
    );
  });
