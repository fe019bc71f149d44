/**
 * Letters: compose around the campaign's asks, preview, submit, confirm, follow up.
 *
 * Rules:
 * - Supporters pick asks, may edit every word above the sign-off, and are prompted for their own
 *   story. The sign-off (name + full postal address) is always added by us: MPs answer
 *   constituents only, and the address is how they check.
 * - Supporter text is data, never template source; one-line fields cannot hold CR/LF.
 * - Submit is idempotent: the key (Idempotency-Key header or body field, else a digest of the
 *   submission) is stored hashed with the email under a UNIQUE index, so a double submit returns
 *   the first letter and writes nothing.
 * - Nothing is sent until the supporter confirms from the email link (GET shows a button, POST
 *   confirms; replays are harmless). Unconfirmed letters get one reminder half-way, then expire.
 * - Abuse limits: per email per day (deps.rateLimiter, keyed by a pseudonym of the address; the
 *   per-client-address limit is middleware, src/http/rate-limit.ts), one letter per person per
 *   recipient per window and a per-recipient daily cap (database), and a near-duplicate check
 *   that holds a letter for moderation instead of sending it.
 * - The letter row and its outbox rows are written in one deps.atomic call.
 */
import { and, eq, gte, inArray, isNull, lte, ne, notInArray, sql } from "drizzle-orm";
import { candidates, letterStops, members } from "../../db/schema";
import { letterBands, letters, outbox } from "../../db/schema.letters";
import type { Deps, Statement } from "../../deps";
import { AppError } from "../../lib/errors";
import { pseudonym, sha256Hex, verifyToken } from "../../lib/tokens";
import { letterTallyStatements } from "../admin/admin.tallies";
import { outboxRow } from "../delivery/delivery.outbox";
import { lookupPostcode } from "../lookup/lookup.service";
import type { Campaign } from "./letters.campaign";
import {
  CONFIRM_PURPOSE,
  confirmEmail,
  FOLLOWUP_PURPOSE,
  type LetterForEmail,
  letterForEmailColumns,
} from "./letters.emails";
import type { PreviewLetterInput, Recipient, SubmitLetterInput } from "./letters.schemas";
import { bands, ownWords, signature, similarity } from "./letters.similarity";
import { renderText, tidy } from "./letters.templates";

const DAY = 24 * 60 * 60 * 1000;

type ResolvedRecipient = {
  kind: Recipient["kind"];
  personId: number | null;
  name: string;
  email: string | null;
  reflects: boolean;
  constituency: { code: string; name: string };
  postcode: string;
};

async function resolveRecipient(
  deps: Deps,
  postcode: string,
  recipient: Recipient,
  confirmedSeat?: string,
): Promise<ResolvedRecipient> {
  const seat = await lookupPostcode(deps, { postcode, seat: confirmedSeat });
  const constituency = { code: seat.constituency.code, name: seat.constituency.name };
  if (recipient.kind === "mp") {
    const [m] = await deps.db
      .select({
        status: members.status,
        name: members.name,
        email: members.email,
        parliamentId: members.parliamentId,
        reflects: members.reflectsToSender,
      })
      .from(members)
      .where(eq(members.constituencyCode, constituency.code));
    if (!m || m.status === "vacant" || !m.name)
      throw new AppError("seat_vacant", `${constituency.name} has no MP at the moment.`);
    return {
      kind: "mp",
      personId: m.parliamentId,
      name: m.name,
      email: m.email,
      reflects: m.reflects,
      constituency,
      postcode: seat.postcode,
    };
  }
  const election = deps.config.ELECTION_ID;
  const [c] = election
    ? await deps.db
        .select({ name: candidates.name, email: candidates.email })
        .from(candidates)
        .where(
          and(
            eq(candidates.electionId, election),
            eq(candidates.personId, recipient.personId),
            eq(candidates.constituencyCode, constituency.code),
          ),
        )
    : [];
  if (!c) throw new AppError("not_found", `No such candidate is standing in ${constituency.name}.`);
  return {
    kind: "candidate",
    personId: recipient.personId,
    name: c.name,
    email: c.email,
    reflects: false,
    constituency,
    postcode: seat.postcode,
  };
}

function chosenAsks(campaign: Campaign, ids: string[]) {
  const unknown = ids.filter((id) => !campaign.asks.some((a) => a.id === id));
  if (unknown.length)
    throw new AppError("validation_failed", `Unknown ask: ${unknown.join(", ")}`, {
      errors: [{ path: "asks", message: `choose from ${campaign.asks.map((a) => a.id).join(", ")}` }],
    });
  // The campaign's order, once each, whatever order they were ticked in.
  return campaign.asks.filter((a) => ids.includes(a.id));
}

function renderDraft(deps: Deps, r: ResolvedRecipient, asks: Campaign["asks"], story: string | null) {
  const campaign = deps.config.campaign;
  return renderText(deps, r.kind === "mp" ? "letters/mp.txt" : "letters/candidate.txt", {
    recipient: { name: r.name },
    constituency: { name: r.constituency.name },
    campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
    asks,
    single: asks.length === 1,
    story,
  });
}

function addressLines(supporter: {
  address: { line1?: string; line2?: string; town?: string; postcode: string };
}) {
  const a = supporter.address;
  return [a.line1, a.line2, a.town, a.postcode].filter((x): x is string => !!x);
}

function compose(deps: Deps, r: ResolvedRecipient, input: PreviewLetterInput) {
  const campaign = deps.config.campaign;
  const asks = chosenAsks(campaign, input.asks);
  const draft = input.body ? tidy(input.body) : renderDraft(deps, r, asks, input.story || null);
  // Subject placeholders are filled by plain replacement, never by a template engine.
  const subject =
    input.subject ?? campaign.defaultSubject[r.kind].replaceAll("{{constituency}}", r.constituency.name);
  const lines = addressLines(input.supporter);
  const signoff = renderText(deps, "letters/signoff.txt", {
    supporter: {
      name: input.supporter.name ?? "Your name",
      addressLines: lines.length >= 2 ? lines : [...lines, "Your address"],
    },
  });
  return { asks, draft, subject, signoff, body: `${draft}\n\n${signoff}` };
}

const recipientView = (r: ResolvedRecipient) => ({
  kind: r.kind,
  name: r.name,
  contactable: !!r.email,
  constituency: r.constituency,
});

export async function previewLetter(deps: Deps, input: PreviewLetterInput) {
  const r = await resolveRecipient(deps, input.supporter.address.postcode, input.recipient, input.seat);
  const c = compose(deps, r, input);
  return {
    recipient: recipientView(r),
    asks: c.asks.map((a) => a.id),
    subject: c.subject,
    /** Editable: send it back as `body` to change the letter. */
    draft: c.draft,
    /** Always added below the draft. */
    signoff: c.signoff,
    text: c.body,
    prompt:
      input.story || input.body
        ? undefined
        : "Add a few words of your own: letters in people's own words carry more weight.",
  };
}

// --- limits -------------------------------------------------------------------------------------

/** Letters per email address per day: the limit that holds however many people share a network. */
async function consumeEmailAllowance(deps: Deps, email: string) {
  const decision = await deps.rateLimiter.consume(
    { name: "letters-email", limit: deps.config.LETTER_LIMIT_PER_EMAIL_DAY, windowSeconds: 86_400 },
    await pseudonym(deps.config.TOKEN_SECRET, `email:${email}`),
  );
  if (!decision.allowed)
    throw new AppError(
      "rate_limited",
      "Too many letters from this email address today. Please try again tomorrow.",
      {
        retryAfter: decision.retryAfterSeconds,
      },
    );
}

const LIVE_LETTER_STATUSES = ["awaiting_confirmation", "confirmed", "held", "sent"] as const;

async function checkRecipientLimits(deps: Deps, r: ResolvedRecipient, email: string) {
  const now = deps.clock.now();
  const sameRecipient = and(
    eq(letters.constituencyCode, r.constituency.code),
    eq(letters.recipientKind, r.kind),
    r.personId === null ? isNull(letters.recipientPersonId) : eq(letters.recipientPersonId, r.personId),
    inArray(letters.status, [...LIVE_LETTER_STATUSES]),
  );
  if (deps.config.LETTER_SAME_RECIPIENT_DAYS > 0) {
    const [dup] = await deps.db
      .select({ id: letters.id })
      .from(letters)
      .where(
        and(
          sameRecipient,
          eq(letters.supporterEmail, email),
          gte(letters.createdAt, now - deps.config.LETTER_SAME_RECIPIENT_DAYS * DAY),
        ),
      )
      .limit(1);
    if (dup)
      throw new AppError(
        "already_written",
        `You wrote to ${r.name} in the last ${deps.config.LETTER_SAME_RECIPIENT_DAYS} days.`,
      );
  }
  const dayStart = now - (now % DAY);
  const [count] = await deps.db
    .select({ n: sql<number>`count(*)` })
    .from(letters)
    .where(and(sameRecipient, gte(letters.createdAt, dayStart)));
  if (Number(count?.n ?? 0) >= deps.config.LETTER_RECIPIENT_DAILY_CAP)
    throw new AppError(
      "recipient_daily_cap",
      `${r.name} has received many letters today. Please try tomorrow.`,
      {
        retryAfter: Math.ceil((dayStart + DAY - now) / 1000),
      },
    );
}

async function nearestDuplicate(deps: Deps, campaignId: string, email: string, sig: number[]) {
  const keys = bands(sig);
  const rows = await deps.db
    .selectDistinct({ id: letters.id, signature: letters.signature })
    .from(letterBands)
    .innerJoin(letters, eq(letters.id, letterBands.letterId))
    .where(
      and(
        inArray(letterBands.band, keys),
        eq(letters.campaignId, campaignId),
        ne(letters.supporterEmail, email),
      ),
    )
    .limit(200);
  let best: { id: string; score: number } | null = null;
  for (const row of rows) {
    if (!row.signature) continue;
    const score = similarity(sig, row.signature);
    if (!best || score > best.score) best = { id: row.id, score };
  }
  return best;
}

// --- submit -------------------------------------------------------------------------------------

export type LetterStatusView = {
  id: string;
  status: string;
  recipient: { kind: string; name: string; constituency: string };
  subject: string;
  createdAt: string;
  confirmedAt: string | null;
  sentAt: string | null;
  /** Set when the letter was not sent because its MP left the seat before it went. */
  stopped?: { reason: "member_left" | "seat_vacant"; newMp: string | null };
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export async function getLetterStatus(deps: Deps, input: { id: string }): Promise<LetterStatusView> {
  const [l] = await deps.db
    .select({
      id: letters.id,
      status: letters.status,
      kind: letters.recipientKind,
      name: letters.recipientName,
      constituency: letters.constituencyCode,
      subject: letters.subject,
      createdAt: letters.createdAt,
      confirmedAt: letters.confirmedAt,
      sentAt: letters.sentAt,
      stopReason: letterStops.reason,
      stopNewMp: letterStops.newMemberName,
    })
    .from(letters)
    .leftJoin(letterStops, eq(letterStops.letterId, letters.id))
    .where(eq(letters.id, input.id));
  if (!l) throw new AppError("not_found", "No such letter.");
  return {
    ...(l.stopReason ? { stopped: { reason: l.stopReason, newMp: l.stopNewMp } } : {}),
    id: l.id,
    status: l.status,
    recipient: { kind: l.kind, name: l.name, constituency: l.constituency },
    subject: l.subject,
    createdAt: iso(l.createdAt) as string,
    confirmedAt: iso(l.confirmedAt),
    sentAt: iso(l.sentAt),
  };
}

export async function submitLetter(
  deps: Deps,
  input: SubmitLetterInput,
  ctx: { idempotencyKey?: string } = {},
): Promise<{ letter: LetterStatusView; created: boolean }> {
  const campaign = deps.config.campaign;
  const email = input.supporter.email;
  const clientKey = ctx.idempotencyKey ?? input.idempotencyKey;
  // Without a client key, the submission itself is the key: an identical resubmit is a replay.
  const keySource = clientKey
    ? `key:${clientKey}`
    : `body:${JSON.stringify([input.recipient, input.asks, input.story, input.subject, input.body, input.supporter])}`;
  const idempotencyKey = await sha256Hex(`${campaign.id}|${email}|${keySource}`);
  const existing = await deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(eq(letters.idempotencyKey, idempotencyKey));
  if (existing[0]) return { letter: await getLetterStatus(deps, existing[0]), created: false };

  await consumeEmailAllowance(deps, email);

  const r = await resolveRecipient(deps, input.supporter.address.postcode, input.recipient, input.seat);
  if (!r.email)
    throw new AppError(
      "recipient_not_contactable",
      `We have no email address for ${r.name}, so we can't send this.`,
    );
  await checkRecipientLimits(deps, r, email);

  const c = compose(deps, r, input);
  const defaultText = renderDraft(deps, r, campaign.asks, null);
  const sig = signature(ownWords(c.draft, defaultText));
  const dup = sig ? await nearestDuplicate(deps, campaign.id, email, sig) : null;

  const now = deps.clock.now();
  const id = deps.ids.uuid();
  const expiresAt = now + deps.config.LETTER_CONFIRM_TTL_DAYS * DAY;
  const forEmail: LetterForEmail = {
    id,
    supporterName: input.supporter.name,
    supporterEmail: email,
    recipientName: r.name,
  };
  const letterMail = outboxRow(deps, {
    kind: "letter",
    letterId: id,
    state: "awaiting_confirmation",
    toName: r.name,
    toEmail: r.email,
    reflectTo: email,
    alwaysReflect: r.reflects,
    fromName: `${input.supporter.name} ${deps.config.MAIL_FROM_SUFFIX}`,
    replyToName: input.supporter.name,
    replyTo: email,
    subject: c.subject,
    bodyText: c.body,
    expiresAt,
  });
  const statements: Statement[] = [
    deps.db.insert(letters).values({
      id,
      campaignId: campaign.id,
      constituencyCode: r.constituency.code,
      recipientKind: r.kind,
      recipientPersonId: r.personId,
      recipientName: r.name,
      partnerKey: input.partner ?? null,
      status: "awaiting_confirmation",
      asks: c.asks.map((a) => a.id),
      subject: c.subject,
      body: c.body,
      supporterName: input.supporter.name,
      supporterEmail: email,
      supporterAddress: addressLines(input.supporter).join("\n"),
      supporterPostcode: r.postcode,
      idempotencyKey,
      signature: sig,
      similarity: dup?.score ?? null,
      similarTo: dup?.id ?? null,
      createdAt: now,
    }),
    deps.db.insert(outbox).values([letterMail, await confirmEmail(deps, forEmail, expiresAt, "confirm")]),
  ];
  if (sig)
    statements.push(deps.db.insert(letterBands).values(bands(sig).map((band) => ({ band, letterId: id }))));
  try {
    await deps.atomic(statements);
  } catch (e) {
    // Two identical submits racing: the UNIQUE index let one through; answer with that one.
    const [winner] = await deps.db
      .select({ id: letters.id })
      .from(letters)
      .where(eq(letters.idempotencyKey, idempotencyKey));
    if (winner) return { letter: await getLetterStatus(deps, winner), created: false };
    throw e;
  }
  deps.logger.info("letter submitted", { letterId: id, constituency: r.constituency.code, kind: r.kind });
  return { letter: await getLetterStatus(deps, { id }), created: true };
}

// --- confirm ------------------------------------------------------------------------------------

export async function letterForConfirmPage(deps: Deps, input: { token: string }) {
  const { subject: id } = await verifyToken(deps.config, input.token, CONFIRM_PURPOSE, deps.clock.now());
  const [l] = await deps.db
    .select({
      id: letters.id,
      status: letters.status,
      recipientName: letters.recipientName,
      subject: letters.subject,
      body: letters.body,
    })
    .from(letters)
    .where(eq(letters.id, id));
  if (!l) throw new AppError("not_found", "This letter no longer exists.");
  if (l.status === "expired") throw new AppError("letter_expired");
  if (l.status === "cancelled")
    throw (
      (await stoppedBecauseMpLeft(deps, id, l.recipientName)) ??
      new AppError("letter_not_confirmable", "This letter was cancelled.")
    );
  return l;
}

/** The problem for a letter stopped by a members sync (letters.reroute.ts), if it was. */
async function stoppedBecauseMpLeft(deps: Deps, letterId: string, recipientName: string) {
  const [stop] = await deps.db
    .select({ newMp: letterStops.newMemberName })
    .from(letterStops)
    .where(eq(letterStops.letterId, letterId));
  if (!stop) return null;
  return new AppError(
    "letter_not_confirmable",
    stop.newMp
      ? `${recipientName} is no longer your MP, so this letter will not be sent. ${stop.newMp} is the MP now: we have emailed you a link to write to them.`
      : `${recipientName} is no longer your MP and the seat is vacant, so this letter will not be sent.`,
  );
}

/**
 * Confirm a letter from its emailed link. Idempotent: a second confirm (double click, replayed
 * link) reports `alreadyConfirmed` and changes nothing. A near-duplicate goes to `held`.
 */
export async function confirmLetter(deps: Deps, input: { token: string }) {
  const now = deps.clock.now();
  const { subject: id } = await verifyToken(deps.config, input.token, CONFIRM_PURPOSE, now);
  const [l] = await deps.db
    .select({ status: letters.status, similarity: letters.similarity, recipientName: letters.recipientName })
    .from(letters)
    .where(eq(letters.id, id));
  if (!l) throw new AppError("not_found", "This letter no longer exists.");
  const held = (l.similarity ?? 0) >= deps.config.LETTER_SIMILARITY_HOLD;
  const to = held ? "held" : "queued";
  // Both updates are conditional on the unconfirmed state, in one transaction: exactly one
  // confirm wins, and a replay matches no rows.
  await deps.atomic([
    deps.db
      .update(outbox)
      .set({ state: to, nextAttemptAt: now, updatedAt: now })
      .where(
        and(eq(outbox.letterId, id), eq(outbox.kind, "letter"), eq(outbox.state, "awaiting_confirmation")),
      ),
    deps.db
      .update(letters)
      .set({ status: held ? "held" : "confirmed", confirmedAt: now })
      .where(and(eq(letters.id, id), eq(letters.status, "awaiting_confirmation"))),
    // Dashboard counts move in the same write; they are guarded, so a replay counts nothing.
    ...letterTallyStatements(deps, id),
  ]);
  const [after] = await deps.db
    .select({ status: letters.status, confirmedAt: letters.confirmedAt })
    .from(letters)
    .where(eq(letters.id, id));
  if (!after) throw new AppError("not_found", "This letter no longer exists.");
  if (after.status === "expired") throw new AppError("letter_expired");
  if (after.status === "cancelled")
    throw (
      (await stoppedBecauseMpLeft(deps, id, l.recipientName)) ??
      new AppError("letter_not_confirmable", "This letter can no longer be confirmed.")
    );
  if (after.status === "awaiting_confirmation")
    throw new AppError("letter_not_confirmable", "This letter can no longer be confirmed.");
  if (after.confirmedAt === now && l.status === "awaiting_confirmation")
    deps.logger.info("letter confirmed", { letterId: id, held });
  return {
    id,
    status: after.status,
    recipientName: l.recipientName,
    alreadyConfirmed: l.status !== "awaiting_confirmation",
  };
}

/** A moderator's decision on a held letter. */
export async function moderateLetter(deps: Deps, input: { id: string; release: boolean }) {
  const now = deps.clock.now();
  await deps.atomic([
    deps.db
      .update(outbox)
      .set({ state: input.release ? "queued" : "cancelled", nextAttemptAt: now, updatedAt: now })
      .where(and(eq(outbox.letterId, input.id), eq(outbox.kind, "letter"), eq(outbox.state, "held"))),
    deps.db
      .update(letters)
      .set({ status: input.release ? "confirmed" : "cancelled" })
      .where(and(eq(letters.id, input.id), eq(letters.status, "held"))),
  ]);
  return getLetterStatus(deps, input);
}

// --- follow-up ----------------------------------------------------------------------------------

export async function followupContext(deps: Deps, input: { token: string }) {
  const { subject: id } = await verifyToken(deps.config, input.token, FOLLOWUP_PURPOSE, deps.clock.now());
  const [l] = await deps.db
    .select({ id: letters.id, recipientName: letters.recipientName, replyAnswer: letters.replyAnswer })
    .from(letters)
    .where(eq(letters.id, id));
  if (!l) throw new AppError("not_found", "This letter no longer exists.");
  return l;
}

/** "Did your MP reply?" Later answers replace earlier ones ("not yet" then "yes"). */
export async function answerFollowup(deps: Deps, input: { token: string; answer: "yes" | "no" | "not_yet" }) {
  const l = await followupContext(deps, input);
  await deps.db
    .update(letters)
    .set({ replyAnswer: input.answer, replyAnsweredAt: deps.clock.now() })
    .where(eq(letters.id, l.id));
  return { id: l.id, answer: input.answer };
}

// --- unconfirmed letters ------------------------------------------------------------------------

/**
 * One reminder half-way through the confirmation window, then expiry. Each step is one
 * conditional UPDATE, so a sweep running twice (two workers) reminds and expires once.
 */
export async function sweepUnconfirmed(deps: Deps): Promise<{ reminded: number; expired: number }> {
  const now = deps.clock.now();
  const halfTtl = (deps.config.LETTER_CONFIRM_TTL_DAYS * DAY) / 2;
  const expired = await deps.db
    .update(outbox)
    .set({ state: "expired", updatedAt: now })
    .where(
      and(eq(outbox.kind, "letter"), eq(outbox.state, "awaiting_confirmation"), lte(outbox.expiresAt, now)),
    )
    .returning({ letterId: outbox.letterId });
  const expiredIds = expired.map((r) => r.letterId).filter((x): x is string => !!x);
  if (expiredIds.length)
    await deps.db
      .update(letters)
      .set({ status: "expired" })
      .where(and(inArray(letters.id, expiredIds), eq(letters.status, "awaiting_confirmation")));

  const due = await deps.db
    .update(outbox)
    .set({ remindedAt: now, updatedAt: now })
    .where(
      and(
        eq(outbox.kind, "letter"),
        eq(outbox.state, "awaiting_confirmation"),
        isNull(outbox.remindedAt),
        lte(outbox.createdAt, now - halfTtl),
      ),
    )
    .returning({ letterId: outbox.letterId, expiresAt: outbox.expiresAt });
  for (const row of due) {
    if (!row.letterId || !row.expiresAt) continue;
    const [l] = await deps.db
      .select(letterForEmailColumns)
      .from(letters)
      .where(and(eq(letters.id, row.letterId), notInArray(letters.status, ["expired", "cancelled"])));
    if (l) await deps.db.insert(outbox).values(await confirmEmail(deps, l, row.expiresAt, "reminder"));
  }
  return { reminded: due.length, expired: expired.length };
}
