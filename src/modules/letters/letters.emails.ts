/**
 * The emails around a letter (to the supporter): confirm, reminder, sent notice, follow-up.
 * Each becomes an outbox row; links carry signed, purpose-scoped tokens, never raw ids.
 */
import { letters, type RecipientKind } from "../../db/schema.letters";
import type { Deps } from "../../deps";
import { signToken } from "../../lib/tokens";
import { type NewOutboxRow, outboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { renderText } from "./letters.templates";

export const CONFIRM_PURPOSE = "letter.confirm";
export const FOLLOWUP_PURPOSE = "letter.followup";
/** Follow-up links stay usable for three months after the email. */
const FOLLOWUP_LINK_MS = 90 * 24 * 60 * 60 * 1000;

export type LetterForEmail = {
  id: string;
  supporterName: string;
  supporterEmail: string;
  /** One name, or the names of every recipient of a group ("Ann Smith and Ben Jones"). */
  recipientName: string;
  /**
   * What the confirm link confirms: the letter (its id, the default) or a group of letters
   * written together (`g:<group id>`, see letters.group.ts): one link sends them all.
   */
  tokenSubject?: string;
};

/** The columns of `letters` that emails about a letter need (select(letterForEmailColumns)). */
export const letterForEmailColumns = {
  id: letters.id,
  supporterName: letters.supporterName,
  supporterEmail: letters.supporterEmail,
  recipientName: letters.recipientName,
};

type EmailDeps = Pick<Deps, "config" | "clock" | "ids" | "templates">;

const campaignVars = (deps: Pick<Deps, "config">) => {
  const c = deps.config.campaign;
  return { name: c.name, organisation: c.organisation, hashtag: c.hashtag };
};

const toSupporter = (deps: Pick<Deps, "config">, l: LetterForEmail, subject: string, bodyText: string) => ({
  letterId: l.id,
  state: "queued" as const,
  toName: l.supporterName,
  toEmail: l.supporterEmail,
  reflectTo: l.supporterEmail,
  fromName: deps.config.campaign.hashtag,
  subject,
  bodyText,
});

export const humanDate = (ms: number) =>
  new Date(ms).toLocaleDateString("en-GB", {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "Europe/London",
  });

export async function confirmUrl(deps: Pick<Deps, "config">, letterId: string, expiresAt: number) {
  const token = await signToken(deps.config, {
    purpose: CONFIRM_PURPOSE,
    subject: letterId,
    expiresAt,
  });
  return `${deps.config.PUBLIC_URL}/letters/confirm?token=${token}`;
}

export async function confirmEmail(
  deps: EmailDeps,
  l: LetterForEmail,
  expiresAt: number,
  kind: "confirm" | "reminder",
): Promise<NewOutboxRow> {
  const vars = {
    supporter: { name: l.supporterName },
    recipient: { name: l.recipientName },
    campaign: campaignVars(deps),
    confirmUrl: await confirmUrl(deps, l.tokenSubject ?? l.id, expiresAt),
    expiresOn: humanDate(expiresAt),
    plural: !!l.tokenSubject?.startsWith("g:"),
  };
  const text = renderText(deps, kind === "confirm" ? "emails/confirm.txt" : "emails/reminder.txt", vars);
  const letter = vars.plural ? "letters" : "letter";
  const subject =
    kind === "confirm"
      ? `Please confirm your ${letter} to ${l.recipientName}`
      : `Reminder: your ${letter} to ${l.recipientName} ${vars.plural ? "are" : "is"} waiting`;
  return outboxRow(deps, { kind, ...toSupporter(deps, l, subject, text) });
}

export function sentNoticeEmail(deps: EmailDeps, l: LetterForEmail): NewOutboxRow {
  const text = renderText(deps, "emails/sent.txt", {
    supporter: { name: l.supporterName },
    recipient: { name: l.recipientName },
    campaign: campaignVars(deps),
  });
  return outboxRow(deps, {
    kind: "sent_notice",
    ...toSupporter(deps, l, `Your letter to ${l.recipientName} has been sent`, text),
  });
}

/** Why a letter came back, in the supporter's words, from the enhanced status code. */
function bounceReason(detail: string): string {
  const status = /([45]\.\d{1,3}\.\d{1,3})/.exec(detail)?.[1] ?? "";
  if (status === "5.1.1" || status === "5.1.10") return "their mail server says the address does not exist";
  if (status.startsWith("5.1.")) return "their mail server did not accept the address";
  if (status.startsWith("5.2.")) return "the mailbox is not accepting mail";
  if (status.startsWith("5.7.")) return "their mail server refused it under its rules";
  return "their mail server refused it";
}

export type LetterForNotice = LetterForEmail & {
  recipientKind: RecipientKind;
  subject: string;
  body: string;
};

function devolvedRoleOf(kind: RecipientKind) {
  if (kind === "candidate") return null;
  const body = bodyOfRepKind(kind);
  if (body === "uk_parliament") return null;
  const info = BODY_INFO[body];
  return { role: info.role, parliament: info.name, directoryUrl: info.directoryUrl };
}

/** The letter came back: a copy of it and what the supporter can do instead. */
export function bounceNoticeEmail(deps: EmailDeps, l: LetterForNotice, detail: string): NewOutboxRow {
  const text = renderText(deps, "emails/bounced.txt", {
    supporter: { name: l.supporterName },
    recipient: {
      name: l.recipientName,
      isMp: l.recipientKind === "mp",
      devolved: devolvedRoleOf(l.recipientKind),
    },
    campaign: campaignVars(deps),
    reason: bounceReason(detail),
    letter: { subject: l.subject, body: l.body },
  });
  return outboxRow(deps, {
    kind: "bounce_notice",
    ...toSupporter(deps, l, `Your letter to ${l.recipientName} could not be delivered`, text),
  });
}

/** The "did they reply?" email, queued now to go out LETTER_FOLLOWUP_DAYS later. */
export async function followupEmail(deps: EmailDeps, l: LetterForEmail): Promise<NewOutboxRow> {
  const sendAt = deps.clock.now() + deps.config.LETTER_FOLLOWUP_DAYS * 24 * 60 * 60 * 1000;
  const token = await signToken(deps.config, {
    purpose: FOLLOWUP_PURPOSE,
    subject: l.id,
    expiresAt: sendAt + FOLLOWUP_LINK_MS,
  });
  const text = renderText(deps, "emails/followup.txt", {
    supporter: { name: l.supporterName },
    recipient: { name: l.recipientName },
    campaign: campaignVars(deps),
    answerUrl: `${deps.config.PUBLIC_URL}/letters/followup?token=${token}`,
  });
  return outboxRow(deps, {
    kind: "followup",
    ...toSupporter(deps, l, `Did ${l.recipientName} reply to your letter?`, text),
    notBefore: sendAt,
  });
}
