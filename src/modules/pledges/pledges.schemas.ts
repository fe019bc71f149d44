import { z } from "zod";
import { EmailField } from "../../lib/email";
import { personName } from "../../lib/fields";
import { PostcodeField } from "../../lib/postcode";
import { PartnerConsentField } from "../partners/partners.schemas";

/**
 * The wording of each consent box, versioned. The form shows the current wording and posts its
 * version as the checkbox value; the row stores the version and the time, so we can always say
 * exactly what a supporter agreed to. Change the wording = add a new version (old ones stay
 * accepted for forms already open in someone's browser).
 */
export const CONSENT_WORDING = {
  pledge: {
    "pledge-2026-11":
      "I pledge to #SpeakUpForBabies: to back the Manifesto for Babies and ask my MP to do the same.",
  },
  updates: {
    "updates-2026-11": "Send me occasional email updates about the campaign. I can stop them at any time.",
  },
} as const;
export const CURRENT_CONSENT = { pledge: "pledge-2026-11", updates: "updates-2026-11" } as const;

const pledgeVersions = Object.keys(CONSENT_WORDING.pledge) as [string, ...string[]];
const updatesVersions = Object.keys(CONSENT_WORDING.updates) as [string, ...string[]];

/** HTML forms send "" for an unticked box only if the page adds one; treat "" as absent. */
const emptyToUndefined = (v: unknown) => (v === "" ? undefined : v);

export const CreatePledgeInput = z.object({
  /** Printed in the confirmation mail sent to the address typed: one line, no web address. */
  name: personName(100, "your name"),
  email: EmailField,
  postcode: PostcodeField,
  /** The version of the pledge wording the supporter ticked. Required: a pledge is the consent. */
  pledgeConsent: z.preprocess(
    emptyToUndefined,
    z.enum(pledgeVersions, { error: "tick the box to make your pledge" }),
  ),
  /** Optional, separate: campaign updates by email. */
  updatesConsent: z.preprocess(emptyToUndefined, z.enum(updatesVersions).optional()),
  partner: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[a-z0-9-]{1,40}$/)
      .optional(),
  ),
  /** Optional, separate: "<partner> may contact me", only when the pledge is credited to a partner. */
  partnerConsent: PartnerConsentField,
});
export type CreatePledgeInput = z.infer<typeof CreatePledgeInput>;

export const TokenInput = z.object({ token: z.string().min(1).max(2048) });
export type TokenInput = z.infer<typeof TokenInput>;

export const RepRef = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("mp"), code: z.string().regex(/^[A-Z]\d{8}$/, "an ONS code") }),
  z.object({ kind: z.literal("candidate"), personId: z.coerce.number().int().positive() }),
  /** An MSP, MS or MLA, by our devolved_members id (the lookup answer's `devolved.members[].id`). */
  z.object({ kind: z.enum(["msp", "ms", "mla"]), personId: z.coerce.number().int().positive() }),
]);
export type RepRef = z.infer<typeof RepRef>;

export const AdminVerifyInput = z.object({
  kind: z.enum(["mp", "candidate", "msp", "ms", "mla"]),
  /** ONS code for an MP, Democracy Club person id for a candidate, member id (as on the pledge page) for an MSP, MS or MLA. */
  ref: z.string().trim().min(1).max(20),
  note: z.string().trim().min(3, "say how you know (e.g. signed at the launch event)").max(500),
});
export type AdminVerifyInput = z.infer<typeof AdminVerifyInput>;
