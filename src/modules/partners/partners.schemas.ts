/**
 * Partners' self-service: what a campaign lead and a partner contact may send, and the
 * supporter's consent to hear from a partner.
 */
import { z } from "zod";
import { WEBHOOK_EVENTS } from "../../db/schema.partners";
import { Password } from "../admin/admin.auth";
import { Origin } from "../widget/widget.schemas";

/**
 * The box a supporter may tick to hear from the partner whose site they came through. Separate,
 * optional and unticked; the partner's name is put in `{partner}`. The wording is versioned like
 * the pledge consents (pledges.schemas.ts): a new wording is a new version, and each consent row
 * keeps the version ticked. It says exactly what the partner gets: name, email address, and that
 * the supporter took part (the webhook event and the CSV row are that).
 */
export const PARTNER_CONSENT_WORDING = {
  "partner-2026-12":
    "Yes, {partner} may contact me. Share my name, my email and that I took part with {partner}.",
} as const;
export const CURRENT_PARTNER_CONSENT = "partner-2026-12" as const;
const partnerVersions = Object.keys(PARTNER_CONSENT_WORDING) as [string, ...string[]];

/** HTML forms send "" for an unticked box only if the page adds one; "" means not ticked. */
const emptyToUndefined = (v: unknown) => (v === "" ? undefined : v);

/** The version of the partner consent the supporter ticked, if they did. */
export const PartnerConsentField = z.preprocess(emptyToUndefined, z.enum(partnerVersions).optional());

export const Email = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.email("an email address such as name@example.org").max(254));

/** A campaign lead invites a partner's contact. */
export const InviteContactInput = z.object({ email: Email });
export type InviteContactInput = z.infer<typeof InviteContactInput>;

/** The invited contact chooses a password (the campaign leads' rules). */
export const AcceptInvitationInput = z
  .object({
    token: z.string().min(1).max(2000),
    password: Password,
    confirm: z.string().max(200),
  })
  .refine((v) => v.password === v.confirm, { message: "the two passwords differ", path: ["confirm"] });
export type AcceptInvitationInput = z.infer<typeof AcceptInvitationInput>;

/** 6 hex digits, with or without '#'; empty means "the campaign's colour". */
export const AccentInput = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .trim()
    .regex(/^#?[0-9a-fA-F]{6}$/, "a colour as 6 hex digits, such as #0b6e4f")
    .transform((s) => s.replace("#", "").toLowerCase())
    .optional(),
);

export const LANGS = ["en", "cy"] as const;
export type Lang = (typeof LANGS)[number];

/** What a partner contact may change about its own partner (never its key, name or the campaign's switch). */
export const PartnerSettingsInput = z.object({
  allowedOrigins: z.array(Origin).min(1, "add at least one origin").max(20, "at most 20 origins"),
  accent: AccentInput,
  embedEnabled: z.boolean(),
  lang: z.enum(LANGS),
});
export type PartnerSettingsInput = z.infer<typeof PartnerSettingsInput>;

export const WebhookInput = z.object({
  url: z.string().trim().min(1, "enter your endpoint's address").max(500, "at most 500 characters"),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1, "choose at least one event").max(WEBHOOK_EVENTS.length),
  enabled: z.boolean(),
});
export type WebhookInput = z.infer<typeof WebhookInput>;

export const DeliveryIdParam = z.object({ id: z.string().min(1).max(100) });
export const ContactIdParam = z.object({ id: z.string().min(1).max(100) });
