/**
 * The partner pages (/partner): a partner contact's own view, behind the same sign-in and CSRF
 * checks as the dashboard. Thin: each handler parses, calls a verb with the session's partner
 * key, renders.
 *
 * Rules:
 * - Only a session whose account has role `partner` gets in (a lead is sent to /admin), and the
 *   partner every verb works on is that session's, never one named in the request. Ids in URLs
 *   (a delivery) are checked against it by the verb.
 * - Every POST passes Hono's Origin check and the session's CSRF token (requireCsrf), except
 *   accepting an invitation, where there is no session yet: the signed link in the form is the
 *   proof, plus the Origin check.
 * - Responses are never cached.
 */
import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { WEBHOOK_EVENTS } from "../../db/schema.partners";
import type { AppEnv } from "../../http/types";
import { AppError, isAppError } from "../../lib/errors";
import { signOut } from "../admin/admin.auth";
import { checkSameOrigin } from "../admin/admin.csrf";
import {
  type AdminEnv,
  clearSessionCookie,
  requireCsrf,
  SIGN_IN_PATH,
  sessionOf,
} from "../admin/admin.routes";
import { dailyChart } from "../admin/admin.svg";
import { widgetOptions } from "../widget/widget.options";
import { acceptInvitation, invitationFor } from "./partners.accounts";
import { VERIFY_SAMPLE_NODE, VERIFY_SAMPLE_PYTHON } from "./partners.docs";
import {
  AcceptInvitationInput,
  DeliveryIdParam,
  PartnerSettingsInput,
  WebhookInput,
} from "./partners.schemas";
import { ownPartner, partnerOverview, supportersCsv, updatePartnerSettings } from "./partners.service";
import {
  deliveriesOf,
  retryDelivery,
  rotateWebhookSecret,
  saveWebhook,
  sendTestEvent,
  webhookOf,
} from "./partners.webhooks";

const INVITE_PATH = "/partner/invite";
const str = (v: unknown) => (typeof v === "string" ? v : "");
const list = (v: unknown) =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x) => typeof x === "string");
const wantsHtml = (c: Context) => (c.req.header("accept") ?? "").includes("text/html");
const utc = (ms: number | null | undefined) =>
  ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "";

export const requirePartner: MiddlewareHandler<AdminEnv> = async (c, next) => {
  if (c.req.path === INVITE_PATH) return next();
  const { token, session: pending } = sessionOf(c);
  const session = await pending;
  const html = c.req.method === "GET" && wantsHtml(c);
  if (!session) {
    if (html) return c.redirect(SIGN_IN_PATH, 303);
    throw new AppError("unauthorized", "Sign in to see your partner pages.");
  }
  if (session.role !== "partner" || !session.partnerKey) {
    if (html) return c.redirect("/admin", 303);
    throw new AppError("forbidden", "Partner pages are for partners' contacts; campaign leads use /admin.");
  }
  c.set("admin", session);
  c.set("adminToken", token as string);
  c.header("cache-control", "no-store");
  await next();
};

const csrfUnlessInvite: MiddlewareHandler<AdminEnv> = (c, next) =>
  c.req.path === INVITE_PATH ? next() : requireCsrf(c, next);

/** The signed-in contact's partner key: the only partner any verb below is given. */
const mine = (c: Context<AdminEnv>) => c.var.admin.partnerKey as string;

async function page(c: Context<AdminEnv>, name: string, data: Record<string, unknown>, status = 200) {
  const deps = c.var.deps;
  const partner = await ownPartner(deps, { partnerKey: mine(c) });
  return c.html(
    deps.templates.render(`pages/partner/${name}`, {
      ...data,
      partner,
      section: name,
      admin: { email: c.var.admin.email, csrf: c.var.admin.csrfToken },
    }),
    status as 200,
  );
}

/** zod issues -> the form's errors (field by the first path element). */
const formErrors = (issues: { path: PropertyKey[]; message: string }[]) =>
  issues.map((i) => ({ field: String(i.path[0] ?? "form"), message: i.message }));
const errorMap = (errors: { field: string; message: string }[]) =>
  Object.fromEntries(errors.map((e) => [e.field, e.message]));

async function widgetPage(c: Context<AdminEnv>, extra: Record<string, unknown> = {}, status = 200) {
  const deps = c.var.deps;
  const partner = await ownPartner(deps, { partnerKey: mine(c) });
  return page(
    c,
    "widget",
    {
      title: "Your widget",
      publicUrl: deps.config.PUBLIC_URL,
      options: widgetOptions,
      form: {
        allowedOrigins: partner.allowedOrigins.join("\n"),
        accent: partner.accent ? `#${partner.accent}` : "",
        embedEnabled: partner.embedEnabled,
        lang: partner.lang,
      },
      ...extra,
    },
    status,
  );
}

async function webhooksPage(c: Context<AdminEnv>, extra: Record<string, unknown> = {}, status = 200) {
  const deps = c.var.deps;
  const hook = await webhookOf(deps, { partnerKey: mine(c) });
  const deliveries = await deliveriesOf(deps, { partnerKey: mine(c) });
  const events = (hook?.events ?? WEBHOOK_EVENTS) as readonly string[];
  return page(
    c,
    "webhooks",
    {
      title: "Webhooks",
      hook: hook && {
        ...hook,
        secretCreated: utc(hook.secretCreatedAt),
        previous: hook.previous && { ...hook.previous, until: utc(hook.previous.until) },
      },
      form: {
        url: hook?.url ?? "",
        enabled: hook ? hook.enabled : true,
        events: WEBHOOK_EVENTS.map((e) => ({
          name: e,
          id: e.replace(".", "-"),
          checked: events.includes(e),
        })),
      },
      graceHours: deps.config.WEBHOOK_SECRET_GRACE_HOURS,
      deliveries: deliveries.rows.map((d) => ({
        ...d,
        created: utc(d.createdAt),
        sent: utc(d.sentAt),
        next: d.state === "failed" ? utc(d.nextAttemptAt) : "",
      })),
      counts: deliveries.counts,
      ...extra,
    },
    status,
  );
}

/**
 * The partner pages' only script: "Copy" buttons for the snippet and the secret (hidden until
 * this runs, so without JavaScript the text is simply selectable).
 */
const PARTNER_SCRIPT = `(function () {
  "use strict";
  var status = document.getElementById("copy-status");
  var buttons = document.querySelectorAll("button[data-copy]");
  for (var i = 0; i < buttons.length; i++) enable(buttons[i]);
  function enable(b) {
    if (!navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () {
      var field = document.getElementById(b.getAttribute("data-copy"));
      if (!field) return;
      navigator.clipboard.writeText(field.value).then(function () {
        if (status) status.textContent = "Copied to the clipboard.";
      }, function () {
        field.select();
        if (status) status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
      });
    });
  }
})();
`;

export const partnerPages = new Hono<AdminEnv>()
  // How to verify deliveries: public, so a partner's developer needs no account to read it.
  .get("/docs/webhooks", (c) => {
    c.header("cache-control", "public, max-age=3600");
    return c.html(
      c.var.deps.templates.render("pages/partner/verify", {
        title: "Verifying webhooks",
        nodeSample: VERIFY_SAMPLE_NODE,
        pythonSample: VERIFY_SAMPLE_PYTHON,
        graceHours: c.var.deps.config.WEBHOOK_SECRET_GRACE_HOURS,
      }),
    );
  })
  .get("/static/partner.js", (c) =>
    c.body(PARTNER_SCRIPT, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=3600",
    }),
  )
  .use("/partner", requirePartner, csrfUnlessInvite)
  .use("/partner/*", requirePartner, csrfUnlessInvite)
  // --- invitation (no session yet) ------------------------------------------------------------
  .get(INVITE_PATH, async (c) => {
    const deps = c.var.deps;
    c.header("cache-control", "no-store");
    const token = str(c.req.query("token"));
    const invitation = await invitationFor(deps, { token });
    return c.html(
      deps.templates.render("pages/partner/invite", {
        title: `Join ${invitation.partnerName}'s partner pages`,
        invitation,
        token,
      }),
    );
  })
  .post(INVITE_PATH, async (c) => {
    const deps = c.var.deps;
    c.header("cache-control", "no-store");
    await checkSameOrigin(c as unknown as Context<AppEnv>);
    const body = await c.req.parseBody();
    const token = str(body.token);
    const invitation = await invitationFor(deps, { token });
    const parsed = AcceptInvitationInput.safeParse({
      token,
      password: str(body.password),
      confirm: str(body.confirm),
    });
    const again = (errors: { field: string; message: string }[], status: number) =>
      c.html(
        deps.templates.render("pages/partner/invite", {
          title: `Join ${invitation.partnerName}'s partner pages`,
          invitation,
          token,
          errors,
          error: errorMap(errors),
        }),
        status as 400,
      );
    if (!parsed.success) return again(formErrors(parsed.error.issues), 400);
    try {
      await acceptInvitation(deps, parsed.data);
    } catch (e) {
      if (isAppError(e) && e.code === "account_exists")
        return again([{ field: "form", message: e.detail ?? e.title }], 409);
      throw e;
    }
    return c.html(
      deps.templates.render("pages/partner/joined", {
        title: "Your account is ready",
        invitation,
        signIn: SIGN_IN_PATH,
      }),
    );
  })
  // --- overview ---------------------------------------------------------------------------------
  .get("/partner", async (c) => {
    const o = await partnerOverview(c.var.deps, { partnerKey: mine(c) });
    return page(c, "overview", {
      title: "Your results",
      o,
      chart: dailyChart(o.days),
      recentDays: o.days.slice(-14).reverse(),
    });
  })
  .post("/partner/sign-out", async (c) => {
    await signOut(c.var.deps, c.var.adminToken);
    clearSessionCookie(c);
    return c.redirect(SIGN_IN_PATH, 303);
  })
  // --- the widget -------------------------------------------------------------------------------
  .get("/partner/widget", (c) => widgetPage(c))
  .post("/partner/widget", async (c) => {
    const deps = c.var.deps;
    const body = await c.req.parseBody();
    const form = {
      allowedOrigins: str(body.allowedOrigins),
      accent: str(body.accent),
      embedEnabled: str(body.embedEnabled) === "yes",
      lang: str(body.lang),
    };
    const parsed = PartnerSettingsInput.safeParse({
      ...form,
      allowedOrigins: form.allowedOrigins.split(/[\s,]+/).filter(Boolean),
    });
    if (!parsed.success) {
      const errors = formErrors(parsed.error.issues);
      return widgetPage(c, { form, errors, error: errorMap(errors) }, 400);
    }
    try {
      await updatePartnerSettings(deps, { ...parsed.data, partnerKey: mine(c) });
    } catch (e) {
      if (!isAppError(e) || e.code !== "validation_failed") throw e;
      const errors = ((e.extra.errors as { path: string; message: string }[]) ?? []).map((x) => ({
        field: x.path,
        message: x.message,
      }));
      return widgetPage(c, { form, errors, error: errorMap(errors) }, 400);
    }
    return widgetPage(c, { saved: true });
  })
  // --- supporters who asked to hear from the partner ---------------------------------------------
  .get("/partner/supporters", async (c) => {
    const o = await partnerOverview(c.var.deps, { partnerKey: mine(c) });
    return page(c, "supporters", { title: "Supporters who asked to hear from you", optedIn: o.optedIn });
  })
  .get("/partner/supporters.csv", async (c) => {
    const partner = await ownPartner(c.var.deps, { partnerKey: mine(c) });
    c.var.deps.logger.info("partner supporters exported", { partner: partner.key });
    return c.body(supportersCsv(c.var.deps, { partnerKey: partner.key, partnerName: partner.name }), 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${partner.key}-supporters.csv"`,
      "cache-control": "no-store",
    });
  })
  // --- webhooks ---------------------------------------------------------------------------------
  .get("/partner/webhooks", (c) => webhooksPage(c))
  .post("/partner/webhooks", async (c) => {
    const body = await c.req.parseBody({ all: true });
    const form = { url: str(body.url), enabled: str(body.enabled) === "yes", events: list(body.events) };
    const parsed = WebhookInput.safeParse(form);
    const fail = (errors: { field: string; message: string }[]) =>
      webhooksPage(
        c,
        {
          form: {
            ...form,
            events: WEBHOOK_EVENTS.map((e) => ({
              name: e,
              id: e.replace(".", "-"),
              checked: form.events.includes(e),
            })),
          },
          errors,
          error: errorMap(errors),
        },
        400,
      );
    if (!parsed.success) return fail(formErrors(parsed.error.issues));
    try {
      await saveWebhook(c.var.deps, { ...parsed.data, partnerKey: mine(c) });
    } catch (e) {
      if (!isAppError(e) || e.code !== "webhook_url_refused") throw e;
      return fail([{ field: "url", message: e.detail ?? e.title }]);
    }
    return webhooksPage(c, { saved: true });
  })
  .post("/partner/webhooks/rotate", async (c) => {
    await rotateWebhookSecret(c.var.deps, { partnerKey: mine(c) });
    return webhooksPage(c, { rotated: true });
  })
  .post("/partner/webhooks/test", async (c) => {
    const result = await sendTestEvent(c.var.deps, { partnerKey: mine(c) });
    return webhooksPage(c, { test: { ...result, ok: result.state === "sent" } });
  })
  .post("/partner/deliveries/:id/retry", async (c) => {
    const { id } = DeliveryIdParam.parse(c.req.param());
    await retryDelivery(c.var.deps, { partnerKey: mine(c), id });
    return c.redirect("/partner/webhooks", 303);
  });
