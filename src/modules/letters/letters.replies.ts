/**
 * After a letter has gone: what the writer tells us about the reply, and chasing one that has had
 * none.
 *
 * Rules:
 * - The follow-up email's link (a signed `letter.followup` token: only the writer's inbox has it)
 *   is the writer's proof of who they are for everything here. GET shows a page; only POST
 *   changes anything (link scanners fetch links).
 * - The answer (replied / not yet / no) is kept on the letter; a later answer replaces an
 *   earlier one. A reply pasted in, and its stance on each of the letter's asks, are kept in
 *   letter_replies: the text is the writer's (retention and erasure scrub it), the stances stay.
 * - A chase letter is offered LETTER_CHASE_AFTER_WEEKS after the letter was sent, unless the
 *   writer said the representative replied, to the same representative if they still hold the
 *   seat and we still hold the writer's address. It is a new letter (chase_of names the first;
 *   UNIQUE, so at most one), written and confirmed in one atomic write through the delivery state
 *   machine: the follow-up link confirmed who is writing, so no second confirmation email. The
 *   one-letter-per-representative window doesn't apply to it against the letter it follows up.
 * - Answering "not yet" or "no" before the chase is due queues one email for the day it is
 *   (claimed by chase_prompt_mail_id, one per letter); answering "yes" cancels it, through the
 *   state machine.
 */
import { and, eq, sql } from "drizzle-orm";
import { devolvedMembers, letterReplies, letters, members, type ReplyStance } from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { AppError } from "../../lib/errors";
import { sha256Hex, signToken, verifyToken } from "../../lib/tokens";
import {
  announceInserted,
  initialLetterStatus,
  insertOutbox,
  insertOutboxWhere,
  transition,
} from "../delivery/delivery.machine";
import { outboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { FOLLOWUP_PURPOSE, humanDate } from "./letters.emails";
import { announceConfirmed, checkRecipientLimits, confirmStatements } from "./letters.service";
import { renderText, tidy } from "./letters.templates";

const DAY = 86_400_000;
/** A chase prompt's link stays usable this long after the prompt is sent. */
const PROMPT_LINK_MS = 90 * DAY;
/** Stored replies are capped: a letter back from an office is a page or two. */
export const MAX_REPLY_CHARS = 20_000;

/** The letter as this module needs it. */
const columns = {
  id: letters.id,
  campaignId: letters.campaignId,
  status: letters.status,
  constituencyCode: letters.constituencyCode,
  areaCode: letters.areaCode,
  recipientKind: letters.recipientKind,
  recipientPersonId: letters.recipientPersonId,
  recipientName: letters.recipientName,
  partnerKey: letters.partnerKey,
  asks: letters.asks,
  subject: letters.subject,
  supporterName: letters.supporterName,
  supporterEmail: letters.supporterEmail,
  supporterEmailKey: letters.supporterEmailKey,
  supporterAddress: letters.supporterAddress,
  supporterPostcode: letters.supporterPostcode,
  sentAt: letters.sentAt,
  replyAnswer: letters.replyAnswer,
  chaseOf: letters.chaseOf,
  chasePromptMailId: letters.chasePromptMailId,
};
const loadLetter = async (deps: Deps, id: string) =>
  (await deps.db.select(columns).from(letters).where(eq(letters.id, id)))[0];
type FollowedLetter = NonNullable<Awaited<ReturnType<typeof loadLetter>>>;

async function letterFromToken(deps: Deps, token: string): Promise<FollowedLetter> {
  const { subject: id } = await verifyToken(deps.config, token, FOLLOWUP_PURPOSE, deps.clock.now());
  const l = await loadLetter(deps, id);
  if (!l) throw new AppError("not_found", "This letter no longer exists.");
  return l;
}

/** "MP", "MSP", "MS", "MLA" (candidates are addressed by name only). */
const roleOf = (kind: string) => (kind === "candidate" ? null : BODY_INFO[bodyOfRepKind(kind as "mp")].role);

/** The representative the letter went to, if they still sit for that place: their address now. */
async function currentRecipient(deps: Deps, l: FollowedLetter) {
  if (l.recipientPersonId === null) return null;
  if (l.recipientKind === "mp") {
    const [m] = await deps.db
      .select({ name: members.name, email: members.email, reflects: members.reflectsToSender })
      .from(members)
      .where(
        and(
          eq(members.constituencyCode, l.constituencyCode),
          eq(members.status, "sitting"),
          eq(members.parliamentId, l.recipientPersonId),
        ),
      );
    return m?.name && m.email ? { name: m.name, email: m.email, reflects: m.reflects } : null;
  }
  if (l.recipientKind === "candidate" || !l.areaCode) return null;
  const [m] = await deps.db
    .select({ name: devolvedMembers.name, email: devolvedMembers.email })
    .from(devolvedMembers)
    .where(and(eq(devolvedMembers.id, l.recipientPersonId), eq(devolvedMembers.areaCode, l.areaCode)));
  return m?.email ? { name: m.name, email: m.email, reflects: false } : null;
}

export type ChaseState =
  | { status: "available"; subject: string; body: string; signoff: string }
  | { status: "not_yet"; from: string; fromMs: number }
  | { status: "sent"; letterStatus: string }
  | { status: "replied" }
  | { status: "unavailable"; reason: string };

/** The chase letter's text above the sign-off: the writer may edit all of it. */
function chaseDraft(deps: Deps, l: FollowedLetter, recipientName: string) {
  const campaign = deps.config.campaign;
  const asks = campaign.asks.filter((a) => (l.asks ?? []).includes(a.id));
  const role = roleOf(l.recipientKind);
  const body = renderText(deps, "letters/chase.txt", {
    greeting: role && role !== "MP" ? `Dear ${recipientName} ${role},` : `Dear ${recipientName},`,
    sentOn: humanDate(l.sentAt ?? 0),
    campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
    asks: asks.length ? asks : campaign.asks,
    single: asks.length === 1,
  });
  const signoff = renderText(deps, "letters/signoff.txt", {
    supporter: { name: l.supporterName, addressLines: l.supporterAddress.split("\n") },
  });
  const subject = `Following up: ${l.subject}`.slice(0, 150);
  return { subject, body, signoff };
}

/** Whether (and when) the writer of `l` may send a chase letter, with its draft if they may. */
export async function chaseState(deps: Deps, l: FollowedLetter): Promise<ChaseState> {
  if (l.chaseOf) return { status: "unavailable", reason: "This letter already followed up an earlier one." };
  const [existing] = await deps.db
    .select({ status: letters.status })
    .from(letters)
    .where(eq(letters.chaseOf, l.id));
  if (existing) return { status: "sent", letterStatus: existing.status };
  if (l.replyAnswer === "yes") return { status: "replied" };
  if (l.status !== "sent" || l.sentAt === null)
    return {
      status: "unavailable",
      reason: "Your letter was not delivered, so there is nothing to follow up.",
    };
  if (l.recipientKind === "candidate")
    return { status: "unavailable", reason: "Follow-up letters go to sitting representatives only." };
  const fromMs = l.sentAt + deps.config.LETTER_CHASE_AFTER_WEEKS * 7 * DAY;
  if (deps.clock.now() < fromMs) return { status: "not_yet", from: humanDate(fromMs), fromMs };
  if (l.supporterAddress.split("\n").length < 2)
    return {
      status: "unavailable",
      reason: "We no longer hold your address (we remove it after a while), so we can't write for you.",
    };
  const r = await currentRecipient(deps, l);
  if (!r)
    return {
      status: "unavailable",
      reason: `${l.recipientName} no longer holds the seat, or we have no address for them, so we can't send a follow-up letter.`,
    };
  return { status: "available", ...chaseDraft(deps, l, r.name) };
}

/** What the follow-up page shows. */
export async function followupView(deps: Deps, input: { token: string }) {
  const l = await letterFromToken(deps, input.token);
  const [reply] = await deps.db.select().from(letterReplies).where(eq(letterReplies.letterId, l.id));
  const campaign = deps.config.campaign;
  return {
    letter: {
      id: l.id,
      recipientName: l.recipientName,
      role: roleOf(l.recipientKind),
      sentOn: l.sentAt ? humanDate(l.sentAt) : null,
      replyAnswer: l.replyAnswer,
    },
    asks: campaign.asks
      .filter((a) => (l.asks ?? []).includes(a.id))
      .map((a) => ({ id: a.id, title: a.title, stance: reply?.stances[a.id] ?? null })),
    replyText: reply?.replyText ?? "",
    chase: await chaseState(deps, l),
  };
}

/**
 * Record the answer (and a pasted reply with its stances), then: "yes" cancels a waiting chase
 * prompt; "not yet"/"no" before the chase is due queues the one prompt for that day.
 */
export async function answerFollowup(
  deps: Deps,
  input: {
    token: string;
    answer: "yes" | "no" | "not_yet";
    replyText?: string;
    stances?: Record<string, ReplyStance>;
  },
) {
  const l = await letterFromToken(deps, input.token);
  const now = deps.clock.now();
  // Only the letter's own asks can have a stance.
  const stances = Object.fromEntries(
    Object.entries(input.stances ?? {}).filter(([ask]) => (l.asks ?? []).includes(ask)),
  ) as Record<string, ReplyStance>;
  const text = input.replyText ? tidy(input.replyText).slice(0, MAX_REPLY_CHARS) : null;
  const statements: Statement[] = [
    deps.db
      .update(letters)
      .set({ replyAnswer: input.answer, replyAnsweredAt: now })
      .where(eq(letters.id, l.id)),
  ];
  if (input.answer === "yes" && (text || Object.keys(stances).length))
    statements.push(
      deps.db
        .insert(letterReplies)
        .values({ letterId: l.id, replyText: text, stances, createdAt: now, updatedAt: now })
        .onConflictDoUpdate({
          target: letterReplies.letterId,
          // A stance-only update keeps the text given before.
          set: { replyText: text ?? sql`${letterReplies.replyText}`, stances, updatedAt: now },
        }),
    );
  await deps.atomic(statements);
  if (input.answer === "yes" && l.chasePromptMailId)
    await transition(deps, "cancel", { id: l.chasePromptMailId }, { set: { cancelReason: "they replied" } });
  if (input.answer !== "yes" && !l.chasePromptMailId) {
    const chase = await chaseState(deps, { ...l, replyAnswer: input.answer });
    if (chase.status === "not_yet") await queueChasePrompt(deps, l, chase.fromMs);
  }
  deps.logger.info("follow-up answered", { letterId: l.id, answer: input.answer, reply: !!text });
  return { id: l.id, answer: input.answer };
}

/** The one "no reply yet?" email for letter `l`, due at `at`: claimed on the letter, then queued. */
async function queueChasePrompt(deps: Deps, l: FollowedLetter, at: number) {
  const token = await signToken(deps.config, {
    purpose: FOLLOWUP_PURPOSE,
    subject: l.id,
    expiresAt: at + PROMPT_LINK_MS,
  });
  const campaign = deps.config.campaign;
  const text = renderText(deps, "emails/chase-prompt.txt", {
    supporter: { name: l.supporterName },
    recipient: { name: l.recipientName },
    sentOn: humanDate(l.sentAt ?? 0),
    campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
    chaseUrl: `${deps.config.PUBLIC_URL}/letters/followup?token=${token}`,
  });
  const mail = outboxRow(deps, {
    kind: "reminder",
    letterId: l.id,
    state: "queued",
    toName: l.supporterName,
    toEmail: l.supporterEmail,
    reflectTo: l.supporterEmail,
    fromName: campaign.hashtag,
    subject: `No reply yet from ${l.recipientName}? Send a follow-up in one click`,
    bodyText: text,
    notBefore: at,
  });
  const written = await deps.atomic([
    deps.db
      .update(letters)
      .set({ chasePromptMailId: mail.id })
      .where(and(eq(letters.id, l.id), sql`${letters.chasePromptMailId} is null`)),
    insertOutboxWhere(
      deps,
      mail,
      sql`exists (select 1 from ${letters} where ${letters.chasePromptMailId} = ${mail.id})`,
    ),
  ]);
  if (written[1]) await announceInserted(deps, [mail]);
}

/**
 * Send the chase letter: a new letter to the same representative, written and confirmed in one
 * atomic write. A second call (double click, replayed form) finds the first and sends nothing.
 */
export async function sendChase(deps: Deps, input: { token: string; subject?: string; body?: string }) {
  const l = await letterFromToken(deps, input.token);
  const chase = await chaseState(deps, l);
  if (chase.status === "sent")
    return {
      status: "already_sent" as const,
      recipientName: l.recipientName,
      letterStatus: chase.letterStatus,
    };
  if (chase.status !== "available")
    throw new AppError(
      "chase_not_available",
      chase.status === "replied"
        ? `You told us ${l.recipientName} replied, so there is nothing to chase.`
        : chase.status === "not_yet"
          ? `You can send a follow-up letter from ${chase.from}.`
          : chase.reason,
    );
  const r = await currentRecipient(deps, l);
  if (!r) throw new AppError("chase_not_available", "We can't reach this representative any more.");
  await checkRecipientLimits(deps, {
    kind: l.recipientKind,
    personId: l.recipientPersonId,
    name: r.name,
    email: r.email,
    constituency: { code: l.constituencyCode },
    areaCode: l.areaCode,
  });
  const now = deps.clock.now();
  const id = deps.ids.uuid();
  const subject = input.subject?.trim() || chase.subject;
  const text = `${tidy(input.body?.trim() ? input.body : chase.body)}\n\n${chase.signoff}`;
  const letterMail = outboxRow(deps, {
    kind: "letter",
    letterId: id,
    state: "awaiting_confirmation",
    toName: r.name,
    toEmail: r.email,
    reflectTo: l.supporterEmail,
    alwaysReflect: r.reflects,
    fromName: `${l.supporterName} ${deps.config.MAIL_FROM_SUFFIX}`,
    replyToName: l.supporterName,
    replyTo: l.supporterEmail,
    subject,
    bodyText: text,
    expiresAt: now + deps.config.LETTER_CONFIRM_TTL_DAYS * DAY,
  });
  const row = {
    id,
    campaignId: l.campaignId,
    constituencyCode: l.constituencyCode,
    recipientKind: l.recipientKind,
    recipientPersonId: l.recipientPersonId,
    areaCode: l.areaCode,
    recipientName: r.name,
    partnerKey: l.partnerKey,
    status: initialLetterStatus(letterMail),
    asks: l.asks ?? [],
    subject,
    body: text,
    supporterName: l.supporterName,
    supporterEmail: l.supporterEmail,
    supporterEmailKey: l.supporterEmailKey,
    supporterAddress: l.supporterAddress,
    supporterPostcode: l.supporterPostcode,
    // One chase per letter, whoever asks twice: the UNIQUE chase_of and this key both hold.
    idempotencyKey: await sha256Hex(`chase|${l.id}`),
    chaseOf: l.id,
    createdAt: now,
    confirmSentAt: now,
  };
  try {
    await deps.atomic([
      deps.db.insert(letters).values(row),
      insertOutbox(deps, [letterMail]),
      // Confirmed by the follow-up link the writer just used: the same statements as a confirm
      // link's, with the letter it follows up exempt from the one-letter-per-window rule.
      ...confirmStatements(
        deps,
        {
          id,
          status: "awaiting_confirmation",
          similarity: null,
          flags: null,
          recipientName: r.name,
          email: l.supporterEmailKey,
          code: l.constituencyCode,
          areaCode: l.areaCode,
          kind: l.recipientKind,
          personId: l.recipientPersonId,
        },
        now,
        { exempt: l.id },
      ),
    ]);
  } catch (e) {
    const [winner] = await deps.db
      .select({ status: letters.status })
      .from(letters)
      .where(eq(letters.chaseOf, l.id));
    if (winner)
      return { status: "already_sent" as const, recipientName: r.name, letterStatus: winner.status };
    throw e;
  }
  // Committed: the letter's row is queued (or held); hand it to the runtime's sender.
  await announceConfirmed(deps, [id]);
  const [after] = await deps.db.select({ status: letters.status }).from(letters).where(eq(letters.id, id));
  deps.logger.info("chase letter sent", { letterId: id, chaseOf: l.id, status: after?.status });
  return { status: "sent" as const, recipientName: r.name, letterStatus: after?.status ?? "confirmed" };
}
