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
  /** {hashtag} and {campaign} are the campaign file's hashtag and name (consentText). */
  pledge: {
    "pledge-2026-11": "I pledge to {hashtag}: to back the {campaign} and ask my MP to do the same.",
  },
  updates: {
    "updates-2026-11": "Send me occasional email updates about the campaign. I can stop them at any time.",
  },
  /** On a letter's details form: the story in a summary the representative's office may get. */
  storyShare: {
    "story-share-2026-11":
      "My own words may be quoted, without my name or address, in a summary the campaign sends to the office of the representative I am writing to.",
  },
} as const;
export const CURRENT_CONSENT = {
  pledge: "pledge-2026-11",
  updates: "updates-2026-11",
  storyShare: "story-share-2026-11",
} as const;
/**
 * A consent box's words as the supporter reads them, with the campaign's hashtag and name filled
 * in: a re-skinned campaign's supporters pledge to that campaign, not this one's. The stored
 * version plus the campaign id say exactly what they agreed to.
 */
export const consentText = (wording: string, campaign: { hashtag: string; name: string }) =>
  wording.replaceAll("{hashtag}", campaign.hashtag).replaceAll("{campaign}", campaign.name);

/** The current wording of each consent box, for one campaign, as forms show it. */
export const currentConsent = (campaign: { hashtag: string; name: string }) => ({
  pledge: {
    version: CURRENT_CONSENT.pledge,
    text: consentText(CONSENT_WORDING.pledge[CURRENT_CONSENT.pledge], campaign),
  },
  updates: {
    version: CURRENT_CONSENT.updates,
    text: consentText(CONSENT_WORDING.updates[CURRENT_CONSENT.updates], campaign),
  },
  storyShare: {
    version: CURRENT_CONSENT.storyShare,
    text: consentText(CONSENT_WORDING.storyShare[CURRENT_CONSENT.storyShare], campaign),
  },
});

export const storyShareVersions = Object.keys(CONSENT_WORDING.storyShare) as [string, ...string[]];

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
    z.enum(pledgeVersions, { error: "Tick the box to make your pledge" }),
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
  note: z.string().trim().min(3, "Say how you know (for example: signed at the launch event)").max(500),
});
export type AdminVerifyInput = z.infer<typeof AdminVerifyInput>;
