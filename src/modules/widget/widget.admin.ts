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
      errors = parsed.error.issues.map((i) => ({
        field: String(i.path[0] ?? "key"),
        message: `${String(i.path[0] ?? "")}: ${i.message}`,
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
