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
 *   "Send the link again" queues a fresh confirmation (after a short pause), and the same
 *   confirmation confirms a pledge ticked on the letter's form.
 * - One letter per person per representative per LETTER_SAME_RECIPIENT_DAYS, enforced when the
 *   letter is confirmed, not when it is submitted: a submit answers the same whether or not the
 *   address has written before, so the form can't be used to find out who wrote to their MP.
 *   Only the owner of the address, following their own link, hears "already written". Writing
 *   again while a letter is unconfirmed is simply a new letter: whichever is confirmed first is
 *   sent and replaces the others.
 * - Abuse limits: per email per day (deps.rateLimiter, keyed by a pseudonym of the address; the
 *   per-client-address limit is middleware, src/http/rate-limit.ts), a per-recipient daily cap
 *   (database), and a near-duplicate check that holds a letter for moderation instead of sending
 *   it. No letter is accepted for an address that hard-bounced.
 * - Every change of a letter's status goes through the delivery state machine
 *   (delivery.machine.ts), in the same atomic write as its outbox row's.
 */
import {
  and,
  desc,
  eq,
  gt,
  gte,
  inArray,
  isNull,
  lte,
  ne,
  notExists,
  notInArray,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import { chunks } from "../../db/limits";
import { candidates, letterStops, members, recipientFlags } from "../../db/schema";
import { type LetterStatus, letterBands, letters, outbox, type RecipientKind } from "../../db/schema.letters";
import type { Deps, Statement } from "../../deps";
import { type QueryBudget, unlimited } from "../../lib/budget";
import { emailKey } from "../../lib/email";
import { AppError } from "../../lib/errors";
import { pseudonym, sha256Hex, verifyToken } from "../../lib/tokens";
import { letterTallyStatements } from "../admin/admin.tallies";
import {
  announceInserted,
  announceReady,
  initialLetterStatus,
  insertOutbox,
  transition,
  transitionStatements,
} from "../delivery/delivery.machine";
import { outboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { lookupPostcode } from "../lookup/lookup.service";
import { confirmLetterConsentStatement, recordConsentStatement } from "../partners/partners.consent";
import { announceWebhookEvents, letterConfirmedEvent } from "../partners/partners.webhooks";
import { confirmPledgesWithLetterStatements, pledgeWithLetterStatement } from "../pledges/pledges.service";
import type { Campaign } from "./letters.campaign";
import {
  CONFIRM_PURPOSE,
  confirmEmail,
  humanDate,
  type LetterForEmail,
  letterForEmailColumns,
} from "./letters.emails";
import { letterFlags } from "./letters.flags";
import { confirmGroup, GROUP_PREFIX, groupForConfirmPage, groupReminderFor } from "./letters.group";
import type { PreviewLetterInput, Recipient, SubmitLetterInput } from "./letters.schemas";
import { bands, ownWords, signature, similarity } from "./letters.similarity";
import { renderText, tidy } from "./letters.templates";

const DAY = 24 * 60 * 60 * 1000;
/** "Send the link again" waits this long after the last confirmation email for a letter. */
export const RESEND_CONFIRM_PAUSE_MS = 2 * 60_000;

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
  const seat = await lookupPostcode(deps, { postcode, seat: confirmedSeat, devolved: false });
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

export function chosenAsks(campaign: Campaign, ids: string[]) {
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

/**
 * Everything the campaign wrote that can appear in a letter to `r`: the default letter with every
 * ask and with one (to an MP and to a candidate: the wording differs), and every ask's text. Taken
 * out before letters are compared, so only what a supporter wrote counts (letters.similarity.ts).
 */
function campaignWording(deps: Deps, r: ResolvedRecipient): string {
  const asks = deps.config.campaign.asks;
  const parts: string[] = [];
  for (const kind of ["mp", "candidate"] as const)
    for (const chosen of [asks, asks.slice(0, 1)])
      parts.push(renderDraft(deps, { ...r, kind }, chosen, null));
  for (const a of asks) parts.push(a.title, a.summary, ...a.points);
  const c = deps.config.campaign;
  parts.push(c.name, c.organisation, c.hashtag, c.defaultSubject.mp, c.defaultSubject.candidate);
  return parts.join("\n");
}

/** The address as signed: the lines typed, then the postcode in its normal form (as looked up). */
export function addressLines(
  supporter: { address: { line1?: string; line2?: string; town?: string; postcode: string } },
  postcode = supporter.address.postcode,
) {
  const a = supporter.address;
  return [a.line1, a.line2, a.town, postcode].filter((x): x is string => !!x);
}

function compose(deps: Deps, r: ResolvedRecipient, input: PreviewLetterInput) {
  const campaign = deps.config.campaign;
  const asks = chosenAsks(campaign, input.asks);
  const draft = input.body ? tidy(input.body) : renderDraft(deps, r, asks, input.story || null);
  // Subject placeholders are filled by plain replacement, never by a template engine.
  const subject =
    input.subject ?? campaign.defaultSubject[r.kind].replaceAll("{{constituency}}", r.constituency.name);
  const lines = addressLines(input.supporter, r.postcode);
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

/**
 * The story the supporter agreed (a separate, unticked box) may be quoted in the digest their
 * representative's office gets: the consent's wording and time, and their own words only.
 */
export function storyShareColumns(input: { shareStory?: string; story?: string }, now: number) {
  return input.shareStory && input.story
    ? { storyShareConsentVersion: input.shareStory, storyShareConsentAt: now, sharedStory: input.story }
    : {};
}

// --- limits -------------------------------------------------------------------------------------

/**
 * Letters per mailbox per day (counted by its key, so Gmail dots and +tags are one mailbox): the
 * limit that holds however many people share a network. A hard cap: counted in the database on
 * every runtime, exactly, across all Workers isolates.
 */
export async function consumeEmailAllowance(deps: Deps, key: string) {
  const decision = await deps.rateLimiter.consume(
    {
      name: "letters-email",
      limit: deps.config.LETTER_LIMIT_PER_EMAIL_DAY,
      windowSeconds: 86_400,
      hard: true,
    },
    await pseudonym(deps.config.TOKEN_SECRET, `email:${key}`),
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

/**
 * The letters to the same representative as `r` (or as letter `l`): their kind and id in their
 * seat, the Westminster seat for MPs and candidates, the devolved area for MSPs, MSs and MLAs.
 */
export const sameRecipientAs = (r: {
  code: string;
  areaCode?: string | null;
  kind: string;
  personId: number | null;
}) =>
  and(
    r.areaCode ? eq(letters.areaCode, r.areaCode) : eq(letters.constituencyCode, r.code),
    eq(letters.recipientKind, r.kind as RecipientKind),
    r.personId === null ? isNull(letters.recipientPersonId) : eq(letters.recipientPersonId, r.personId),
  );

/** A hard-bounced address, and LETTER_RECIPIENT_DAILY_CAP letters per recipient per day. */
export async function checkRecipientLimits(
  deps: Deps,
  r: {
    kind: RecipientKind;
    personId: number | null;
    name: string;
    email: string | null;
    constituency: { code: string };
    areaCode?: string | null;
  },
) {
  const now = deps.clock.now();
  if (r.email) {
    const [flag] = await deps.db
      .select({ address: recipientFlags.address })
      .from(recipientFlags)
      .where(eq(recipientFlags.address, r.email.toLowerCase()));
    if (flag)
      throw new AppError(
        "recipient_address_bouncing",
        `Letters to ${r.name}'s email address are coming back undelivered, so we can't send yours just now. The campaign team has been told; please try again in a few days.`,
      );
  }
  // Letters per representative per UTC day: a hard cap, one atomic counter per representative
  // and day (the day is in the key), so parallel submits on any number of servers can't pass it.
  const dayStart = now - (now % DAY);
  const day = new Date(dayStart).toISOString().slice(0, 10);
  const decision = await deps.rateLimiter.consume(
    {
      name: "letters-recipient",
      limit: deps.config.LETTER_RECIPIENT_DAILY_CAP,
      windowSeconds: 86_400,
      hard: true,
    },
    `${r.kind}:${r.areaCode ?? r.constituency.code}:${r.personId ?? "-"}:${day}`,
  );
  if (!decision.allowed)
    throw new AppError(
      "recipient_daily_cap",
      `${r.name} has received many letters today. Please try tomorrow.`,
      {
        retryAfter: Math.ceil((dayStart + DAY - now) / 1000),
      },
    );
}

/** Candidates compared exactly: the letters sharing the most MinHash bands. */
const SIMILARITY_CANDIDATES = 50;

/**
 * The most similar letter by another writer (another mailbox) in this campaign, with its score.
 * Letters whose text retention has removed have no signature and are not compared.
 */
export async function nearestDuplicate(deps: Deps, campaignId: string, key: string, sig: number[]) {
  const shared = sql<number>`count(*)`;
  const candidates = deps.db
    .select({ id: letterBands.letterId, shared: shared.as("shared") })
    .from(letterBands)
    .where(inArray(letterBands.band, bands(sig)))
    .groupBy(letterBands.letterId)
    .orderBy(desc(shared))
    .limit(SIMILARITY_CANDIDATES * 4)
    .as("candidates");
  const rows = await deps.db
    .select({ id: letters.id, signature: letters.signature })
    .from(candidates)
    .innerJoin(letters, eq(letters.id, candidates.id))
    .where(
      and(
        eq(letters.campaignId, campaignId),
        or(isNull(letters.supporterEmailKey), ne(letters.supporterEmailKey, key)),
      ),
    )
    .orderBy(desc(candidates.shared))
    .limit(SIMILARITY_CANDIDATES);
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
  status: LetterStatus;
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
  /** As typed: where the supporter's mail goes. */
  const email = input.supporter.email;
  /** The mailbox: what limits and every "same person" rule compare. */
  const key = emailKey(email);
  const clientKey = ctx.idempotencyKey ?? input.idempotencyKey;
  // Without a client key, the submission itself is the key: an identical resubmit is a replay.
  const keySource = clientKey
    ? `key:${clientKey}`
    : `body:${JSON.stringify([input.recipient, input.asks, input.story, input.subject, input.body, input.supporter])}`;
  const idempotencyKey = await sha256Hex(`${campaign.id}|${key}|${keySource}`);
  const existing = await deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(eq(letters.idempotencyKey, idempotencyKey));
  if (existing[0]) return { letter: await getLetterStatus(deps, existing[0]), created: false };

  await consumeEmailAllowance(deps, key);

  const r = await resolveRecipient(deps, input.supporter.address.postcode, input.recipient, input.seat);
  if (!r.email)
    throw new AppError(
      "recipient_not_contactable",
      `We have no email address for ${r.name}, so we can't send this.`,
    );
  await checkRecipientLimits(deps, r);

  const c = compose(deps, r, input);
  const sig = signature(ownWords(c.draft, campaignWording(deps, r)));
  const dup = sig ? await nearestDuplicate(deps, campaign.id, key, sig) : null;
  const a = input.supporter.address;
  const flags = await letterFlags(deps, {
    supporter: {
      name: input.supporter.name,
      email,
      addressLines: [a.line1, a.line2, a.town].filter((x): x is string => !!x),
    },
    postcode: r.postcode,
    constituencyCode: r.constituency.code,
    recipient: { name: r.name, email: r.email },
  });
  // Never mail a representative's office a link to confirm a letter to itself.
  const mailConfirmation = !flags.includes("representative_email");

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
  // Never to a representative's own address (flagged above): the letter then can't be confirmed.
  const confirmMail = mailConfirmation ? await confirmEmail(deps, forEmail, expiresAt, "confirm") : null;
  const mails = confirmMail ? [letterMail, confirmMail] : [letterMail];
  const statements: Statement[] = [
    deps.db.insert(letters).values({
      id,
      campaignId: campaign.id,
      constituencyCode: r.constituency.code,
      recipientKind: r.kind,
      recipientPersonId: r.personId,
      recipientName: r.name,
      partnerKey: input.partner ?? null,
      status: initialLetterStatus(letterMail),
      confirmSentAt: mailConfirmation ? now : null,
      asks: c.asks.map((a) => a.id),
      subject: c.subject,
      body: c.body,
      supporterName: input.supporter.name,
      supporterEmail: email,
      supporterEmailKey: key,
      supporterAddress: addressLines(input.supporter, r.postcode).join("\n"),
      supporterPostcode: r.postcode,
      idempotencyKey,
      signature: sig,
      similarity: dup?.score ?? null,
      similarTo: dup?.id ?? null,
      flags: flags.length ? flags : null,
      createdAt: now,
      ...storyShareColumns(input, now),
    }),
    insertOutbox(deps, mails),
  ];
  if (sig)
    statements.push(deps.db.insert(letterBands).values(bands(sig).map((band) => ({ band, letterId: id }))));
  // "<partner> may contact me": recorded only for the partner the letter is credited to.
  if (input.partnerConsent && input.partner)
    statements.push(
      recordConsentStatement(deps, {
        partnerKey: input.partner,
        source: "letter",
        sourceRef: id,
        email,
        name: input.supporter.name,
        version: input.partnerConsent,
      }),
    );
  // A pledge ticked on the letter's form is confirmed by the letter's own confirmation link.
  if (input.pledge)
    statements.push(
      ...(await pledgeWithLetterStatement(deps, {
        letterId: id,
        name: input.supporter.name,
        email,
        postcode: r.postcode,
        constituencyCode: r.constituency.code,
        partner: input.partner,
        pledgeConsent: input.pledge.pledgeConsent,
        updatesConsent: input.pledge.updatesConsent,
      })),
    );
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
  if (confirmMail) await announceInserted(deps, [confirmMail]);
  deps.logger.info("letter submitted", {
    letterId: id,
    constituency: r.constituency.code,
    kind: r.kind,
    ...(flags.length ? { flags } : {}),
  });
  return { letter: await getLetterStatus(deps, { id }), created: true };
}

// --- confirm ------------------------------------------------------------------------------------

export async function letterForConfirmPage(deps: Deps, input: { token: string }) {
  const { subject: id } = await verifyToken(deps.config, input.token, CONFIRM_PURPOSE, deps.clock.now());
  // Letters written together (to the MP and devolved members) share one link: letters.group.ts.
  if (id.startsWith(GROUP_PREFIX)) return groupForConfirmPage(deps, id.slice(GROUP_PREFIX.length));
  const [l] = await deps.db
    .select({
      id: letters.id,
      status: letters.status,
      recipientName: letters.recipientName,
      kind: letters.recipientKind,
      subject: letters.subject,
      body: letters.body,
    })
    .from(letters)
    .where(eq(letters.id, id));
  if (!l) throw new AppError("not_found", "This letter no longer exists.");
  if (l.status === "expired") throw new AppError("letter_expired");
  if (l.status === "cancelled")
    throw (
      (await stoppedBecauseMpLeft(deps, id, l.recipientName, l.kind)) ??
      new AppError("letter_not_confirmable", "This letter was cancelled.")
    );
  const { kind: _kind, ...page } = l;
  return page;
}

/** The problem for a letter stopped by a members sync (letters.reroute.ts), if it was. */
export async function stoppedBecauseMpLeft(
  deps: Deps,
  letterId: string,
  recipientName: string,
  kind: RecipientKind = "mp",
) {
  const [stop] = await deps.db
    .select({ newMp: letterStops.newMemberName, reason: letterStops.reason })
    .from(letterStops)
    .where(eq(letterStops.letterId, letterId));
  if (!stop) return null;
  const role = kind === "candidate" ? "MP" : BODY_INFO[bodyOfRepKind(kind)].role;
  return new AppError(
    "letter_not_confirmable",
    stop.newMp
      ? `${recipientName} is no longer your ${role}, so this letter will not be sent. ${stop.newMp} is the ${role} now: we have emailed you a link to write to them.`
      : stop.reason === "seat_vacant"
        ? `${recipientName} is no longer your ${role} and the seat is vacant, so this letter will not be sent.`
        : `${recipientName} is no longer your ${role}, so this letter will not be sent: we have emailed you a link to write to your ${role}s now.`,
  );
}

/** What confirming a letter reads about it. */
export const confirmableColumns = {
  id: letters.id,
  status: letters.status,
  similarity: letters.similarity,
  flags: letters.flags,
  recipientName: letters.recipientName,
  /** The mailbox's key: "the same person" is the same mailbox, however it was typed. */
  email: letters.supporterEmailKey,
  code: letters.constituencyCode,
  areaCode: letters.areaCode,
  kind: letters.recipientKind,
  personId: letters.recipientPersonId,
  /** A credited partner's webhook events are written with the confirmation. */
  partnerKey: letters.partnerKey,
};
export type ConfirmableLetter = {
  id: string;
  status: string;
  similarity: number | null;
  flags: string[] | null;
  recipientName: string;
  email: string | null;
  code: string;
  areaCode: string | null;
  kind: RecipientKind;
  personId: number | null;
};

/** Other letters from the same address to the same representative as `l`. */
const sameAs = (l: ConfirmableLetter) =>
  and(
    sameRecipientAs(l),
    // Rows from before keys (or anonymised) match nobody.
    l.email === null ? sql`0` : eq(letters.supporterEmailKey, l.email),
    ne(letters.id, l.id),
  );

/** Held for a moderator: a near-duplicate of another person's words, or any abuse flag. */
export const isHeld = (deps: Pick<Deps, "config">, l: Pick<ConfirmableLetter, "similarity" | "flags">) =>
  (l.similarity ?? 0) >= deps.config.LETTER_SIMILARITY_HOLD || (l.flags ?? []).length > 0;

const earlierLetters = (l: ConfirmableLetter, now: number, windowDays: number, exempt?: string) =>
  and(
    sameAs(l),
    inArray(letters.status, ["confirmed", "held", "sent"]),
    gte(letters.createdAt, now - windowDays * DAY),
    exempt ? ne(letters.id, exempt) : undefined,
  );

/**
 * The statements that confirm letter `l`, for one atomic write (a group confirms several in the
 * same write): the letter row moves (confirm, or hold for a near-duplicate) only if no other
 * letter from this address to this representative was confirmed within LETTER_SAME_RECIPIENT_DAYS
 * (checked in the UPDATE itself, so two confirms racing cannot both pass); the supporter's other
 * unconfirmed letters to the same representative are cancelled as replaced; the dashboard counts
 * move (guarded, so a replay counts nothing). A pledge ticked with the letter is the caller's.
 * `exempt`: a letter the window rule ignores (the one a chase letter follows up).
 */
export function confirmStatements(
  deps: Pick<Deps, "db" | "config" | "clock">,
  l: ConfirmableLetter,
  now: number,
  opts: { exempt?: string } = {},
): Statement[] {
  const held = isHeld(deps, l);
  const windowDays = deps.config.LETTER_SAME_RECIPIENT_DAYS;
  const earlier = deps.db
    .select({ x: sql`1` })
    .from(letters)
    .where(earlierLetters(l, now, windowDays, opts.exempt));
  const confirm = transitionStatements(
    deps,
    held ? "hold" : "confirm",
    { letterId: l.id, kinds: ["letter"] },
    { guard: windowDays > 0 ? notExists(earlier) : undefined },
  );
  // Replaced: this address's other unconfirmed letters to the same representative, once this
  // one is confirmed (the subquery sees the confirm above, in the same write).
  const others = deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(and(sameAs(l), eq(letters.status, "awaiting_confirmation")));
  const replaced = transitionStatements(
    deps,
    "cancel",
    {
      where: and(
        inArray(outbox.letterId, others),
        sql`exists (select 1 from ${letters} c where c.id = ${l.id} and c.status in ('confirmed','held'))`,
      ) as SQL,
    },
    { set: { cancelReason: "replaced by a later letter" } },
  );
  return [
    ...confirm.statements,
    ...replaced.statements,
    ...letterTallyStatements(deps, l.id),
    // A partner's side: the consent ticked with the letter counts; its letter.confirmed event.
    confirmLetterConsentStatement(deps, l.id, now),
    letterConfirmedEvent(deps, l.id, now),
  ];
}

/**
 * After a confirming write committed: hand the letters' rows that it made ready (queued) to the
 * runtime's sender (Workers: the delivery queue). A replay announces nothing new that matters:
 * a second message for a row is a no-op for the sender.
 */
export async function announceConfirmed(deps: Deps, letterIds: readonly string[]) {
  const rows: { id: string; dueAt: number }[] = [];
  for (const ids of chunks(letterIds))
    rows.push(
      ...(await deps.db
        .select({ id: outbox.id, dueAt: outbox.nextAttemptAt })
        .from(outbox)
        .where(and(inArray(outbox.letterId, ids), eq(outbox.kind, "letter"), eq(outbox.state, "queued")))),
    );
  await announceReady(deps, rows);
}

/**
 * How a confirmation went for letter `l` (read after the write): its status now, and the problem
 * to tell the supporter if it was not confirmed (already written to them, stopped, expired).
 */
export async function confirmOutcome(
  deps: Deps,
  l: ConfirmableLetter,
  now: number,
): Promise<{ status: string; confirmedAt: number | null; problem: AppError | null }> {
  const [after] = await deps.db
    .select({ status: letters.status, confirmedAt: letters.confirmedAt })
    .from(letters)
    .where(eq(letters.id, l.id));
  if (!after)
    return {
      status: "cancelled",
      confirmedAt: null,
      problem: new AppError("not_found", "This letter no longer exists."),
    };
  const result = (problem: AppError | null) => ({ ...after, problem });
  if (after.status === "expired") return result(new AppError("letter_expired"));
  const windowDays = deps.config.LETTER_SAME_RECIPIENT_DAYS;
  if (after.status === "awaiting_confirmation") {
    const [prev] = await deps.db
      .select({ createdAt: letters.createdAt })
      .from(letters)
      .where(earlierLetters(l, now, windowDays))
      .orderBy(desc(letters.createdAt))
      .limit(1);
    if (prev)
      return result(
        new AppError(
          "already_written",
          `You wrote to ${l.recipientName} on ${humanDate(prev.createdAt)}. To keep every letter counting, we send one letter from each person to the same representative every ${windowDays} days: you can write again from ${humanDate(prev.createdAt + windowDays * DAY)}.`,
        ),
      );
    return result(new AppError("letter_not_confirmable", "This letter can no longer be confirmed."));
  }
  if (after.status === "cancelled")
    return result(
      (await stoppedBecauseMpLeft(deps, l.id, l.recipientName, l.kind)) ??
        new AppError("letter_not_confirmable", "This letter can no longer be confirmed."),
    );
  return result(null);
}

/**
 * Confirm a letter from its emailed link. Idempotent: a second confirm (double click, replayed
 * link) reports `alreadyConfirmed` and changes nothing. A near-duplicate goes to `held`. One
 * atomic write: `confirmStatements` and the pledge ticked with the letter.
 */
export async function confirmLetter(deps: Deps, input: { token: string }) {
  const now = deps.clock.now();
  const { subject: id } = await verifyToken(deps.config, input.token, CONFIRM_PURPOSE, now);
  if (id.startsWith(GROUP_PREFIX)) return confirmGroup(deps, id.slice(GROUP_PREFIX.length));
  const [l] = await deps.db.select(confirmableColumns).from(letters).where(eq(letters.id, id));
  if (!l) throw new AppError("not_found", "This letter no longer exists.");
  await deps.atomic([
    ...confirmStatements(deps, l, now),
    ...confirmPledgesWithLetterStatements(deps, id, now),
  ]);
  await announceConfirmed(deps, [id]);
  // Events are written only for a credited partner: no look for them otherwise.
  if (l.partnerKey) await announceWebhookEvents(deps, now);
  const after = await confirmOutcome(deps, l, now);
  if (after.problem) throw after.problem;
  const held = isHeld(deps, l);
  if (after.confirmedAt === now && l.status === "awaiting_confirmation")
    deps.logger.info("letter confirmed", { letterId: id, held });
  return {
    id,
    status: after.status,
    recipientName: l.recipientName,
    alreadyConfirmed: l.status !== "awaiting_confirmation",
  };
}

/**
 * "Send the link again": a fresh confirmation email for each unconfirmed letter from this
 * address, at most once per RESEND_CONFIRM_PAUSE_MS per letter (one conditional UPDATE decides,
 * so parallel clicks send one). The answer is the same whether or not there is anything to send.
 */
export async function resendConfirmation(
  deps: Deps,
  input: { email: string },
): Promise<{ status: "check_email" }> {
  const now = deps.clock.now();
  const key = emailKey(input.email);
  const waiting = await deps.db
    .select({ ...letterForEmailColumns, groupId: letters.groupId, expiresAt: outbox.expiresAt })
    .from(letters)
    .innerJoin(outbox, and(eq(outbox.letterId, letters.id), eq(outbox.kind, "letter")))
    .where(
      and(
        eq(letters.supporterEmailKey, key),
        eq(letters.status, "awaiting_confirmation"),
        // A letter "from" its representative's own address is never confirmed by mail to it.
        sql`coalesce(${letters.flags}, '[]') not like '%representative_email%'`,
        eq(outbox.state, "awaiting_confirmation"),
        gt(outbox.expiresAt, now),
      ),
    )
    .orderBy(letters.createdAt)
    // Letters written together count as one (up to four letters: MP, MSP, regional MSP...).
    .limit(12);
  let queued = 0;
  for (const l of waiting) {
    // Letters written together get one email, from the group's first waiting letter, with its link.
    const group = await groupReminderFor(deps, l);
    if (!group.send) continue;
    const [due] = await deps.db
      .update(letters)
      .set({ confirmSentAt: now })
      .where(
        and(
          eq(letters.id, l.id),
          or(isNull(letters.confirmSentAt), lte(letters.confirmSentAt, now - RESEND_CONFIRM_PAUSE_MS)),
        ),
      )
      .returning({ id: letters.id });
    if (!due || !l.expiresAt) continue;
    const mail = await confirmEmail(deps, group.forEmail(l), l.expiresAt, "confirm");
    await deps.atomic([insertOutbox(deps, [mail])]);
    await announceInserted(deps, [mail]);
    if (++queued >= 5) break;
  }
  deps.logger.info("letter confirmation resend asked", { queued });
  return { status: "check_email" };
}

// --- unconfirmed letters ------------------------------------------------------------------------

/** Reminders one sweep may send: each is a read and a write (and the sweep runs every minute). */
const REMINDERS_PER_SWEEP = 200;
/** Queries a reminder costs: the letter read, its group's, the insert (the reservation is shared). */
const REMINDER_QUERIES = 3;

/**
 * One reminder half-way through the confirmation window, then expiry. Each step is one
 * conditional UPDATE, so a sweep running twice (two workers) reminds and expires once. A sweep
 * reserves at most REMINDERS_PER_SWEEP reminders (fewer if its query budget is short) and sends
 * exactly those; the rest wait for the next sweep (still unreminded, so none is skipped).
 */
export async function sweepUnconfirmed(
  deps: Deps,
  opts: { budget?: QueryBudget } = {},
): Promise<{ reminded: number; expired: number }> {
  const budget = opts.budget ?? unlimited;
  const now = deps.clock.now();
  const halfTtl = (deps.config.LETTER_CONFIRM_TTL_DAYS * DAY) / 2;
  const expired = await transition(deps, "expire", {
    where: and(eq(outbox.kind, "letter"), lte(outbox.expiresAt, now)) as SQL,
  });

  const room = Math.min(REMINDERS_PER_SWEEP, Math.floor((budget.left() - 2) / REMINDER_QUERIES));
  if (room <= 0) return { reminded: 0, expired };
  const needsReminder = and(
    eq(outbox.kind, "letter"),
    eq(outbox.state, "awaiting_confirmation"),
    isNull(outbox.remindedAt),
    lte(outbox.createdAt, now - halfTtl),
  );
  const due = await deps.db
    .update(outbox)
    .set({ remindedAt: now, updatedAt: now })
    .where(
      and(
        inArray(
          outbox.id,
          deps.db
            .select({ id: outbox.id })
            .from(outbox)
            .where(needsReminder)
            .orderBy(outbox.createdAt)
            .limit(room),
        ),
        needsReminder,
      ),
    )
    .returning({ letterId: outbox.letterId, expiresAt: outbox.expiresAt });
  for (const row of due) {
    if (!row.letterId || !row.expiresAt) continue;
    const [l] = await deps.db
      .select({ ...letterForEmailColumns, groupId: letters.groupId })
      .from(letters)
      .where(
        and(
          eq(letters.id, row.letterId),
          notInArray(letters.status, ["expired", "cancelled"]),
          // A letter "from" its representative's own address is never confirmed by mail to it.
          sql`coalesce(${letters.flags}, '[]') not like '%representative_email%'`,
        ),
      );
    if (!l) continue;
    // Letters written together are reminded once, by the group's first waiting letter, with its link.
    const group = await groupReminderFor(deps, l);
    if (!group.send) continue;
    const mail = await confirmEmail(deps, group.forEmail(l), row.expiresAt, "reminder");
    await deps.atomic([insertOutbox(deps, [mail])]);
    await announceInserted(deps, [mail]);
  }
  // Letters reminded (letters written together share one email).
  return { reminded: due.length, expired };
}
