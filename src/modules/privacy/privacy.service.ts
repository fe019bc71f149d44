/**
 * Supporters' privacy: the notice, export and erasure of one person's data, the suppression
 * list, and the retention job.
 *
 * Rules:
 * - Export and erasure are asked for by address and done from a link emailed to that address
 *   (the link names a privacy_requests row, never the address). The page answers the same
 *   whether or not we hold anything, so it can't be used to find out who pledged.
 * - Erasure deletes pledges and scrubs letters (body, name, email, postal address) and their
 *   outbox copies in one atomic write. Service mail to the address (confirm, export and
 *   erasure links) is deleted from the outbox with its attempt log (a row mid-send is scrubbed
 *   instead). Tallies and letter rows (status, seat, date) stay, so every count is unchanged.
 *   The address's fingerprint goes on the suppression list.
 * - Retention: unconfirmed pledges and unverified MP pledge requests go after the confirm
 *   window; letter bodies and postal addresses are scrubbed RETENTION_DAYS after writing;
 *   service mail is deleted once every link it could carry has expired; expired sessions and
 *   privacy requests are deleted. Counts are never touched.
 */
import { and, eq, inArray, isNotNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { chunks, ID_CHUNK } from "../../db/limits";
import {
  adminSessions,
  capturedMail,
  deliveryLog,
  letters,
  outbox,
  privacyRequests,
  rateLimits,
  repPledges,
  supporterPledges,
  suppressions,
} from "../../db/schema";
import type { Deps, Statement } from "../../deps";
import { type QueryBudget, unlimited } from "../../lib/budget";
import { AppError } from "../../lib/errors";
import { signToken, verifyToken } from "../../lib/tokens";
import { deleteStaleThrottles } from "../admin/admin.auth";
import { announceInserted, insertOutbox, transitionStatements } from "../delivery/delivery.machine";
import { emailFingerprint } from "../pledges/pledges.fingerprint";
import { serviceMailRow } from "../pledges/pledges.mail";
import { normaliseEmail } from "../pledges/pledges.service";

const DAY_MS = 86_400_000;
export const SCRUBBED = "[removed]";
const PURPOSE = { export: "privacy.export", erase: "privacy.erase" } as const;

export function privacyNotice(deps: Deps) {
  const c = deps.config;
  return {
    controller: c.PRIVACY_CONTROLLER,
    contact: c.PRIVACY_CONTACT_EMAIL,
    retentionDays: c.RETENTION_DAYS,
    confirmDays: c.PLEDGE_CONFIRM_TTL_DAYS,
    letterConfirmDays: c.LETTER_CONFIRM_TTL_DAYS,
    followupDays: c.LETTER_FOLLOWUP_DAYS,
    linkHours: c.PRIVACY_LINK_HOURS,
  };
}

async function holdsDataFor(deps: Deps, emailNorm: string): Promise<boolean> {
  const [p] = await deps.db
    .select({ id: supporterPledges.id })
    .from(supporterPledges)
    .where(eq(supporterPledges.emailNorm, emailNorm))
    .limit(1);
  if (p) return true;
  const [l] = await deps.db
    .select({ id: letters.id })
    .from(letters)
    .where(eq(letters.supporterEmail, emailNorm))
    .limit(1);
  return !!l;
}

/** Email a link for `kind` to the address, if we hold anything for it. Same answer either way. */
export async function requestPrivacyLink(
  deps: Deps,
  input: { email: string; kind: "export" | "erase" },
): Promise<{ status: "check_email" }> {
  const emailNorm = normaliseEmail(input.email);
  if (await holdsDataFor(deps, emailNorm)) {
    const now = deps.clock.now();
    const id = deps.ids.uuid();
    const expiresAt = now + deps.config.PRIVACY_LINK_HOURS * 3_600_000;
    const token = await signToken(deps.config, {
      purpose: PURPOSE[input.kind],
      subject: id,
      expiresAt,
    });
    const mail = serviceMailRow(deps, {
      to: { address: emailNorm },
      subject:
        input.kind === "export"
          ? "Your #SpeakUpForBabies data: download link"
          : "Erase your #SpeakUpForBabies data: confirm",
      template:
        input.kind === "export" ? "emails/pledge-privacy-export.txt" : "emails/pledge-privacy-erase.txt",
      data: {
        linkUrl: `${deps.config.PUBLIC_URL}/privacy/${input.kind}?token=${encodeURIComponent(token)}`,
        ttlHours: deps.config.PRIVACY_LINK_HOURS,
      },
    });
    // The request and its mail together, or neither (then the supporter is told to try again).
    await deps.atomic([
      deps.db.insert(privacyRequests).values({ id, kind: input.kind, emailNorm, createdAt: now, expiresAt }),
      insertOutbox(deps, [mail]),
    ]);
    await announceInserted(deps, [mail]);
  }
  deps.logger.info("privacy request", { kind: input.kind });
  return { status: "check_email" };
}

/** The request a link names (checks the token, the purpose and that the request still exists). */
export async function privacyRequestFor(deps: Deps, input: { token: string; kind: "export" | "erase" }) {
  const { subject } = await verifyToken(deps.config, input.token, PURPOSE[input.kind], deps.clock.now());
  const [row] = await deps.db
    .select()
    .from(privacyRequests)
    .where(and(eq(privacyRequests.id, subject), eq(privacyRequests.kind, input.kind)));
  if (!row)
    throw new AppError("token_expired", "This link has expired. Please ask again from the privacy page.");
  return row;
}

export async function exportPersonalData(deps: Deps, input: { token: string }) {
  const req = await privacyRequestFor(deps, { token: input.token, kind: "export" });
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  const pledges = await deps.db
    .select()
    .from(supporterPledges)
    .where(eq(supporterPledges.emailNorm, req.emailNorm));
  const letterRows = await deps.db
    .select({
      id: letters.id,
      recipient: letters.recipientName,
      constituency: letters.constituencyCode,
      status: letters.status,
      subject: letters.subject,
      body: letters.body,
      name: letters.supporterName,
      address: letters.supporterAddress,
      postcode: letters.supporterPostcode,
      createdAt: letters.createdAt,
      sentAt: letters.sentAt,
      replyAnswer: letters.replyAnswer,
    })
    .from(letters)
    .where(eq(letters.supporterEmail, req.emailNorm));
  await deps.db
    .update(privacyRequests)
    .set({ completedAt: deps.clock.now() })
    .where(eq(privacyRequests.id, req.id));
  deps.logger.info("privacy export", { pledges: pledges.length, letters: letterRows.length });
  return {
    email: req.emailNorm,
    exportedAt: iso(deps.clock.now()),
    controller: deps.config.PRIVACY_CONTROLLER,
    pledges: pledges.map((p) => ({
      campaign: p.campaignId,
      name: p.name,
      email: p.emailNorm,
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
    letters: letterRows.map((l) => ({ ...l, createdAt: iso(l.createdAt), sentAt: iso(l.sentAt) })),
  };
}

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
    {
      set: { cancelReason: "erased at the supporter's request" },
    },
  ).statements;
}

/** Statements that scrub personal data from the given letters and their outbox copies. */
function scrubLetterStatements(deps: Deps, letterIds: string[]): Statement[] {
  if (letterIds.length === 0) return [];
  const out: Statement[] = [];
  // D1 binds at most 100 variables per statement (SQLite 32,766): src/db/limits.ts.
  for (const ids of chunks(letterIds)) {
    out.push(
      deps.db
        .update(letters)
        .set({
          body: SCRUBBED,
          supporterName: SCRUBBED,
          supporterAddress: SCRUBBED,
          supporterPostcode: SCRUBBED,
          signature: null,
        })
        .where(inArray(letters.id, ids)),
      deps.db
        .update(outbox)
        .set({ bodyText: SCRUBBED, fromName: SCRUBBED, replyToName: null })
        .where(inArray(outbox.letterId, ids)),
    );
  }
  return out;
}

export async function erasePersonalData(deps: Deps, input: { token: string }) {
  const req = await privacyRequestFor(deps, { token: input.token, kind: "erase" });
  const email = req.emailNorm;
  const letterIds = (
    await deps.db.select({ id: letters.id }).from(letters).where(eq(letters.supporterEmail, email))
  ).map((r) => r.id);
  const now = deps.clock.now();
  const erasedEmail = `erased-${req.id}@erased.invalid`;
  const statements: Statement[] = [
    deps.db.delete(supporterPledges).where(eq(supporterPledges.emailNorm, email)),
    // Letters (and the mail about them) that have not gone yet will not go: cancelled through
    // the delivery state machine, letter and outbox in step.
    ...cancelLetterStatements(deps, letterIds),
    ...scrubLetterStatements(deps, letterIds),
    ...deleteServiceMailStatements(deps, or(eq(outbox.toEmail, email), eq(outbox.reflectTo, email))),
    deps.db
      .update(outbox)
      .set({ reflectTo: erasedEmail, replyTo: null })
      .where(or(eq(outbox.reflectTo, email), eq(outbox.replyTo, email))),
    deps.db.update(outbox).set({ toEmail: erasedEmail, bodyText: SCRUBBED }).where(eq(outbox.toEmail, email)),
    deps.db.update(letters).set({ supporterEmail: erasedEmail }).where(eq(letters.supporterEmail, email)),
    // By exact address columns: a LIKE on a long address exceeds D1's 50-byte pattern limit.
    deps.db
      .delete(capturedMail)
      .where(or(eq(capturedMail.toAddress, email), eq(capturedMail.replyToAddress, email))),
    deps.db
      .insert(suppressions)
      .values({
        emailHash: await emailFingerprint(deps.config.TOKEN_SECRET, email),
        reason: "erased",
        createdAt: now,
      })
      .onConflictDoNothing(),
    deps.db.delete(privacyRequests).where(eq(privacyRequests.emailNorm, email)),
  ];
  await deps.atomic(statements);
  deps.logger.info("privacy erasure", { letters: letterIds.length });
  return { status: "erased" as const, letters: letterIds.length };
}

export async function isSuppressed(deps: Deps, email: string): Promise<boolean> {
  const hash = await emailFingerprint(deps.config.TOKEN_SECRET, normaliseEmail(email));
  const [row] = await deps.db.select().from(suppressions).where(eq(suppressions.emailHash, hash));
  return !!row;
}

export type RetentionReport = {
  unconfirmedPledges: number;
  unverifiedRepRequests: number;
  lettersScrubbed: number;
  capturedMailDeleted: number;
  serviceMailDeleted: number;
  sessionsDeleted: number;
  privacyRequestsDeleted: number;
};

/** Letters scrubbed per pass: bounded so one run never holds the write lock for long. */
const SCRUB_BATCH = 5000;

/** Queries the rest of a retention run needs after scrubbing (deletes and counts). */
const RETENTION_RESERVE = 12;

/**
 * One retention run. `budget` bounds its queries (a Worker's cron run); letters it had no room
 * to scrub are scrubbed by the next run.
 */
export async function runRetention(
  deps: Deps,
  opts: { budget?: QueryBudget } = {},
): Promise<RetentionReport> {
  const budget = opts.budget ?? unlimited;
  const now = deps.clock.now();
  const c = deps.config;
  const pledgeCutoff = now - c.PLEDGE_CONFIRM_TTL_DAYS * DAY_MS;
  const letterCutoff = now - c.RETENTION_DAYS * DAY_MS;
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

  // Letters past retention, and never-confirmed letters past their confirm window, lose their
  // text and address. Rows, statuses and dates stay for the counts.
  let scrubbed = 0;
  for (;;) {
    // A scrub costs two statements per ID_CHUNK letters, plus the read.
    const room = Math.min(SCRUB_BATCH, Math.floor((budget.left() - RETENTION_RESERVE - 1) / 2) * ID_CHUNK);
    if (room <= 0) break;
    const ids = (
      await deps.db
        .select({ id: letters.id })
        .from(letters)
        .where(
          and(
            ne(letters.body, SCRUBBED),
            or(
              lt(letters.createdAt, letterCutoff),
              and(
                eq(letters.status, "expired"),
                lt(letters.createdAt, now - c.LETTER_CONFIRM_TTL_DAYS * DAY_MS),
              ),
            ),
          ),
        )
        .limit(room)
    ).map((r) => r.id);
    if (ids.length === 0) break;
    await deps.atomic(scrubLetterStatements(deps, ids));
    scrubbed += ids.length;
    if (ids.length < room) break;
  }
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
    .where(lt(capturedMail.capturedAt, letterCutoff))
    .returning({ id: capturedMail.id });
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
  const report: RetentionReport = {
    unconfirmedPledges: unconfirmed.length,
    unverifiedRepRequests: reps.length,
    lettersScrubbed: scrubbed,
    capturedMailDeleted: captured.length,
    serviceMailDeleted: Number(serviceBefore?.n ?? 0),
    sessionsDeleted: sessions.length,
    privacyRequestsDeleted: requests.length,
  };
  deps.logger.info("retention run", report);
  return report;
}
