/**
 * Pledges: supporters' pledges to #SpeakUpForBabies and MPs'/candidates' pledges.
 *
 * Rules:
 * - One supporter pledge per mailbox per campaign (its key: case, Gmail dots and +tags don't make
 *   another; lib/email.ts): the unique index decides,
 *   with INSERT ... ON CONFLICT DO NOTHING, so parallel identical submits make one row and
 *   every caller gets the same "check your email" answer (which also says nothing about whether
 *   the address had pledged before).
 * - A pledge counts only once confirmed from the emailed link. Confirming is idempotent: the
 *   state change and the tally bump happen in one atomic write guarded by `counted`, so a
 *   replayed or parallel confirm never counts twice.
 * - A repeat submit resends the confirm email only after RESEND_PAUSE_MS (no mail bombing).
 * - The pledge row (or its resend claim) and its confirmation mail are one atomic write: the mail
 *   is inserted only if the same batch's pledge statement took effect (insertOutboxWhere, keyed
 *   by confirm_mail_id). A disk-full or locked database fails both, and the supporter is told
 *   to try again, never "check your email" with no mail queued.
 * - Links name the pledge's random public id, never its sequential row id.
 * - MP/candidate pledges are verified by a signed link sent only to the official address we
 *   hold, or by a campaign lead with a note. The wall shows verified pledges only.
 * - Service mail (confirm and verification links) is queued in the outbox inside the request
 *   and sent by the outbox worker, with its retries (see pledges.mail.ts).
 * - Counts come from pledge_tallies, never from scanning pledges; a test-seat pledge is marked
 *   counted but never reaches a tally (admin.counts.ts: what counts).
 */
import { and, asc, eq, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import {
  candidates,
  constituencies,
  type DevolvedBody,
  devolvedAreas,
  devolvedMembers,
  members,
  pledgeTallies,
  repPledges,
  supporterPledges,
} from "../../db/schema";
import type { RepKind } from "../../db/schema.pledges";
import type { Deps, Statement } from "../../deps";
import { emailKey } from "../../lib/email";
import { AppError } from "../../lib/errors";
import { randomId, signToken, verifyToken } from "../../lib/tokens";
import { campaignTotals, countsInFigures } from "../admin/admin.counts";
import { announceInserted } from "../delivery/delivery.machine";
import { insertOutboxWhere, type NewOutboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { lookupPostcode } from "../lookup/lookup.service";
import { confirmPledgeConsentStatement, recordConsentStatement } from "../partners/partners.consent";
import { announceWebhookEvents, pledgeConfirmedEvent, repPledgedEvent } from "../partners/partners.webhooks";
import { emailFingerprint } from "./pledges.fingerprint";
import { serviceMailRow } from "./pledges.mail";
import type { AdminVerifyInput, CreatePledgeInput, RepRef } from "./pledges.schemas";

const DAY_MS = 86_400_000;
/** A repeat submit resends the confirm email at most this often. */
export const RESEND_PAUSE_MS = 10 * 60_000;
/** An MP's office may ask for the verification link again after this long. */
const REP_LINK_PAUSE_MS = 60 * 60_000;

export const PURPOSE = {
  confirm: "pledge.confirm",
  repVerify: "rep_pledge.verify",
} as const;

export type PledgeAccepted = { status: "check_email" };

async function confirmMail(deps: Deps, p: { publicId: string; name: string; email: string }) {
  const token = await signToken(deps.config, {
    purpose: PURPOSE.confirm,
    subject: p.publicId,
    expiresAt: deps.clock.now() + deps.config.PLEDGE_CONFIRM_TTL_DAYS * DAY_MS,
  });
  return serviceMailRow(deps, {
    to: { name: p.name, address: p.email },
    subject: `Please confirm your ${deps.config.campaign.hashtag} pledge`,
    template: "emails/pledge-confirm.txt",
    data: {
      name: p.name,
      confirmUrl: `${deps.config.PUBLIC_URL}/pledge/confirm?token=${encodeURIComponent(token)}`,
      ttlDays: deps.config.PLEDGE_CONFIRM_TTL_DAYS,
    },
  });
}

/** The mail, inserted only if a pledge row now names it (this request's statement took effect). */
const mailIfClaimed = (deps: Deps, mail: NewOutboxRow): Statement =>
  insertOutboxWhere(
    deps,
    mail,
    sql`exists (select 1 from ${supporterPledges} where ${supporterPledges.confirmMailId} = ${mail.id})`,
  );

/**
 * "<partner> may contact me", ticked with a pledge credited to that partner: recorded against the
 * new pledge (its public id), counting only once the pledge is confirmed. Never attached to a
 * pledge someone else already made with that address: its owner would confirm a consent they
 * never saw. If a parallel submit won the pledge row, this consent names a pledge that never
 * exists, and retention removes it.
 */
const partnerConsentOf = (deps: Deps, input: CreatePledgeInput, publicId: string): Statement[] =>
  input.partnerConsent && input.partner
    ? [
        recordConsentStatement(deps, {
          partnerKey: input.partner,
          source: "pledge",
          sourceRef: publicId,
          email: input.email,
          name: input.name,
          version: input.partnerConsent,
        }),
      ]
    : [];

export async function createPledge(deps: Deps, input: CreatePledgeInput): Promise<PledgeAccepted> {
  const seat = await lookupPostcode(deps, { postcode: input.postcode, devolved: false });
  const now = deps.clock.now();
  const campaignId = deps.config.CAMPAIGN_ID;
  // One pledge per mailbox (its key); mail goes to the address as typed.
  const emailNorm = emailKey(input.email);
  const mine: SQL | undefined = and(
    eq(supporterPledges.campaignId, campaignId),
    eq(supporterPledges.emailNorm, emailNorm),
  );
  const [existing] = await deps.db
    .select({
      publicId: supporterPledges.publicId,
      name: supporterPledges.name,
      email: supporterPledges.email,
      status: supporterPledges.status,
    })
    .from(supporterPledges)
    .where(mine);

  if (!existing) {
    const publicId = randomId();
    const mail = await confirmMail(deps, { publicId, name: input.name, email: input.email });
    // If a parallel identical pledge got there first, neither statement does anything here: the
    // winner's batch holds the row and its one confirmation mail.
    const written = await deps.atomic([
      deps.db
        .insert(supporterPledges)
        .values({
          publicId,
          campaignId,
          emailNorm,
          email: input.email,
          emailHash: await emailFingerprint(deps.config.TOKEN_SECRET, emailNorm),
          name: input.name,
          postcode: seat.postcode,
          constituencyCode: seat.constituency.code,
          partnerKey: input.partner ?? null,
          status: "unconfirmed",
          pledgeConsentVersion: input.pledgeConsent,
          pledgeConsentAt: now,
          updatesConsentVersion: input.updatesConsent ?? null,
          updatesConsentAt: input.updatesConsent ? now : null,
          createdAt: now,
          confirmSentAt: now,
          confirmMailId: mail.id,
        })
        .onConflictDoNothing(),
      mailIfClaimed(deps, mail),
      ...partnerConsentOf(deps, input, publicId),
    ]);
    if (written[1]) await announceInserted(deps, [mail]);
    deps.logger.info("pledge submitted", { new: true });
  } else if (existing.status === "unconfirmed") {
    // Someone (perhaps this same person a moment ago) holds the row. Resend only to an
    // unconfirmed pledge, and only after a pause: one conditional UPDATE decides, and the mail
    // goes in the same batch only if it did.
    const publicId = existing.publicId ?? randomId();
    // To the address the pledge was made from (the same mailbox as the one typed now).
    const mail = await confirmMail(deps, {
      publicId,
      name: existing.name,
      email: existing.email ?? emailNorm,
    });
    const written = await deps.atomic([
      deps.db
        .update(supporterPledges)
        .set({ confirmSentAt: now, confirmMailId: mail.id, publicId })
        .where(
          and(
            mine,
            eq(supporterPledges.status, "unconfirmed"),
            or(
              isNull(supporterPledges.confirmSentAt),
              lt(supporterPledges.confirmSentAt, now - RESEND_PAUSE_MS),
            ),
          ),
        ),
      mailIfClaimed(deps, mail),
    ]);
    if (written[1]) await announceInserted(deps, [mail]);
    deps.logger.info("pledge submitted", { new: false });
  }
  // The same answer whether or not the address had pledged, or was mailed this time.
  return { status: "check_email" };
}

/** The row id of the pledge a confirm link names (links carry the random public id). */
async function pledgeIdFromToken(deps: Deps, token: string): Promise<number> {
  const { subject } = await verifyToken(deps.config, token, PURPOSE.confirm, deps.clock.now());
  const [row] = await deps.db
    .select({ id: supporterPledges.id })
    .from(supporterPledges)
    .where(eq(supporterPledges.publicId, subject));
  if (!row)
    throw new AppError("pledge_not_found", "This pledge is no longer on record. Please pledge again.");
  return row.id;
}

/** What the confirm page shows before the button is pressed (GET must not change state). */
export async function pledgeForToken(deps: Deps, input: { token: string }) {
  const id = await pledgeIdFromToken(deps, input.token);
  const [row] = await deps.db
    .select({ name: supporterPledges.name, status: supporterPledges.status })
    .from(supporterPledges)
    .where(eq(supporterPledges.id, id));
  if (!row)
    throw new AppError("pledge_not_found", "This pledge is no longer on record. Please pledge again.");
  return row;
}

/** Statements that add one confirmed, not-yet-counted pledge to the tallies, then mark it counted. */
function tallyStatements(deps: Deps, id: number, now: number): Statement[] {
  return tallyWhere(deps, eq(supporterPledges.id, id), now);
}

/**
 * The same for every pledge matching `which`; then, for a pledge credited to a partner, the
 * consent ticked with it counts and the partner's `pledge.confirmed` event is queued (both
 * idempotent: a replay changes nothing).
 */
function tallyWhere(deps: Pick<Deps, "db" | "config">, which: SQL, now: number): Statement[] {
  const db = deps.db;
  const uncounted = and(which, eq(supporterPledges.status, "confirmed"), eq(supporterPledges.counted, false));
  const counts = and(uncounted, countsInFigures(supporterPledges.constituencyCode));
  const bump = (
    dimension: "day" | "constituency" | "partner" | "partner_day" | "partner_nation",
    key: ReturnType<typeof sql>,
    only?: SQL,
  ) =>
    db
      .insert(pledgeTallies)
      .select(
        db
          .select({
            campaignId: supporterPledges.campaignId,
            dimension: sql`${dimension}`.as("dimension"),
            key: key.as("key"),
            n: sql`1`.as("n"),
          })
          .from(supporterPledges)
          .where(and(counts, only)),
      )
      .onConflictDoUpdate({
        target: [pledgeTallies.campaignId, pledgeTallies.dimension, pledgeTallies.key],
        set: { n: sql`${pledgeTallies.n} + 1` },
      });
  const credited = isNotNull(supporterPledges.partnerKey);
  return [
    bump("day", sql`strftime('%Y-%m-%d', ${supporterPledges.confirmedAt} / 1000, 'unixepoch')`),
    bump("constituency", sql`${supporterPledges.constituencyCode}`),
    bump("partner", sql`coalesce(${supporterPledges.partnerKey}, '')`),
    // A partner's own page: its pledges by day and by nation (partners.service.ts).
    bump(
      "partner_day",
      sql`${supporterPledges.partnerKey} || '|' || strftime('%Y-%m-%d', ${supporterPledges.confirmedAt} / 1000, 'unixepoch')`,
      credited,
    ),
    bump(
      "partner_nation",
      sql`${supporterPledges.partnerKey} || '|' || (select ${constituencies.nation} from ${constituencies} where ${constituencies.onsCode} = ${supporterPledges.constituencyCode})`,
      credited,
    ),
    db.update(supporterPledges).set({ counted: true }).where(uncounted),
    confirmPledgeConsentStatement(deps, which, now),
    pledgeConfirmedEvent(deps, which, now),
  ];
}

export async function confirmPledge(
  deps: Deps,
  input: { token: string },
): Promise<{ status: "confirmed"; alreadyConfirmed: boolean }> {
  const id = await pledgeIdFromToken(deps, input.token);
  const now = deps.clock.now();
  // Only for the answer's wording; the atomic write below is what guards against double counting.
  const [before] = await deps.db
    .select({ status: supporterPledges.status, partnerKey: supporterPledges.partnerKey })
    .from(supporterPledges)
    .where(eq(supporterPledges.id, id));
  if (!before)
    throw new AppError("pledge_not_found", "This pledge is no longer on record. Please pledge again.");
  const confirm = deps.db
    .update(supporterPledges)
    .set({ status: "confirmed", confirmedAt: now })
    .where(and(eq(supporterPledges.id, id), eq(supporterPledges.status, "unconfirmed")));
  await deps.atomic([confirm, ...tallyStatements(deps, id, now)]);
  // Events are written only for a credited partner: no look for them otherwise.
  if (before.partnerKey) await announceWebhookEvents(deps, now);
  const alreadyConfirmed = before.status === "confirmed";
  if (!alreadyConfirmed) deps.logger.info("pledge confirmed", {});
  return { status: "confirmed", alreadyConfirmed };
}

// --- pledging with a letter ---------------------------------------------------------------------

/**
 * "I pledge too" on a letter's form: the pledge row (unconfirmed, linked to the letter), written
 * in the letter's own atomic write. No confirmation email of its own: confirming the letter
 * confirms it (confirmPledgesWithLetterStatements). An address that already pledged keeps its
 * pledge; an unconfirmed one is linked to this letter.
 */
export async function pledgeWithLetterStatement(
  deps: Pick<Deps, "db" | "config" | "clock">,
  p: {
    letterId: string;
    name: string;
    email: string;
    postcode: string;
    constituencyCode: string;
    partner?: string;
    pledgeConsent: string;
    updatesConsent?: string;
  },
): Promise<[Statement]> {
  const now = deps.clock.now();
  const emailNorm = emailKey(p.email);
  // In a tuple: an async function must never resolve to a query builder (it is thenable, so it
  // would be run then and there instead of in the caller's atomic write).
  const emailHash = await emailFingerprint(deps.config.TOKEN_SECRET, emailNorm);
  const statement = deps.db
    .insert(supporterPledges)
    .values({
      // The pledge has no link of its own (the letter's confirms it), but every row gets its id.
      publicId: randomId(),
      campaignId: deps.config.CAMPAIGN_ID,
      emailNorm,
      email: p.email,
      emailHash,
      name: p.name,
      postcode: p.postcode,
      constituencyCode: p.constituencyCode,
      partnerKey: p.partner ?? null,
      status: "unconfirmed",
      pledgeConsentVersion: p.pledgeConsent,
      pledgeConsentAt: now,
      updatesConsentVersion: p.updatesConsent ?? null,
      updatesConsentAt: p.updatesConsent ? now : null,
      createdAt: now,
      confirmSentAt: now,
      letterId: p.letterId,
    })
    .onConflictDoUpdate({
      target: [supporterPledges.campaignId, supporterPledges.emailNorm],
      set: { letterId: p.letterId },
      setWhere: eq(supporterPledges.status, "unconfirmed"),
    });
  return [statement];
}

/** Confirming letter `letterId` confirms (and counts) the pledges ticked with it. Idempotent. */
export function confirmPledgesWithLetterStatements(
  deps: Pick<Deps, "db" | "config">,
  letterId: string,
  now: number,
): Statement[] {
  const withLetter = eq(supporterPledges.letterId, letterId);
  return [
    deps.db
      .update(supporterPledges)
      .set({ status: "confirmed", confirmedAt: now })
      .where(and(withLetter, eq(supporterPledges.status, "unconfirmed"))),
    ...tallyWhere(deps, withLetter, now),
  ];
}

// --- public counts -----------------------------------------------------------------------------

export type PledgeCounter = {
  campaignId: string;
  supporters: { total: number; byNation: Record<string, number> };
  representatives: { verified: number; byKind: { mp: number; candidate: number; devolved: number } };
  /** Letters confirmed by their writers: the same figure as the dashboard's. */
  letters: { total: number };
};

/** The public counter: the campaign's totals (admin.counts.ts) and supporters' pledges by nation. */
export async function pledgeCounter(deps: Deps): Promise<PledgeCounter> {
  const campaignId = deps.config.CAMPAIGN_ID;
  const [totals, rows] = await Promise.all([
    campaignTotals(deps),
    deps.db
      .select({ nation: constituencies.nation, n: sql<number>`sum(${pledgeTallies.n})` })
      .from(pledgeTallies)
      .innerJoin(constituencies, eq(constituencies.onsCode, pledgeTallies.key))
      .where(
        and(
          eq(pledgeTallies.campaignId, campaignId),
          eq(pledgeTallies.dimension, "constituency"),
          eq(constituencies.isTest, false),
        ),
      )
      .groupBy(constituencies.nation),
  ]);
  const byNation: Record<string, number> = { England: 0, Scotland: 0, Wales: 0, "Northern Ireland": 0 };
  for (const r of rows) byNation[r.nation] = Number(r.n);
  return {
    campaignId,
    supporters: { total: totals.pledges, byNation },
    representatives: { verified: totals.repPledges, byKind: totals.repPledgesByKind },
    letters: { total: totals.letters },
  };
}

/**
 * Verified representatives' pledges that count in public: MPs and candidates of real seats (the
 * ZZ9 9ZZ test seat never counts) and MSPs, MSs and MLAs. Joins constituencies and
 * devolved_areas (left joins: a row has one or the other).
 */
const publicRepPledge = (deps: Pick<Deps, "config">) =>
  and(
    eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
    eq(repPledges.status, "verified"),
    or(eq(constituencies.isTest, false), isNotNull(devolvedAreas.code)),
  );

const NATION_OF_BODY = sql<string>`case ${devolvedAreas.body} when 'scottish_parliament' then 'Scotland' when 'senedd' then 'Wales' when 'ni_assembly' then 'Northern Ireland' end`;

export async function countPublicRepPledges(deps: Deps): Promise<number> {
  const [reps] = await deps.db
    .select({ n: sql<number>`count(*)` })
    .from(repPledges)
    .leftJoin(constituencies, eq(constituencies.onsCode, repPledges.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, repPledges.areaCode))
    .where(publicRepPledge(deps));
  return Number(reps?.n ?? 0);
}

/** Verified public pledges by kind (mp, candidate, msp, ms, mla) and nation, for the dashboard. */
export async function repPledgeCounts(deps: Deps): Promise<{ kind: RepKind; nation: string; n: number }[]> {
  const rows = await deps.db
    .select({
      kind: repPledges.kind,
      nation: sql<string>`coalesce(${constituencies.nation}, ${NATION_OF_BODY})`,
      n: sql<number>`count(*)`,
    })
    .from(repPledges)
    .leftJoin(constituencies, eq(constituencies.onsCode, repPledges.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, repPledges.areaCode))
    .where(publicRepPledge(deps))
    .groupBy(repPledges.kind, sql`2`);
  return rows.map((r) => ({ kind: r.kind, nation: r.nation, n: Number(r.n) }));
}

export type WallEntry = {
  kind: RepKind;
  /** MP, candidate, MSP, MS, MLA. */
  role: string;
  name: string;
  party: string | null;
  /** The Westminster seat (MPs, candidates) or the devolved constituency or region. */
  constituency: { code: string; name: string; nation: string };
  verifiedAt: string;
};
export type PledgeWall = { parties: { party: string; pledges: WallEntry[] }[]; total: number };

export async function pledgeWall(deps: Deps): Promise<PledgeWall> {
  const rows = await deps.db
    .select({
      kind: repPledges.kind,
      name: repPledges.name,
      party: repPledges.party,
      code: sql<string>`coalesce(${constituencies.onsCode}, ${devolvedAreas.code})`,
      constituency: sql<string>`coalesce(${constituencies.name}, ${devolvedAreas.name})`,
      nation: sql<string>`coalesce(${constituencies.nation}, ${NATION_OF_BODY})`,
      verifiedAt: repPledges.verifiedAt,
    })
    .from(repPledges)
    .leftJoin(constituencies, eq(constituencies.onsCode, repPledges.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, repPledges.areaCode))
    .where(publicRepPledge(deps))
    .orderBy(asc(repPledges.party), sql`3`, asc(repPledges.name));
  const parties = new Map<string, WallEntry[]>();
  for (const r of rows) {
    const party = r.party ?? "Independent / no party";
    const list = parties.get(party) ?? [];
    list.push({
      kind: r.kind,
      role: r.kind === "candidate" ? "candidate" : BODY_INFO[bodyOfRepKind(r.kind)].role,
      name: r.name,
      party: r.party,
      constituency: { code: r.code, name: r.constituency, nation: r.nation },
      verifiedAt: new Date(r.verifiedAt ?? 0).toISOString(),
    });
    parties.set(party, list);
  }
  return {
    parties: [...parties].map(([party, pledges]) => ({ party, pledges })),
    total: rows.length,
  };
}

// --- representatives' pledges (MPs, candidates, MSPs, MSs, MLAs) --------------------------------

export type RepTarget = {
  kind: RepKind;
  /** MP, candidate, MSP, MS, MLA. */
  role: string;
  personId: number;
  electionId: string | null;
  name: string;
  party: string | null;
  email: string | null;
  /** The Westminster seat, or the devolved constituency or region the member sits for. */
  constituency: { code: string; name: string };
  status: "not_pledged" | "requested" | "verified";
};

/** The representative a pledge page is about, with their pledge status. */
export async function repTarget(deps: Deps, ref: RepRef): Promise<RepTarget> {
  let base: Omit<RepTarget, "status"> | undefined;
  if (ref.kind === "msp" || ref.kind === "ms" || ref.kind === "mla") {
    const body = bodyOfRepKind(ref.kind) as DevolvedBody;
    const [m] = await deps.db
      .select({
        personId: devolvedMembers.id,
        name: devolvedMembers.name,
        party: devolvedMembers.party,
        email: devolvedMembers.email,
        code: devolvedAreas.code,
        area: devolvedAreas.name,
      })
      .from(devolvedMembers)
      .innerJoin(devolvedAreas, eq(devolvedAreas.code, devolvedMembers.areaCode))
      .where(and(eq(devolvedMembers.id, ref.personId), eq(devolvedMembers.body, body)));
    if (m)
      base = {
        kind: ref.kind,
        role: BODY_INFO[body].role,
        personId: m.personId,
        electionId: null,
        name: m.name,
        party: m.party,
        email: m.email,
        constituency: { code: m.code, name: m.area },
      };
  }
  if (ref.kind === "mp") {
    const [m] = await deps.db
      .select({
        personId: members.parliamentId,
        name: members.name,
        party: members.party,
        email: members.email,
        code: constituencies.onsCode,
        constituency: constituencies.name,
      })
      .from(members)
      .innerJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
      .where(and(eq(members.constituencyCode, ref.code), eq(members.status, "sitting")));
    if (m?.personId != null && m.name)
      base = {
        kind: "mp",
        role: "MP",
        personId: m.personId,
        electionId: null,
        name: m.name,
        party: m.party,
        email: m.email,
        constituency: { code: m.code, name: m.constituency },
      };
  } else if (deps.config.ELECTION_ID) {
    const [c] = await deps.db
      .select({
        personId: candidates.personId,
        name: candidates.name,
        party: candidates.party,
        email: candidates.email,
        code: constituencies.onsCode,
        constituency: constituencies.name,
      })
      .from(candidates)
      .innerJoin(constituencies, eq(constituencies.onsCode, candidates.constituencyCode))
      .where(and(eq(candidates.electionId, deps.config.ELECTION_ID), eq(candidates.personId, ref.personId)));
    if (c)
      base = {
        kind: "candidate",
        role: "candidate",
        personId: c.personId,
        electionId: deps.config.ELECTION_ID,
        name: c.name,
        party: c.party,
        email: c.email,
        constituency: { code: c.code, name: c.constituency },
      };
  }
  if (!base) throw new AppError("representative_not_found", "We have no such representative on record.");
  const [p] = await deps.db
    .select({ status: repPledges.status })
    .from(repPledges)
    .where(
      and(
        eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
        eq(repPledges.kind, base.kind),
        eq(repPledges.personId, base.personId),
      ),
    );
  return { ...base, status: p?.status ?? "not_pledged" };
}

function repRow(deps: Deps, t: RepTarget, now: number) {
  return {
    id: deps.ids.uuid(),
    campaignId: deps.config.CAMPAIGN_ID,
    kind: t.kind,
    personId: t.personId,
    electionId: t.electionId,
    // An MP's or candidate's pledge names their Westminster seat; a devolved member's their area.
    constituencyCode: t.kind === "mp" || t.kind === "candidate" ? t.constituency.code : null,
    areaCode: t.kind === "mp" || t.kind === "candidate" ? null : t.constituency.code,
    name: t.name,
    party: t.party,
    requestedAt: now,
  };
}

/**
 * Send the pledge link to the representative's official address (never to an address the
 * requester types). In MAIL_MODE=reflect there is no safe place to send it, so nothing is
 * queued.
 */
export async function requestRepPledgeLink(
  deps: Deps,
  ref: RepRef,
): Promise<{ status: "sent" | "already_verified" | "recently_sent" }> {
  const target = await repTarget(deps, ref);
  if (target.status === "verified") return { status: "already_verified" };
  if (!target.email)
    throw new AppError(
      "recipient_not_contactable",
      "We don't hold an official email address for this representative, so we can't send the pledge link.",
    );
  const now = deps.clock.now();
  const mine = and(
    eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
    eq(repPledges.kind, target.kind),
    eq(repPledges.personId, target.personId),
  );
  await deps.db
    .insert(repPledges)
    .values({ ...repRow(deps, target, now), status: "requested" })
    .onConflictDoNothing();
  const [row] = await deps.db.select({ id: repPledges.id }).from(repPledges).where(mine);
  if (!row) throw new AppError("representative_not_found", "We have no such MP or candidate on record.");
  // One conditional UPDATE claims the right to send (once an hour at most); the mail is queued in
  // the same batch, only if this request's claim took effect (link_mail_id names it).
  const claim = (mailId: string | null) =>
    deps.db
      .update(repPledges)
      .set({ linkSentAt: now, linkMailId: mailId })
      .where(
        and(
          mine,
          eq(repPledges.status, "requested"),
          or(isNull(repPledges.linkSentAt), lt(repPledges.linkSentAt, now - REP_LINK_PAUSE_MS)),
        ),
      );
  if (deps.config.MAIL_MODE === "reflect") {
    // No safe place to send it: record the claim, queue nothing.
    const claimed = await claim(null).returning({ id: repPledges.id });
    if (!claimed.length) return { status: "recently_sent" };
    deps.logger.warn("representative pledge link not sent in reflect mode", { kind: target.kind });
    return { status: "sent" };
  }
  const token = await signToken(deps.config, {
    purpose: PURPOSE.repVerify,
    subject: row.id,
    expiresAt: now + deps.config.REP_PLEDGE_LINK_DAYS * DAY_MS,
  });
  const mail = serviceMailRow(deps, {
    to: { name: target.name, address: target.email },
    subject: `Sign the ${deps.config.campaign.hashtag} pledge`,
    template: "emails/pledge-rep-verify.txt",
    data: {
      name: target.name,
      role: target.kind === "candidate" ? "a candidate" : `the ${target.role}`,
      constituency: target.constituency.name,
      verifyUrl: `${deps.config.PUBLIC_URL}/pledge/rep/verify?token=${encodeURIComponent(token)}`,
      ttlDays: deps.config.REP_PLEDGE_LINK_DAYS,
    },
  });
  const written = await deps.atomic([
    claim(mail.id),
    insertOutboxWhere(
      deps,
      mail,
      sql`exists (select 1 from ${repPledges} where ${repPledges.linkMailId} = ${mail.id})`,
    ),
  ]);
  if (written[1]) await announceInserted(deps, [mail]);
  const [after] = await deps.db.select({ mailId: repPledges.linkMailId }).from(repPledges).where(mine);
  return { status: after?.mailId === mail.id ? "sent" : "recently_sent" };
}

/**
 * The signed link a representative signs the pledge with (the page it opens has the button), for
 * mail the campaign sends to their official address anyway (the office digest). The pledge row is
 * made `requested` if there is none; null when they have already signed.
 */
export async function signedPledgeLink(deps: Deps, ref: RepRef): Promise<string | null> {
  const target = await repTarget(deps, ref);
  if (target.status === "verified") return null;
  const now = deps.clock.now();
  // A fresh request time keeps the row (retention removes requests older than their links).
  await deps.db
    .insert(repPledges)
    .values({ ...repRow(deps, target, now), status: "requested" })
    .onConflictDoUpdate({
      target: [repPledges.campaignId, repPledges.kind, repPledges.personId],
      set: { requestedAt: now },
      setWhere: eq(repPledges.status, "requested"),
    });
  const [row] = await deps.db
    .select({ id: repPledges.id, status: repPledges.status })
    .from(repPledges)
    .where(
      and(
        eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
        eq(repPledges.kind, target.kind),
        eq(repPledges.personId, target.personId),
      ),
    );
  if (!row || row.status === "verified") return null;
  const token = await signToken(deps.config, {
    purpose: PURPOSE.repVerify,
    subject: row.id,
    expiresAt: now + deps.config.REP_PLEDGE_LINK_DAYS * DAY_MS,
  });
  return `${deps.config.PUBLIC_URL}/pledge/rep/verify?token=${encodeURIComponent(token)}`;
}

async function repPledgeFromToken(deps: Deps, token: string) {
  const { subject } = await verifyToken(deps.config, token, PURPOSE.repVerify, deps.clock.now());
  const [row] = await deps.db
    .select({
      id: repPledges.id,
      name: repPledges.name,
      kind: repPledges.kind,
      status: repPledges.status,
      constituency: sql<string>`coalesce(${constituencies.name}, ${devolvedAreas.name})`,
    })
    .from(repPledges)
    .leftJoin(constituencies, eq(constituencies.onsCode, repPledges.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, repPledges.areaCode))
    .where(eq(repPledges.id, subject));
  if (!row) throw new AppError("pledge_not_found", "This pledge request is no longer on record.");
  return row;
}

export const repPledgeForToken = (deps: Deps, input: { token: string }) =>
  repPledgeFromToken(deps, input.token);

/** The representative presses the button on the page the link opens. Idempotent. */
export async function verifyRepPledge(deps: Deps, input: { token: string }) {
  const row = await repPledgeFromToken(deps, input.token);
  const now = deps.clock.now();
  // The pledge and the partners' `representative.pledged` events: one write (replays add nothing).
  await deps.atomic([
    deps.db
      .update(repPledges)
      .set({ status: "verified", verifiedBy: "link", verifiedAt: now })
      .where(and(eq(repPledges.id, row.id), eq(repPledges.status, "requested"))),
    repPledgedEvent(deps, eq(repPledges.id, row.id), now),
  ]);
  await announceWebhookEvents(deps, now);
  deps.logger.info("representative pledge verified", { by: "link", kind: row.kind });
  return { status: "verified" as const, name: row.name, constituency: row.constituency };
}

/** A campaign lead records a pledge they witnessed, with a note saying how. */
export async function adminVerifyRepPledge(deps: Deps, input: AdminVerifyInput & { userId: string }) {
  const ref: RepRef =
    input.kind === "mp" ? { kind: "mp", code: input.ref } : { kind: input.kind, personId: Number(input.ref) };
  const target = await repTarget(deps, ref);
  const now = deps.clock.now();
  const verified = {
    status: "verified" as const,
    verifiedBy: "admin" as const,
    verifiedNote: input.note,
    verifiedByUser: input.userId,
    verifiedAt: now,
  };
  await deps.atomic([
    deps.db
      .insert(repPledges)
      .values({ ...repRow(deps, target, now), ...verified })
      .onConflictDoUpdate({
        target: [repPledges.campaignId, repPledges.kind, repPledges.personId],
        set: verified,
        setWhere: eq(repPledges.status, "requested"),
      }),
    repPledgedEvent(
      deps,
      and(
        eq(repPledges.campaignId, deps.config.CAMPAIGN_ID),
        eq(repPledges.kind, target.kind),
        eq(repPledges.personId, target.personId),
      ) as SQL,
      now,
    ),
  ]);
  await announceWebhookEvents(deps, now);
  deps.logger.info("representative pledge verified", { by: "admin", kind: target.kind });
  return { ...target, status: "verified" as const };
}
