/**
 * Widget: partner sites embed the supporter journey in an iframe.
 *
 * Rules:
 * - The partner key in a page is public. What protects a partner is the browser: the embed is
 *   only allowed to render inside the partner's own origins (CSP frame-ancestors), messages from
 *   the frame go only to those exact origins, and the loader only believes messages whose origin
 *   is exactly ours.
 * - An unknown or switched-off key gets a clear message inside the frame (that page carries no
 *   form and no data, so any site may frame it).
 * - Every letter and pledge made through the embed carries the partner key (partner_key).
 * - Accent colours are accepted only if white text on them meets WCAG AA (4.5:1); otherwise the
 *   campaign colour stays, so a partner can't make buttons unreadable.
 */
import { asc, eq, sql } from "drizzle-orm";
import { partners } from "../../db/schema.widget";
import type { Deps } from "../../deps";
import { contrast, luminance } from "../../lib/colour";
import { AppError } from "../../lib/errors";
import type { PartnerInput } from "./widget.schemas";

export type Partner = { key: string; name: string; allowedOrigins: string[]; active: boolean };

const columns = {
  key: partners.key,
  name: partners.name,
  allowedOrigins: partners.allowedOrigins,
  active: partners.active,
};

export async function getPartner(deps: Pick<Deps, "db">, input: { key: string }): Promise<Partner | null> {
  const [p] = await deps.db.select(columns).from(partners).where(eq(partners.key, input.key));
  return p ?? null;
}

/** A partner with its own embed settings (the partner's switch, default accent and language). */
export type PartnerSettings = Partner & { embedEnabled: boolean; accent: string | null; lang: "en" | "cy" };

export async function getPartnerSettings(
  deps: Pick<Deps, "db">,
  input: { key: string },
): Promise<PartnerSettings | null> {
  const [p] = await deps.db
    .select({ ...columns, embedEnabled: partners.embedEnabled, accent: partners.accent, lang: partners.lang })
    .from(partners)
    .where(eq(partners.key, input.key));
  return p ? { ...p, lang: p.lang === "cy" ? "cy" : "en" } : null;
}

/** The embed may run: the campaign's switch (`active`) and the partner's own are both on. */
export const embedOn = (p: Pick<PartnerSettings, "active" | "embedEnabled"> | null | undefined) =>
  !!p && p.active && p.embedEnabled;

export async function listPartners(deps: Pick<Deps, "db">): Promise<Partner[]> {
  return deps.db.select(columns).from(partners).orderBy(asc(partners.key));
}

/** Create or replace a partner (admin). One statement: an upsert on the key. */
export async function savePartner(
  deps: Pick<Deps, "db" | "clock" | "logger">,
  input: PartnerInput,
): Promise<Partner> {
  const now = deps.clock.now();
  const origins = [...new Set(input.allowedOrigins)];
  const [p] = await deps.db
    .insert(partners)
    .values({
      key: input.key,
      name: input.name,
      allowedOrigins: origins,
      active: input.active,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: partners.key,
      set: { name: input.name, allowedOrigins: origins, active: input.active, updatedAt: now },
    })
    .returning(columns);
  if (!p) throw new AppError("internal", "The partner was not saved.");
  deps.logger.info("partner saved", { partner: p.key, origins: origins.length, active: p.active });
  return p;
}

/** Whether any active partner lists this exact origin (for CORS). One indexed-enough query: partners are few. */
export async function isPartnerOrigin(deps: Pick<Deps, "db">, origin: string): Promise<boolean> {
  const rows = await deps.db
    .select({ key: partners.key })
    .from(partners)
    .where(
      sql`${partners.active} = 1 and exists (select 1 from json_each(${partners.allowedOrigins}) where json_each.value = ${origin})`,
    )
    .limit(1);
  return rows.length > 0;
}

/** CSP frame-ancestors source list for a partner (origins were normalised when saved). */
export const frameAncestors = (p: Partner) => p.allowedOrigins.join(" ");

// --- theme --------------------------------------------------------------------------------------

/** WCAG 2.x relative luminance of a 6-hex-digit colour (src/lib/colour.ts). */
export { luminance };
export const contrastWithWhite = (hex: string) => contrast(hex, "ffffff");

/** WCAG 2.2 AA for normal text. */
export const MIN_CONTRAST = 4.5;

/** The partner's accent if white text on it (buttons) and it as text on white (links) stay readable. */
export const usableAccent = (hex: string | undefined) =>
  hex && contrastWithWhite(hex) >= MIN_CONTRAST ? hex : undefined;
