/**
 * Partner management for campaign leads: list partners with their embed snippet, add or change
 * one (key, name, allowed origins, on/off). Behind the admin sign-in and CSRF checks of
 * modules/admin. Allowed origins drive the embed's frame-ancestors and the API's CORS answers.
 */
import { Hono } from "hono";
import { type AdminEnv, requireAdmin, requireCsrf } from "../admin/admin.routes";
import { PartnerInput } from "./widget.schemas";
import { listPartners, savePartner } from "./widget.service";

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** What a lead is told about each field of the partner form, in words (never the field's name). */
const PARTNER_MESSAGES: Record<string, string> = {
  key: "Enter a key of lower-case letters, digits and dashes (up to 40), such as acme-charity",
  name: "Enter the partner's name",
  allowedOrigins:
    "Enter at least one allowed origin: the address of the partner's site, such as https://www.example.org (no path)",
};

export const widgetAdmin = new Hono<AdminEnv>()
  .use("/admin/partners", requireAdmin, requireCsrf)
  .get("/admin/partners", async (c) => {
    const deps = c.var.deps;
    return c.html(
      deps.templates.render("pages/widget/partners", {
        title: "Partner sites",
        partners: await listPartners(deps),
        publicUrl: deps.config.PUBLIC_URL,
        form: { active: "yes" },
        admin: { email: c.var.admin.email, csrf: c.var.admin.csrfToken },
      }),
    );
  })
  .post("/admin/partners", async (c) => {
    const deps = c.var.deps;
    const body = await c.req.parseBody();
    const form = {
      key: str(body.key),
      name: str(body.name),
      allowedOrigins: str(body.allowedOrigins),
      active: str(body.active),
    };
    const parsed = PartnerInput.safeParse({
      key: form.key,
      name: form.name,
      allowedOrigins: form.allowedOrigins.split(/[\s,]+/).filter(Boolean),
      active: form.active === "yes",
    });
    let saved: string | undefined;
    let errors: { field: string; message: string }[] = [];
    if (parsed.success) saved = (await savePartner(deps, parsed.data)).key;
    else
      errors = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? "key")))].map((field) => ({
        field,
        message: PARTNER_MESSAGES[field] ?? "Check this field",
      }));
    return c.html(
      deps.templates.render("pages/widget/partners", {
        title: "Partner sites",
        partners: await listPartners(deps),
        publicUrl: deps.config.PUBLIC_URL,
        form: saved ? { active: "yes" } : form,
        saved,
        errors,
        error: Object.fromEntries(errors.map((e) => [e.field, e.message])),
        admin: { email: c.var.admin.email, csrf: c.var.admin.csrfToken },
      }),
      errors.length ? 400 : 200,
    );
  });
