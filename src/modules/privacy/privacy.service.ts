/**
 * Supporters' privacy: the notice, export and erasure of one person's data, the suppression
 * list, and the retention job.
 *
 * Rules:
 * - Export and erasure are asked for by address and done from a link emailed to that address
 *   (the link names a privacy_requests row, never the address). Everything is keyed by the
 *   mailbox (lib/email.ts emailKey), so "Jane.Doe@gmail.com" and "janedoe+x@gmail.com" are one
 *   person here as everywhere.
 * - Asking is constant work, whoever asks: the page counts the request against the address's
 *   daily allowance and inserts one row; nothing on the response path looks at what we hold.
 *   The outbox worker (processPrivacyRequests) then mails a link only if we hold something and
 *   no link for that address and kind went out in the last PRIVACY_MAIL_WINDOW_MINUTES: the form
 *   can neither tell anyone what we hold (by answer or by timing) nor flood an inbox.
 * - Export: everything held for that mailbox (pledges with their consents, letters, every email
 *   sent to or about them with its delivery attempts, the suppression entry, privacy requests),
 *   and nothing of anyone else's.
 * - Erasure deletes pledges and scrubs letters (body, name, email, postal address) and their
 *   outbox copies in one atomic write; letters not yet sent are cancelled through the delivery
 *   state machine first. Service mail to the address is deleted with its attempt log (a row
 *   mid-send is scrubbed instead). Tallies and letter rows (status, seat, date) stay, so every
 *   count is unchanged. The address's fingerprint goes on the suppression list.
 * - Retention (runRetention), counts never touched:
 *   - unconfirmed pledges and unverified MP pledge requests go after their confirm window;
 *   - letter text, postal addresses and similarity data (signature, bands) go RETENTION_DAYS
 *     after the letter was sent (or written, if it never was), once it is finished with;
 *   - names and email addresses go from letters, their outbox rows and the delivery log
 *     ANONYMISE_DAYS after the same moment (anonymise);
 *   - service mail is deleted once every link it could carry has expired; expired lookup-cache
 *     rows, sessions and privacy requests are deleted.
 */
import { and, eq, inArray, isNotNull, isNull, lt, ne, notInArray, or, type SQL, sql } from "drizzle-orm";
import { chunks, ID_CHUNK } from "../../db/limits";
import {
  adminSessions,
  capturedMail,
  deliveryLog,
  letterBands,
  letterReplies,
  letters,
  lookupCache,
  outbox,
  privacyRequests,
  rateLimits,
  repPledges,
  supporterPledges,
  suppressions,
} from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { affords, type QueryBudget, unlimited } from "../../lib/budget";
import { emailKey } from "../../lib/email";
import { AppError } from "../../lib/errors";
import { pseudonym, signToken, verifyToken } from "../../lib/tokens";
import { deleteStaleThrottles } from "../admin/admin.auth";
import { announceInserted, insertOutbox, transitionStatements, UNSENT } from "../delivery/delivery.machine";
import { messageIdFor } from "../delivery/delivery.outbox";
import {
  erasePartnerDataStatements,
  type PartnerRetentionReport,
  partnerDataFor,
  partnerDataHeldFor,
  partnerRetention,
} from "../partners/partners.privacy";
import { emailFingerprint } from "../pledges/pledges.fingerprint";
import { serviceMailRow } from "../pledges/pledges.mail";

const DAY_MS = 86_400_000;
export const SCRUBBED = "[removed]";
/** What a removed email address reads as (a reserved domain: nothing is ever sent to it). */
export const ANONYMISED_EMAIL = "removed@anonymised.invalid";
const PURPOSE = { export: "privacy.export", erase: "privacy.erase" } as const;
/** Letters that are finished with: nothing more will be sent for them. */
const FINISHED = ["sent", "undeliverable", "cancelled", "expired"] as const;
/** Outbox states a row can be scrubbed in (never one that may still be sent). */
const SCRUBBABLE = ["sent", "dead", "bounced", "cancelled", "expired"] as const;

export function privacyNotice(deps: Deps) {
  const c = deps.config;
  return {
    controller: c.PRIVACY_CONTROLLER,
    contact: c.PRIVACY_CONTACT_EMAIL,
    retentionDays: c.RETENTION_DAYS,
    anonymiseDays: c.ANONYMISE_DAYS,
    confirmDays: c.PLEDGE_CONFIRM_TTL_DAYS,
    letterConfirmDays: c.LETTER_CONFIRM_TTL_DAYS,
    followupDays: c.LETTER_FOLLOWUP_DAYS,
    linkHours: c.PRIVACY_LINK_HOURS,
    mailWindowMinutes: c.PRIVACY_MAIL_WINDOW_MINUTES,
    requestsPerDay: c.PRIVACY_LIMIT_PER_EMAIL_DAY,
    lookupCacheHours: c.LOOKUP_CACHE_TTL_HOURS,
  };
}

// --- asking -------------------------------------------------------------------------------------

/**
 * A request for an export or erasure link. The same work whoever asks (see the header): the
 * address's daily allowance, then one insert. Mail, if any, is decided off the response path.
 */
export async function requestPrivacyLink(
  deps: Deps,
  input: { email: string; kind: "export" | "erase" },
): Promise<{ status: "check_email" }> {
  const key = emailKey(input.email);
  const decision = await deps.rateLimiter.consume(
    { name: "privacy-email", limit: deps.config.PRIVACY_LIMIT_PER_EMAIL_DAY, windowSeconds: 86_400 },
    await pseudonym(deps.config.TOKEN_SECRET, `email:${key}`),
  );
  if (!decision.allowed)
    throw new AppError(
      "rate_limited",
      "This address has been asked about several times today. If you asked, the link is in your inbox; otherwise please try again tomorrow.",
      { retryAfter: decision.retryAfterSeconds },
    );
  const now = deps.clock.now();
  await deps.db.insert(privacyRequests).values({
    id: deps.ids.uuid(),
    kind: input.kind,
    emailNorm: key,
    email: input.email,
    createdAt: now,
    expiresAt: now + deps.config.PRIVACY_LINK_HOURS * 3_600_000,
  });
  deps.logger.info("privacy request", { kind: input.kind });
  return { status: "check_email" };
}

/** Whether we hold anything for this mailbox (pledge, letter, or a suppression entry). */
async function holdsDataFor(deps: Deps, key: string): Promise<boolean> {
  const [p] = await deps.db
    .select({ id: supporterPledges.id })
    .from(supporterPledges)
    .where(eq(supporterPledges.emailNorm, key))
    .limit(1);
  if (p) return true;
  const [l] = await deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(eq(letters.supporterEmailKey, key))
    .limit(1);
  if (l) return true;
  // Consents to hear from a partner, a partner contact's account: by every address typed for it.
  if (await partnerDataHeldFor(deps, await addressesOf(deps, key))) return true;
  const hash = await emailFingerprint(deps.config.TOKEN_SECRET, key);
  const [sup] = await deps.db
    .select({ h: suppressions.emailHash })
    .from(suppressions)
    .where(eq(suppressions.emailHash, hash));
  return !!sup;
}

/** Requests handled per pass. */
const REQUEST_BATCH = 100;
/** Queries one request may take: the window check, what we hold (3), the write (a batch of 2). */
const REQUEST_COST = 6;

/**
 * Answer pending privacy requests (run by every outbox pass, before claiming): mail a link when we
 * hold data for the address and no link for that address and kind went out within
 * PRIVACY_MAIL_WINDOW_MINUTES; otherwise forget the request. The mail's outbox id is derived from
 * the request, so two passes at once queue one mail.
 */
export async function processPrivacyRequests(
  deps: Deps,
  opts: { budget?: QueryBudget; limit?: number } = {},
): Promise<{ mailed: number; dropped: number }> {
  const budget = opts.budget ?? unlimited;
  if (!affords(budget, REQUEST_COST + 1)) return { mailed: 0, dropped: 0 };
  const pending = await deps.db
    .select()
    .from(privacyRequests)
    .where(isNull(privacyRequests.processedAt))
    .orderBy(privacyRequests.createdAt)
    .limit(opts.limit ?? REQUEST_BATCH);
  let mailed = 0;
  let dropped = 0;
  for (const req of pending) {
    // A Worker's cron run has a query budget: the rest wait for the next run.
    if (!affords(budget, REQUEST_COST)) break;
    const now = deps.clock.now();
    const windowStart = req.createdAt - deps.config.PRIVACY_MAIL_WINDOW_MINUTES * 60_000;
    const [recent] = await deps.db
      .select({ id: privacyRequests.id })
      .from(privacyRequests)
      .where(
        and(
          eq(privacyRequests.emailNorm, req.emailNorm),
          eq(privacyRequests.kind, req.kind),
          eq(privacyRequests.mailed, true),
          sql`${privacyRequests.createdAt} > ${windowStart}`,
        ),
      )
      .limit(1);
    if (recent || !req.email || req.expiresAt <= now || !(await holdsDataFor(deps, req.emailNorm))) {
      // Nothing to send (or already sent): the request is forgotten, address and all.
      await deps.db
        .delete(privacyRequests)
        .where(and(eq(privacyRequests.id, req.id), isNull(privacyRequests.processedAt)));
      dropped++;
      continue;
    }
    const token = await signToken(deps.config, {
      purpose: PURPOSE[req.kind],
      subject: req.id,
      expiresAt: req.expiresAt,
    });
    const row = serviceMailRow(deps, {
      to: { address: req.email },
      subject:
        req.kind === "export"
          ? `Your ${deps.config.campaign.hashtag} data: download link`
          : `Erase your ${deps.config.campaign.hashtag} data: confirm`,
      template:
        req.kind === "export" ? "emails/pledge-privacy-export.txt" : "emails/pledge-privacy-erase.txt",
      data: {
        linkUrl: `${deps.config.PUBLIC_URL}/privacy/${req.kind}?token=${encodeURIComponent(token)}`,
        ttlHours: deps.config.PRIVACY_LINK_HOURS,
      },
    });
    const id = `privacy-${req.id}`;
    const mail = { ...row, id, messageId: messageIdFor(deps, id) };
    await deps.atomic([
      deps.db
        .update(privacyRequests)
        .set({ processedAt: now, mailed: true })
        .where(and(eq(privacyRequests.id, req.id), isNull(privacyRequests.processedAt))),
      insertOutbox(deps, [mail]).onConflictDoNothing(),
    ]);
    await announceInserted(deps, [mail]);
    mailed++;
  }
  if (mailed || dropped) deps.logger.info("privacy requests processed", { mailed, dropped });
  return { mailed, dropped };
}

/** The request a link names (checks the token, the purpose and that the request still exists). */
export async function privacyRequestFor(deps: Deps, input: { token: string; kind: "export" | "erase" }) {
  const { subject } = await verifyToken(deps.config, input.token, PURPOSE[input.kind], deps.clock.now());
  const [row] = await deps.db
    .select()
    .from(privacyRequests)
    .where(
      and(
        eq(privacyRequests.id, subject),
        eq(privacyRequests.kind, input.kind),
        eq(privacyRequests.mailed, true),
      ),
    );
  if (!row)
    throw new AppError("token_expired", "This link has expired. Please ask again from the privacy page.");
  return row;
}

// --- export -------------------------------------------------------------------------------------

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Every address this mailbox was typed as (letters, pledges, privacy requests), lower-cased. */
async function addressesOf(deps: Deps, key: string): Promise<string[]> {
  const found = new Set<string>([key]);
  const add = (a: string | null) => a && found.add(a.trim().toLowerCase());
  for (const r of await deps.db
    .selectDistinct({ a: letters.supporterEmail })
    .from(letters)
    .where(eq(letters.supporterEmailKey, key)))
    add(r.a);
  for (const r of await deps.db
    .select({ a: supporterPledges.email })
    .from(supporterPledges)
    .where(eq(supporterPledges.emailNorm, key)))
    add(r.a);
  for (const r of await deps.db
    .selectDistinct({ a: privacyRequests.email })
    .from(privacyRequests)
    .where(eq(privacyRequests.emailNorm, key)))
    add(r.a);
  return [...found];
}

/** Outbox rows addressed to one of `addresses` (supporter mail), or carrying one of `letterIds`. */
function outboxOf(addresses: string[], letterIds: string[]): SQL {
  return or(
    inArray(sql`lower(${outbox.toEmail})`, addresses),
    inArray(sql`lower(${outbox.reflectTo})`, addresses),
    letterIds.length ? inArray(outbox.letterId, letterIds) : undefined,
  ) as SQL;
}

export async function exportPersonalData(deps: Deps, input: { token: string }) {
  const req = await privacyRequestFor(deps, { token: input.token, kind: "export" });
  const key = req.emailNorm;
  const pledges = await deps.db.select().from(supporterPledges).where(eq(supporterPledges.emailNorm, key));
  const letterRows = await deps.db
    .select({
      id: letters.id,
      recipient: letters.recipientName,
      recipientKind: letters.recipientKind,
      constituency: letters.constituencyCode,
      status: letters.status,
      asks: letters.asks,
      subject: letters.subject,
      body: letters.body,
      name: letters.supporterName,
      email: letters.supporterEmail,
      address: letters.supporterAddress,
      postcode: letters.supporterPostcode,
      partner: letters.partnerKey,
      createdAt: letters.createdAt,
      confirmedAt: letters.confirmedAt,
      sentAt: letters.sentAt,
      replyAnswer: letters.replyAnswer,
      chaseOf: letters.chaseOf,
      storyShareConsentVersion: letters.storyShareConsentVersion,
      storyShareConsentAt: letters.storyShareConsentAt,
      sharedStory: letters.sharedStory,
      replyText: letterReplies.replyText,
      replyStances: letterReplies.stances,
    })
    .from(letters)
    .leftJoin(letterReplies, eq(letterReplies.letterId, letters.id))
    .where(eq(letters.supporterEmailKey, key));
  const letterIds = letterRows.map((l) => l.id);
  const addresses = await addressesOf(deps, key);
  const mail: (typeof outbox.$inferSelect)[] = [];
  for (const ids of letterIds.length ? chunks(letterIds) : [[]])
    mail.push(...(await deps.db.select().from(outbox).where(outboxOf(addresses, ids))));
  const byId = new Map(mail.map((m) => [m.id, m]));
  const attempts: (typeof deliveryLog.$inferSelect)[] = [];
  const outboxIds = [...byId.keys()];
  for (const ids of chunks(outboxIds))
    attempts.push(...(await deps.db.select().from(deliveryLog).where(inArray(deliveryLog.outboxId, ids))));
  const [suppression] = await deps.db
    .select()
    .from(suppressions)
    .where(eq(suppressions.emailHash, await emailFingerprint(deps.config.TOKEN_SECRET, key)));
  const requests = await deps.db
    .select({ kind: privacyRequests.kind, createdAt: privacyRequests.createdAt })
    .from(privacyRequests)
    .where(and(eq(privacyRequests.emailNorm, key), eq(privacyRequests.mailed, true)));
  await deps.db
    .update(privacyRequests)
    .set({ completedAt: deps.clock.now() })
    .where(eq(privacyRequests.id, req.id));
  deps.logger.info("privacy export", {
    pledges: pledges.length,
    letters: letterRows.length,
    mail: byId.size,
  });
  return {
    email: req.email ?? key,
    exportedAt: iso(deps.clock.now()),
    controller: deps.config.PRIVACY_CONTROLLER,
    pledges: pledges.map((p) => ({
      campaign: p.campaignId,
      name: p.name,
      email: p.email ?? p.emailNorm,
      postcode: p.postcode,
      constituency: p.constituencyCode,
      partner: p.partnerKey,
      status: p.status,
      pledgeConsent: { version: p.pledgeConsentVersion, at: iso(p.pledgeConsentAt) },
      updatesConsent: p.updatesConsentVersion
        ? { version: p.updatesConsentVersion, at: iso(p.updatesConsentAt) }
        : null,
      createdAt: iso(p.createdAt),
      confirmedAt: iso(p.confirmedAt),
    })),
    letters: letterRows.map(
      ({ storyShareConsentVersion, storyShareConsentAt, sharedStory, replyText, replyStances, ...l }) => ({
        ...l,
        createdAt: iso(l.createdAt),
        confirmedAt: iso(l.confirmedAt),
        sentAt: iso(l.sentAt),
        storyShareConsent: storyShareConsentVersion
          ? { version: storyShareConsentVersion, at: iso(storyShareConsentAt), story: sharedStory }
          : null,
        reply: replyStances ? { text: replyText, stances: replyStances } : null,
      }),
    ),
    /** Every email we queued to this address or carrying these letters, with each attempt. */
    emails: [...byId.values()].map((m) => ({
      id: m.id,
      kind: m.kind,
      letter: m.letterId,
      state: m.state,
      to: m.toName ? `${m.toName} <${m.toEmail}>` : m.toEmail,
      replyTo: m.replyTo,
      subject: m.subject,
      text: m.bodyText,
      createdAt: iso(m.createdAt),
      sentAt: iso(m.sentAt),
      attempts: attempts
        .filter((a) => a.outboxId === m.id)
        .map((a) => ({ attempt: a.attempt, outcome: a.outcome, smtpCode: a.smtpCode, at: iso(a.at) })),
    })),
    /** Present if this address asked to be erased before: we keep a one-way fingerprint of it. */
    suppression: suppression ? { reason: suppression.reason, since: iso(suppression.createdAt) } : null,
    privacyRequests: requests.map((r) => ({ kind: r.kind, at: iso(r.createdAt) })),
    /** Consents to hear from a partner, and a partner contact's account (modules/partners). */
    ...(await partnerDataFor(deps, addresses)),
  };
}

// --- erasure ------------------------------------------------------------------------------------

/**
 * Delete service-mail outbox rows matching `where`, attempt log first (it references them).
 * Rows in `sending` are left alone: their sender is about to record the outcome.
 */
function deleteServiceMailStatements(deps: Deps, where: SQL | undefined): Statement[] {
  const rows = and(eq(outbox.kind, "service"), ne(outbox.state, "sending"), where);
  return [
    deps.db
      .delete(deliveryLog)
      .where(inArray(deliveryLog.outboxId, deps.db.select({ id: outbox.id }).from(outbox).where(rows))),
    deps.db.delete(outbox).where(rows),
  ];
}

/** Cancel everything unsent about these letters (the machine chunks the id list for D1). */
function cancelLetterStatements(deps: Deps, letterIds: string[]): Statement[] {
  return transitionStatements(
    deps,
    "cancel",
    { letterIds },
    { set: { cancelReason: "erased at the supporter's request" } },
  ).statements;
}

/**
 * Statements that scrub the text of the given letters: body, postal address and postcode, the
 * similarity data derived from the text, and the text of their outbox copies (only rows that will
 * not be sent: a queued follow-up keeps its text).
 */
function scrubLetterStatements(deps: Deps, letterIds: string[]): Statement[] {
  const out: Statement[] = [];
  // D1 binds at most 100 variables per statement (SQLite 32,766): src/db/limits.ts.
  for (const ids of chunks(letterIds)) {
    out.push(
      deps.db
        .update(letters)
        .set({
          body: SCRUBBED,
          supporterAddress: SCRUBBED,
          supporterPostcode: SCRUBBED,
          signature: null,
          // The story shared with the office (digests) goes with the letter's text.
          sharedStory: null,
        })
        .where(inArray(letters.id, ids)),
      deps.db.delete(letterBands).where(inArray(letterBands.letterId, ids)),
      // A reply the supporter pasted in is theirs too; its stances (no personal data) stay.
      deps.db.update(letterReplies).set({ replyText: null }).where(inArray(letterReplies.letterId, ids)),
      deps.db
        .update(outbox)
        .set({ bodyText: SCRUBBED })
        .where(and(inArray(outbox.letterId, ids), notInArray(outbox.state, [...UNSENT, "sending"]))),
    );
  }
  return out;
}

/**
 * Statements that remove names and email addresses from the given (finished) letters, their
 * outbox rows and those rows' delivery log. The representative's official address and name stay
 * on the letter's own row (they are the recipient, not the supporter); the counts stay.
 */
function anonymiseLetterStatements(deps: Deps, letterIds: string[], now: number): Statement[] {
  const out: Statement[] = [];
  for (const ids of chunks(letterIds)) {
    const rows = and(inArray(outbox.letterId, ids), inArray(outbox.state, [...SCRUBBABLE]));
    out.push(
      // Mail about the letter that never went in all this time (a follow-up stuck behind a relay
      // that was down for weeks) is stale: stopped, through the state machine, then scrubbed.
      ...transitionStatements(
        deps,
        "cancel",
        { letterIds: ids, kinds: ["confirm", "reminder", "sent_notice", "followup", "bounce_notice"] },
        { set: { cancelReason: "anonymised after the retention period" } },
      ).statements,
      ...scrubLetterStatements(deps, ids),
      deps.db
        .update(letters)
        .set({
          supporterName: SCRUBBED,
          supporterEmail: ANONYMISED_EMAIL,
          supporterEmailKey: null,
          anonymisedAt: now,
        })
        .where(inArray(letters.id, ids)),
      // The letter to the representative: the supporter's name (From) and address (Reply-To).
      deps.db
        .update(outbox)
        .set({
          fromName: SCRUBBED,
          replyToName: null,
          replyTo: null,
          reflectTo: ANONYMISED_EMAIL,
          lastError: null,
        })
        .where(and(rows, eq(outbox.kind, "letter"))),
      // Mail to the supporter about the letter: their name and address.
      deps.db
        .update(outbox)
        .set({ toName: null, toEmail: ANONYMISED_EMAIL, reflectTo: ANONYMISED_EMAIL, lastError: null })
        .where(and(rows, ne(outbox.kind, "letter"))),
      // The relay's answers can quote an address ("550 <jane@...>: no such user").
      deps.db
        .update(deliveryLog)
        .set({ detail: null })
        .where(
          inArray(
            deliveryLog.outboxId,
            deps.db.select({ id: outbox.id }).from(outbox).where(inArray(outbox.letterId, ids)),
          ),
        ),
    );
  }

  return out;
}

export async function erasePersonalData(deps: Deps, input: { token: string }) {
  const req = await privacyRequestFor(deps, { token: input.token, kind: "erase" });
  const key = req.emailNorm;
  const letterIds = (
    await deps.db.select({ id: letters.id }).from(letters).where(eq(letters.supporterEmailKey, key))
  ).map((r) => r.id);
  const addresses = await addressesOf(deps, key);
  const now = deps.clock.now();
  const erasedEmail = `erased-${req.id}@erased.invalid`;
  const toThem = or(
    inArray(sql`lower(${outbox.toEmail})`, addresses),
    inArray(sql`lower(${outbox.reflectTo})`, addresses),
  );
  const statements: Statement[] = [
    deps.db.delete(supporterPledges).where(eq(supporterPledges.emailNorm, key)),
    // Letters (and the mail about them) that have not gone yet will not go: cancelled through
    // the delivery state machine, letter and outbox in step.
    ...cancelLetterStatements(deps, letterIds),
    ...scrubLetterStatements(deps, letterIds),
    ...deleteServiceMailStatements(deps, toThem),
    deps.db
      .update(outbox)
      .set({ reflectTo: erasedEmail, replyTo: null, replyToName: null })
      .where(
        or(
          inArray(sql`lower(${outbox.reflectTo})`, addresses),
          inArray(sql`lower(${outbox.replyTo})`, addresses),
        ),
      ),
    deps.db
      .update(outbox)
      .set({ toEmail: erasedEmail, toName: null, bodyText: SCRUBBED })
      .where(inArray(sql`lower(${outbox.toEmail})`, addresses)),
  ];
  for (const ids of chunks(letterIds)) {
    statements.push(
      deps.db.update(outbox).set({ fromName: SCRUBBED }).where(inArray(outbox.letterId, ids)),
      deps.db
        .update(letters)
        .set({ supporterName: SCRUBBED, supporterEmail: erasedEmail, supporterEmailKey: null })
        .where(inArray(letters.id, ids)),
    );
  }
  // By the exact (lower-cased) address columns: a LIKE on a long address exceeds D1's 50-byte
  // pattern limit.
  statements.push(
    deps.db
      .delete(capturedMail)
      .where(or(inArray(capturedMail.toAddress, addresses), inArray(capturedMail.replyToAddress, addresses))),
  );
  statements.push(
    deps.db
      .insert(suppressions)
      .values({
        emailHash: await emailFingerprint(deps.config.TOKEN_SECRET, key),
        reason: "erased",
        createdAt: now,
      })
      .onConflictDoNothing(),
    deps.db.delete(privacyRequests).where(eq(privacyRequests.emailNorm, key)),
    // Consents to hear from partners (and the webhook events carrying them), a partner contact's account.
    ...erasePartnerDataStatements(deps, addresses),
  );
  await deps.atomic(statements);
  deps.logger.info("privacy erasure", { letters: letterIds.length });
  return { status: "erased" as const, letters: letterIds.length };
}

export async function isSuppressed(deps: Deps, email: string): Promise<boolean> {
  const hash = await emailFingerprint(deps.config.TOKEN_SECRET, emailKey(email));
  const [row] = await deps.db.select().from(suppressions).where(eq(suppressions.emailHash, hash));
  return !!row;
}

// --- retention ----------------------------------------------------------------------------------

export type RetentionReport = PartnerRetentionReport & {
  unconfirmedPledges: number;
  unverifiedRepRequests: number;
  lettersScrubbed: number;
  lettersAnonymised: number;
  capturedMailDeleted: number;
  serviceMailDeleted: number;
  lookupCacheDeleted: number;
  sessionsDeleted: number;
  privacyRequestsDeleted: number;
};

/** Letters handled per write: bounded so one run never holds the write lock for long. */
const SCRUB_BATCH = 800;
/** Queries the rest of a retention run needs after scrubbing and anonymising (deletes, counts, partners' 4). */
const RETENTION_RESERVE = 18;
/** Statements per ID_CHUNK letters: scrubbing text (4, with pasted replies), anonymising (cancel 3 + scrub 4 + 4). */
const SCRUB_COST = 4;
const ANONYMISE_COST = 11;

/** When a letter's retention clock starts: when it was sent, or written if it never was. */
const letterClock = sql`coalesce(${letters.sentAt}, ${letters.createdAt})`;

/**
 * Repeatedly select a batch of letter ids and apply `statements` to it until none are left, or
 * the query budget (a Worker's cron run) has no room for another batch: the next run goes on.
 */
async function inBatches(
  deps: Deps,
  budget: QueryBudget,
  costPerChunk: number,
  select: (limit: number) => Promise<string[]>,
  statements: (ids: string[]) => Statement[],
): Promise<number> {
  let done = 0;
  for (;;) {
    const room = Math.min(
      SCRUB_BATCH,
      Math.floor((budget.left() - RETENTION_RESERVE - 1) / costPerChunk) * ID_CHUNK,
    );
    if (room <= 0) break;
    const ids = await select(room);
    if (ids.length === 0) break;
    await deps.atomic(statements(ids));
    done += ids.length;
    if (ids.length < room) break;
  }
  return done;
}

/**
 * One retention run. `budget` bounds its queries (a Worker's cron run); letters it had no room
 * to scrub or anonymise are done by the next run.
 */
export async function runRetention(
  deps: Deps,
  opts: { budget?: QueryBudget } = {},
): Promise<RetentionReport> {
  const budget = opts.budget ?? unlimited;
  const now = deps.clock.now();
  const c = deps.config;
  const pledgeCutoff = now - c.PLEDGE_CONFIRM_TTL_DAYS * DAY_MS;
  const textCutoff = now - c.RETENTION_DAYS * DAY_MS;
  const anonCutoff = now - c.ANONYMISE_DAYS * DAY_MS;
  const unconfirmed = await deps.db
    .delete(supporterPledges)
    .where(and(eq(supporterPledges.status, "unconfirmed"), lt(supporterPledges.createdAt, pledgeCutoff)))
    .returning({ id: supporterPledges.id });
  const reps = await deps.db
    .delete(repPledges)
    .where(
      and(
        eq(repPledges.status, "requested"),
        lt(repPledges.requestedAt, now - c.REP_PLEDGE_LINK_DAYS * DAY_MS),
      ),
    )
    .returning({ id: repPledges.id });

  const finished = inArray(letters.status, [...FINISHED]);
  // Letter text, postal address and similarity data: RETENTION_DAYS after sending; a letter never
  // confirmed loses them once its confirmation window has passed.
  const scrubbed = await inBatches(
    deps,
    budget,
    SCRUB_COST,
    async (limit) =>
      (
        await deps.db
          .select({ id: letters.id })
          .from(letters)
          .where(
            and(
              ne(letters.body, SCRUBBED),
              finished,
              or(
                sql`${letterClock} < ${textCutoff}`,
                and(
                  eq(letters.status, "expired"),
                  lt(letters.createdAt, now - c.LETTER_CONFIRM_TTL_DAYS * DAY_MS),
                ),
              ),
            ),
          )
          .limit(limit)
      ).map((r) => r.id),
    (ids) => scrubLetterStatements(deps, ids),
  );
  // Names and email addresses: ANONYMISE_DAYS after the same moment.
  const anonymised = await inBatches(
    deps,
    budget,
    ANONYMISE_COST,
    async (limit) =>
      (
        await deps.db
          .select({ id: letters.id })
          .from(letters)
          .where(and(isNull(letters.anonymisedAt), finished, sql`${letterClock} < ${anonCutoff}`))
          .limit(limit)
      ).map((r) => r.id),
    (ids) => anonymiseLetterStatements(deps, ids, now),
  );
  // Service mail carries confirm, verification and privacy links: once the longest-lived of
  // them has expired the row is of no use to anyone, sent or not.
  const linkDays = Math.max(
    c.PLEDGE_CONFIRM_TTL_DAYS,
    c.REP_PLEDGE_LINK_DAYS,
    Math.ceil(c.PRIVACY_LINK_HOURS / 24),
  );
  const serviceCutoff = now - linkDays * DAY_MS;
  const serviceBefore = (
    await deps.db
      .select({ n: sql<number>`count(*)` })
      .from(outbox)
      .where(
        and(eq(outbox.kind, "service"), ne(outbox.state, "sending"), lt(outbox.createdAt, serviceCutoff)),
      )
  )[0];
  await deps.atomic(deleteServiceMailStatements(deps, lt(outbox.createdAt, serviceCutoff)));
  const captured = await deps.db
    .delete(capturedMail)
    .where(lt(capturedMail.capturedAt, textCutoff))
    .returning({ id: capturedMail.id });
  // Remote postcode answers (the postcodes people looked up) once they are no longer reused.
  const cache = await deps.db
    .delete(lookupCache)
    .where(lt(lookupCache.expiresAt, now))
    .returning({ k: lookupCache.key });
  const sessions = await deps.db
    .delete(adminSessions)
    .where(lt(adminSessions.expiresAt, now))
    .returning({ t: adminSessions.tokenHash });
  // Sign-in counters nobody has touched for a day would start from zero anyway.
  await deleteStaleThrottles(deps);
  // Rate-limit windows that have ended (the Workers limiter has no cleanup timer of its own).
  await deps.db.delete(rateLimits).where(lt(rateLimits.expire, now));
  const requests = await deps.db
    .delete(privacyRequests)
    .where(or(lt(privacyRequests.expiresAt, now), isNotNull(privacyRequests.completedAt)))
    .returning({ id: privacyRequests.id });
  const partnerData = await partnerRetention(deps);
  const report: RetentionReport = {
    ...partnerData,
    unconfirmedPledges: unconfirmed.length,
    unverifiedRepRequests: reps.length,
    lettersScrubbed: scrubbed,
    lettersAnonymised: anonymised,
    capturedMailDeleted: captured.length,
    serviceMailDeleted: Number(serviceBefore?.n ?? 0),
    lookupCacheDeleted: cache.length,
    sessionsDeleted: sessions.length,
    privacyRequestsDeleted: requests.length,
  };
  deps.logger.info("retention run", report);
  return report;
}
