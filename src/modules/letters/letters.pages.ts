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
import { AppError, isAppError } from "../../lib/errors";
import { adminSessionOf } from "../admin/admin.routes";
import { shareLinks } from "../journey/journey.share";
import { pendingConsentFor, withdrawConsent } from "../partners/partners.consent";
import { answerFollowup, followupView, sendChase } from "./letters.replies";
import { ChaseInput, FollowupInput, TokenInput } from "./letters.schemas";
import { confirmLetter, letterForConfirmPage } from "./letters.service";

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

/** The follow-up page: the answer form, the reply and stances given, and the chase letter if due. */
async function followupPage(
  c: Context<AppEnv>,
  token: string,
  extra: { answered?: string; error?: string; chaseError?: string; replyText?: string },
  status = 200,
) {
  const deps = c.var.deps;
  const view = await followupView(deps, { token });
  const answer = (extra.answered ?? view.letter.replyAnswer) as string | null;
  return c.html(
    deps.templates.render("pages/letters/followup", {
      title: `Did ${view.letter.recipientName} reply?`,
      token,
      ...view,
      answer,
      replyText: extra.replyText ?? view.replyText,
      answered: !!extra.answered,
      errors: extra.error ? [{ field: "answer-yes", message: extra.error }] : undefined,
      error: extra.error,
      chaseError: extra.chaseError,
      chaseWeeks: deps.config.LETTER_CHASE_AFTER_WEEKS,
      retentionDays: deps.config.RETENTION_DAYS,
      // A chase is only worth offering to someone who has had no reply.
      showChase: answer !== "yes",
      stances: [
        { value: "supports", label: "Supports it" },
        { value: "partly", label: "Supports some of it" },
        { value: "against", label: "Against it" },
        { value: "not_mentioned", label: "Didn't say" },
      ],
    }),
    status as 200,
  );
}

/** The follow-up link's token from a posted form, or a clear 400 (a form without one, or a mangled one). */
function followupToken(v: unknown): string {
  const parsed = TokenInput.safeParse({ token: typeof v === "string" ? v : "" });
  if (!parsed.success)
    throw new AppError(
      "validation_failed",
      "This form needs the link from your follow-up email: open that link again and answer from there.",
    );
  return parsed.data.token;
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
    const group = "group" in result;
    return c.html(
      c.var.deps.templates.render("pages/letters/confirmed", {
        title: group ? "Letters confirmed" : "Letter confirmed",
        ...result,
        // Confirmed now: the supporter has written, and their share link may say so.
        share: shareLinks(c.var.deps.config, {
          kind: "wrote",
          to: group ? "my representatives" : "my MP",
        }),
      }),
    );
  })
  .get("/letters/followup", validate("query", TokenInput), async (c) => {
    const { token } = c.req.valid("query");
    return followupPage(c, token, {});
  })
  .post("/letters/followup", async (c) => {
    const f = await c.req.parseBody({ all: true });
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    // stance_<ask id> fields, as the page names them.
    const stances = Object.fromEntries(
      Object.entries(f)
        .filter(([k, v]) => k.startsWith("stance_") && v !== "")
        .map(([k, v]) => [k.slice("stance_".length), str(v)]),
    );
    const input = FollowupInput.safeParse({
      token: str(f.token),
      answer: str(f.answer) || undefined,
      replyText: str(f.replyText) || undefined,
      stances,
    });
    if (!input.success) {
      const token = followupToken(f.token);
      const message = input.error.issues[0]?.message ?? "Check your answer";
      return followupPage(c, token, { error: message, replyText: str(f.replyText) }, 400);
    }
    await answerFollowup(c.var.deps, input.data);
    return followupPage(c, input.data.token, { answered: input.data.answer });
  })
  .post("/letters/chase", async (c) => {
    const f = await c.req.parseBody();
    const str = (v: unknown) => (typeof v === "string" ? v : "");
    const input = ChaseInput.safeParse({
      token: str(f.token),
      subject: str(f.subject) || undefined,
      body: str(f.body) || undefined,
    });
    if (!input.success) {
      const token = followupToken(f.token);
      return followupPage(
        c,
        token,
        { chaseError: input.error.issues[0]?.message ?? "Check your letter" },
        400,
      );
    }
    try {
      const result = await sendChase(c.var.deps, input.data);
      return c.html(
        c.var.deps.templates.render("pages/letters/chase-sent", {
          title: result.status === "sent" ? "Follow-up letter sent" : "Follow-up letter already sent",
          result,
          share: shareLinks(c.var.deps.config, { kind: "wrote", to: "my MP" }),
        }),
      );
    } catch (e) {
      if (!isAppError(e) || (e.code !== "chase_not_available" && e.status >= 500)) throw e;
      return followupPage(c, input.data.token, { chaseError: e.detail ?? e.title }, e.status);
    }
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
