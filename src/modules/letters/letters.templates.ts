/**
 * The variable contract of every letter and email template (documented in templates/README.md).
 * Data is checked against the contract before rendering, so a missing or misnamed variable fails
 * loudly in tests instead of leaving a blank in a letter to an MP.
 *
 * Supporter text is only ever passed as data: Handlebars never compiles it, so `{{x}}` typed in a
 * letter is sent literally. Text templates (*.txt) are not HTML-escaped because they are sent as
 * text/plain; pages that show them escape again.
 */
import { z } from "zod";
import type { Deps } from "../../deps";
import { Ask } from "./letters.campaign";

const Named = z.object({ name: z.string().min(1) });
const CampaignVars = z.object({
  name: z.string().min(1),
  organisation: z.string().min(1),
  hashtag: z.string().min(1),
});

export const LetterVars = z.object({
  recipient: Named,
  constituency: Named,
  campaign: CampaignVars,
  asks: z.array(Ask).min(1),
  /** True when exactly one ask is chosen (grammar). */
  single: z.boolean(),
  story: z.string().nullable(),
});
export type LetterVars = z.infer<typeof LetterVars>;

/**
 * A letter to a devolved member (MSP, MS, MLA). The greeting ("Dear …,") is not part of it: one
 * text goes to each member the supporter chose (a constituency and a regional MSP), each with
 * their own greeting (letters/greeting.txt) above it.
 */
export const DevolvedLetterVars = z.object({
  /** The supporter's devolved constituency. */
  area: Named,
  /** Scotland: the region (the same text goes to the constituency MSP and a regional MSP). */
  region: Named.nullable(),
  campaign: CampaignVars,
  asks: z.array(Ask).min(1),
  single: z.boolean(),
  story: z.string().nullable(),
});
export type DevolvedLetterVars = z.infer<typeof DevolvedLetterVars>;

export const GreetingVars = z.object({
  /** role: "MSP", "MS" or "MLA", the post-nominal a member of that parliament is addressed by. */
  recipient: Named.extend({ role: z.enum(["MSP", "MS", "MLA"]) }),
});

export const SignoffVars = z.object({
  supporter: z.object({ name: z.string().min(1), addressLines: z.array(z.string().min(1)).min(2) }),
});

export const ConfirmEmailVars = z.object({
  supporter: Named,
  recipient: Named,
  campaign: CampaignVars,
  confirmUrl: z.url(),
  /** Human date, e.g. "Monday 30 November 2026". */
  expiresOn: z.string().min(1),
  /** Several letters written together (to the MP and devolved members): one link sends them all. */
  plural: z.boolean().default(false),
});

export const SentEmailVars = z.object({ supporter: Named, recipient: Named, campaign: CampaignVars });

export const FollowupEmailVars = z.object({
  supporter: Named,
  recipient: Named,
  campaign: CampaignVars,
  answerUrl: z.url(),
});

/** A letter that was stopped because its MP left the seat: who is there now, and where to go next. */
export const LetterStoppedEmailVars = z.object({
  supporter: Named,
  recipient: Named,
  /** What the recipient was: MP, MSP, MS, MLA. */
  role: z.string().min(2).default("MP"),
  /** The area elects several members (a region, a Senedd or Assembly constituency): others remain. */
  multiMember: z.boolean().default(false),
  constituency: Named,
  campaign: CampaignVars,
  /** The seat's MP now; null when the seat is vacant. */
  successor: Named.nullable(),
  /** Starts a new letter to the successor (or, for a vacant seat, shows the seat). */
  nextUrl: z.url(),
});

const LetterCopy = z.object({ subject: z.string(), body: z.string() });
const RecipientRole = z.object({
  name: z.string().min(1),
  isMp: z.boolean(),
  /** An MSP, MS or MLA: their role ("MSP") and the parliament's members directory. */
  devolved: z
    .object({ role: z.string().min(1), parliament: z.string().min(1), directoryUrl: z.url() })
    .nullable()
    .default(null),
});

export const BouncedEmailVars = z.object({
  supporter: Named,
  recipient: RecipientRole,
  campaign: CampaignVars,
  /** Why it came back, in plain words ("their mail server says the address does not exist"). */
  reason: z.string().min(1),
  letter: LetterCopy,
});

/** A chase letter's text above the sign-off (letters.replies.ts): the writer may edit all of it. */
export const ChaseLetterVars = z.object({
  /** "Dear Jane Smith," or "Dear Lorna Slater MSP,". */
  greeting: z.string().min(1),
  /** When the first letter was sent, in words. */
  sentOn: z.string().min(1),
  campaign: CampaignVars,
  asks: z.array(Ask).min(1),
  single: z.boolean(),
});

export const ChasePromptEmailVars = z.object({
  supporter: Named,
  recipient: Named,
  sentOn: z.string().min(1),
  campaign: CampaignVars,
  /** The follow-up page (a signed `letter.followup` token), where the chase letter is. */
  chaseUrl: z.url(),
});

/** The periodic summary to a representative's office (modules/digest). */
export const DigestEmailVars = z.object({
  recipient: Named.extend({ role: z.string().min(1) }),
  campaign: CampaignVars,
  /** First and last day of the period, in words. */
  period: z.object({ from: z.string().min(1), to: z.string().min(1) }),
  /** Letters from constituents in the period (at least one, or there is no digest). */
  letters: z.number().int().min(1),
  /** Since the campaign began. */
  total: z.number().int().min(1),
  asks: z.array(z.object({ title: z.string().min(1), n: z.number().int().min(1) })),
  /** Writers' own words, shared with the office by their explicit consent; no names. */
  stories: z.array(z.string().min(1)),
  /** The signed pledge link; null once they have signed. */
  pledgeUrl: z.url().nullable(),
  optOutUrl: z.url(),
});

export const TEMPLATE_CONTRACTS = {
  "letters/mp.txt": LetterVars,
  "letters/candidate.txt": LetterVars,
  "letters/msp.txt": DevolvedLetterVars,
  "letters/ms.txt": DevolvedLetterVars,
  "letters/mla.txt": DevolvedLetterVars,
  "letters/greeting.txt": GreetingVars,
  "letters/signoff.txt": SignoffVars,
  "letters/chase.txt": ChaseLetterVars,
  "emails/confirm.txt": ConfirmEmailVars,
  "emails/reminder.txt": ConfirmEmailVars,
  "emails/sent.txt": SentEmailVars,
  "emails/followup.txt": FollowupEmailVars,
  "emails/chase-prompt.txt": ChasePromptEmailVars,
  "emails/digest.txt": DigestEmailVars,
  "emails/letter-stopped.txt": LetterStoppedEmailVars,
  "emails/bounced.txt": BouncedEmailVars,
} as const;
export type TemplateName = keyof typeof TEMPLATE_CONTRACTS;

export function renderText<N extends TemplateName>(
  deps: Pick<Deps, "templates">,
  name: N,
  vars: z.input<(typeof TEMPLATE_CONTRACTS)[N]>,
): string {
  const data = TEMPLATE_CONTRACTS[name].parse(vars) as object;
  return tidy(deps.templates.render(name, data));
}

/**
 * Normalise line endings, drop spaces and tabs at line ends, collapse runs of blank lines (left
 * by optional sections, or typed) to one, and trim. One pass over the text: supporters' text
 * reaches this, and a backtracking pattern like /[ \t]+\n/ takes quadratic time on a long run of
 * spaces (40,000 of them cost a second of the event loop).
 */
export function tidy(text: string): string {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out: string[] = [];
  for (const line of lines) {
    let end = line.length;
    while (end > 0) {
      const ch = line.charCodeAt(end - 1);
      if (ch !== 0x20 && ch !== 0x09) break;
      end--;
    }
    const trimmed = end === line.length ? line : line.slice(0, end);
    if (trimmed === "" && out.length > 0 && out[out.length - 1] === "") continue;
    out.push(trimmed);
  }
  return out.join("\n").trim();
}
