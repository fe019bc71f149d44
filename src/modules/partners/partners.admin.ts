/**
 * Campaign leads' page for one partner (/admin/partners/:key): its contacts and invitations, its
 * results, and its webhook's health. Behind the dashboard's sign-in and CSRF checks (leads only:
 * requireAdmin refuses a partner contact's session).
 */
import type { Context } from "hono";
import { Hono } from "hono";
import { AppError, isAppError } from "../../lib/errors";
import { type AdminEnv, requireAdmin, requireCsrf } from "../admin/admin.routes";
import { PartnerKey } from "../widget/widget.schemas";
import { getPartnerSettings } from "../widget/widget.service";
import { contactsOf, inviteContact, removeContact } from "./partners.accounts";
import { ContactIdParam, InviteContactInput } from "./partners.schemas";
import { partnerTotals } from "./partners.service";
import { deliveriesOf, webhookOf } from "./partners.webhooks";

const utc = (ms: number | null | undefined) =>
  ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : "";

function keyOf(c: Context<AdminEnv>): string {
  const key = PartnerKey.safeParse(c.req.param("key"));
  if (!key.success) throw new AppError("not_found", "No such partner.");
  return key.data;
}

async function partnerPage(c: Context<AdminEnv>, extra: Record<string, unknown> = {}, status = 200) {
  const deps = c.var.deps;
  const key = keyOf(c);
  const partner = await getPartnerSettings(deps, { key });
  if (!partner) throw new AppError("not_found", "No such partner.");
  const [contacts, totals, hook, deliveries] = await Promise.all([
    contactsOf(deps, { partnerKey: key }),
    partnerTotals(deps, { partnerKey: key }),
    webhookOf(deps, { partnerKey: key }),
    deliveriesOf(deps, { partnerKey: key }),
  ]);
  return c.html(
    deps.templates.render("pages/admin/partner", {
      title: `Partner: ${partner.name}`,
      partner,
      totals,
      accounts: contacts.accounts.map((a) => ({
        ...a,
        created: utc(a.createdAt),
        lastSignIn: utc(a.lastSignInAt),
      })),
      invitations: contacts.invitations.map((i) => ({ ...i, expires: utc(i.expiresAt) })),
      // The lead sees that a webhook exists and how it fares, never its secret.
      hook: hook && { url: hook.url, events: hook.events, enabled: hook.enabled },
      deliveries: deliveries.counts,
      inviteHours: deps.config.PARTNER_INVITE_HOURS,
      form: {},
      ...extra,
      admin: { email: c.var.admin.email, csrf: c.var.admin.csrfToken },
    }),
    status as 200,
  );
}

export const partnerAdmin = new Hono<AdminEnv>()
  .use("/admin/partners/*", requireAdmin, requireCsrf)
  .get("/admin/partners/:key", (c) => partnerPage(c))
  .post("/admin/partners/:key/invite", async (c) => {
    const body = await c.req.parseBody();
    const email = typeof body.email === "string" ? body.email : "";
    const parsed = InviteContactInput.safeParse({ email });
    const fail = (message: string, status: number) =>
      partnerPage(
        c,
        { form: { email }, errors: [{ field: "email", message }], error: { email: message } },
        status,
      );
    if (!parsed.success) return fail(parsed.error.issues[0]?.message ?? "Enter an email address", 400);
    try {
      await inviteContact(c.var.deps, {
        partnerKey: keyOf(c),
        email: parsed.data.email,
        invitedBy: { id: c.var.admin.userId, email: c.var.admin.email },
      });
    } catch (e) {
      if (!isAppError(e) || e.code !== "account_exists") throw e;
      return fail(e.detail ?? e.title, 409);
    }
    return partnerPage(c, { invited: parsed.data.email });
  })
  .post("/admin/partners/:key/contacts/:id/remove", async (c) => {
    const { id } = ContactIdParam.parse({ id: c.req.param("id") });
    await removeContact(c.var.deps, { partnerKey: keyOf(c), userId: id });
    return c.redirect(`/admin/partners/${keyOf(c)}`, 303);
  });
