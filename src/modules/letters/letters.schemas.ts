import { z } from "zod";
import { REPLY_ANSWERS } from "../../db/schema.letters";
import { REPLY_STANCES } from "../../db/schema.replies";
import { EmailField } from "../../lib/email";
import { personName, prose, singleLine } from "../../lib/fields";
import { PostcodeField } from "../../lib/postcode";
import { PartnerConsentField } from "../partners/partners.schemas";
import { CreatePledgeInput, storyShareVersions } from "../pledges/pledges.schemas";

/**
 * The separate, unticked box: the supporter's own words (their story) may be quoted, without
 * name or address, in the digest their representative's office gets. The consent's version.
 */
const ShareStory = z.preprocess((v) => (v === "" ? undefined : v), z.enum(storyShareVersions).optional());

/** One-line fields (address lines, subject) and names: see lib/fields.ts. */
const line = singleLine;

/** The supporter's address as typed; the postcode is checked by the lookup like everywhere else. */
export const PostalAddress = z.object({
  line1: line(120, "address line 1"),
  line2: line(120, "address line 2")
    .optional()
    .or(z.literal("").transform(() => undefined)),
  town: line(80, "town"),
  postcode: PostcodeField,
});
export type PostalAddress = z.infer<typeof PostalAddress>;

/** The longest name, story and letter, in characters (code points). */
export const MAX_NAME = 100;
export const MAX_STORY = 5000;
/** As WriteToThem's MAX_BODY_LENGTH. */
export const MAX_BODY = 20_000;

/** Email address: one addr-spec, RFC lengths, international domains (lib/email.ts). */
export const Email = EmailField;

export const Supporter = z.object({
  name: personName(MAX_NAME),
  email: Email,
  address: PostalAddress,
});

export const Recipient = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("mp") }),
  z.object({ kind: z.literal("candidate"), personId: z.coerce.number().int().positive() }),
]);
export type Recipient = z.infer<typeof Recipient>;

export const LetterDraftInput = z.object({
  recipient: Recipient.default({ kind: "mp" }),
  /** Which of the campaign's asks to include, in order. */
  asks: z.array(z.string().max(40)).min(1, "choose at least one ask").max(10),
  /** The supporter's own story, placed after the asks. */
  story: prose(MAX_STORY, "your story").optional(),
  /** The supporter's edited subject and body (everything above the sign-off); default rendered. */
  subject: line(150, "subject").optional(),
  body: prose(MAX_BODY, "your letter").optional(),
  /**
   * For a postcode that has closed: the constituency (ONS code) the supporter confirmed they
   * still live in. Ignored for a postcode in use.
   */
  seat: z
    .string()
    .regex(/^[A-Z]\d{8}$/)
    .optional(),
  /** Partner site key (widget), if the letter came through one. */
  partner: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
});

export const PreviewLetterInput = LetterDraftInput.extend({
  /** Only the postcode is needed to find the recipient; name and address fill the sign-off. */
  supporter: Supporter.partial({ email: true, name: true }).extend({
    address: PostalAddress.partial({ line1: true, town: true }),
  }),
});
export type PreviewLetterInput = z.infer<typeof PreviewLetterInput>;

/**
 * "I pledge too", ticked on the letter's details form: the consent versions, as the pledge form
 * takes them. The letter's confirmation link confirms the pledge as well.
 */
export const PledgeWithLetter = CreatePledgeInput.pick({ pledgeConsent: true, updatesConsent: true });

export const SubmitLetterInput = LetterDraftInput.extend({
  supporter: Supporter,
  pledge: PledgeWithLetter.optional(),
  /** The separate box "<partner> may contact me" (its wording's version), when a partner is credited. */
  partnerConsent: PartnerConsentField,
  shareStory: ShareStory,
  /** Alternative to the Idempotency-Key header (plain HTML forms can't set headers). */
  idempotencyKey: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,100}$/)
    .optional(),
});
export type SubmitLetterInput = z.infer<typeof SubmitLetterInput>;

// --- letters to several parliaments at once (letters.group.ts) ---------------------------------

/**
 * Whom a supporter writes to in one go: their MP and, in Scotland, Wales or Northern Ireland,
 * their devolved members (by the lookup answer's `devolved.members[].id`).
 */
export const GroupRecipient = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("mp") }),
  z.object({ kind: z.enum(["msp", "ms", "mla"]), personId: z.coerce.number().int().positive() }),
]);
export type GroupRecipient = z.infer<typeof GroupRecipient>;

/** A letter's subject and body as the supporter edited them (everything above the sign-off). */
const EditedLetter = z.object({
  subject: line(150, "subject").optional(),
  body: prose(MAX_BODY, "your letter").optional(),
});

export const LettersDraftInput = z.object({
  /** The MP and at most one member per devolved seat kind (a constituency and a regional MSP). */
  recipients: z.array(GroupRecipient).min(1, "choose who to write to").max(4),
  asks: z.array(z.string().max(40)).min(1, "choose at least one ask").max(10),
  story: prose(MAX_STORY, "your story").optional(),
  /** Edited texts: one for the letter to the MP, one shared by the devolved members' letters. */
  letters: z.object({ uk_parliament: EditedLetter.optional(), devolved: EditedLetter.optional() }).optional(),
  seat: z
    .string()
    .regex(/^[A-Z]\d{8}$/)
    .optional(),
  /** The devolved constituency the supporter chose where the postcode alone can't tell. */
  area: z
    .string()
    .regex(/^(S16|W09|N06)\d{6}$/)
    .optional(),
  partner: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/)
    .optional(),
});

export const PreviewLettersInput = LettersDraftInput.extend({
  supporter: Supporter.partial({ email: true, name: true }).extend({
    address: PostalAddress.partial({ line1: true, town: true }),
  }),
});
export type PreviewLettersInput = z.infer<typeof PreviewLettersInput>;

export const SubmitLettersInput = LettersDraftInput.extend({
  supporter: Supporter,
  /** Confirmed by the letters' one confirmation link. */
  pledge: PledgeWithLetter.optional(),
  /** The separate box "<partner> may contact me" (its wording's version), when a partner is credited. */
  partnerConsent: PartnerConsentField,
  shareStory: ShareStory,
  idempotencyKey: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{8,100}$/)
    .optional(),
});
export type SubmitLettersInput = z.infer<typeof SubmitLettersInput>;

export const IdempotencyKeyHeader = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{8,100}$/, "8-100 characters: letters, digits, _ . : -");

export const TokenInput = z.object({ token: z.string().min(1).max(2000) });

/** The follow-up answer, and (if they replied) their reply pasted in and its stance on each ask. */
export const FollowupInput = z.object({
  token: z.string().min(1).max(2000),
  answer: z.enum(REPLY_ANSWERS, { error: "Choose whether they replied" }),
  replyText: prose(20_000).optional(),
  /** { askId: stance } for the letter's asks; others are ignored. */
  stances: z
    .record(
      z.string().regex(/^[a-z][a-z0-9-]{1,30}$/),
      z.enum(REPLY_STANCES, { error: "Choose one of the answers" }),
    )
    .optional(),
});
export type FollowupInput = z.infer<typeof FollowupInput>;

/** A chase letter, as the writer edited it (the sign-off is always added by us). */
export const ChaseInput = z.object({
  token: z.string().min(1).max(2000),
  subject: line(150, "subject").optional(),
  body: prose(20_000).optional(),
});
export type ChaseInput = z.infer<typeof ChaseInput>;

export const LetterIdParam = z.object({ id: z.uuid() });

/** "Send the link again": the address the letter was written from. */
export const ResendConfirmationInput = z.object({ email: Email });
