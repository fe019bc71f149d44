import { z } from "zod";
import { singleLine } from "../../lib/fields";

/** Same shape as letters/pledges `partner`: it is stored as their partner_key. */
export const PartnerKey = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, "lower-case letters, digits and dashes (up to 40)");

/**
 * An exact web origin: scheme, host and optional port, nothing else. Normalised through URL so
 * "HTTPS://Example.org:443/" and "https://example.org" compare equal (CSP and postMessage compare
 * serialised origins exactly).
 */
export const Origin = z
  .string()
  .trim()
  .max(200)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (
        (u.protocol === "https:" || u.protocol === "http:") &&
        u.origin !== "null" &&
        /^[a-z]+:\/\/[^/?#]+\/?$/i.test(s)
      );
    } catch {
      return false;
    }
  }, "an origin such as https://example.org (no path)")
  .transform((s) => new URL(s).origin);

export const PartnerInput = z.object({
  key: PartnerKey,
  name: singleLine(120, "the partner's name"),
  /** One per line (or space/comma separated) in the admin form. */
  allowedOrigins: z.array(Origin).min(1, "add at least one origin").max(20),
  active: z.boolean().default(true),
});
export type PartnerInput = z.infer<typeof PartnerInput>;

/** Theme from the loader's data attributes. Accent is 6 hex digits without '#'. */
export const EmbedTheme = z.object({
  accent: z
    .string()
    .regex(/^#?[0-9a-fA-F]{6}$/)
    .transform((s) => s.replace("#", "").toLowerCase())
    .optional()
    .catch(undefined),
  compact: z
    .enum(["1", "true", ""])
    .optional()
    .catch(undefined)
    .transform((v) => v === "1" || v === "true"),
});
export type EmbedTheme = z.infer<typeof EmbedTheme>;

/**
 * GET /api/widget/:key: what the loader needs before it shows anything. `enabled` is false for an
 * unknown key and for a partner switched off by the campaign or by itself.
 */
export const WidgetConfig = z.union([
  z.object({
    enabled: z.literal(true),
    /** The partner's default language (a page's data-lang wins). */
    lang: z.enum(["en", "cy"]),
    /** The partner's default accent (6 hex digits), if it keeps white text readable. */
    accent: z
      .string()
      .regex(/^[0-9a-f]{6}$/)
      .nullable(),
    /** The frame's accessible name in each language (a page's data-title wins). */
    titles: z.object({ en: z.string(), cy: z.string() }),
  }),
  /**
   * off: the partner or the campaign switched it off (the loader shows nothing); unknown: no such
   * partner (the loader shows a frame explaining the key is wrong, for whoever pasted it).
   */
  z.object({ enabled: z.literal(false), reason: z.enum(["off", "unknown"]) }),
]);
export type WidgetConfig = z.infer<typeof WidgetConfig>;

export const WidgetKeyParam = z.object({ key: z.string().max(100) });
