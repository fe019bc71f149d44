/**
 * The digest each representative's office can get: one email per period summarising how many
 * constituents wrote and on which asks, a few stories their writers agreed to share with the
 * office, and the representative's signed pledge link.
 *
 * Rules:
 * - Off unless the campaign file turns it on (`digest.enabled`); even then only MAIL_MODE=live
 *   reaches a real office: in capture nothing leaves, in reflect (and always for the ZZ9 9ZZ test
 *   MP) it goes to the campaign's own address (MAIL_FROM) instead.
 * - A period is `digest.everyDays` long, counted from Monday 1 January 2024 (so weekly digests
 *   cover Monday to Sunday); a run sends the last complete period's digest to each office that
 *   had letters confirmed in it. One digest per office per period: the digests row (UNIQUE) and
 *   its outbox row are one atomic write, the mail inserted only if the row names it, so a second
 *   run, or two processes at once, send nothing more.
 * - Sent through the outbox (a `service` row: retried, paused, captured like all mail).
 * - Stories: only from letters whose writers ticked the separate, unticked story box, their own
 *   words only, never a name or an address; at most `digest.stories`, newest first.
 * - Bounded by a query budget (a Worker's cron run): an office costs about OFFICE_QUERIES; a run
 *   that has no room left stops, and the next run (hourly) carries on with the offices not done.
 * - One-click opt-out: every digest carries a signed link whose page has a button (link scanners
 *   only GET); the POST records the office's opt-out, and no digest goes to it again.
 */
import { and, eq, gte, inArray, isNotNull, lt, sql } from "drizzle-orm";
import { devolvedMembers, digestOptOuts, digests, letters, members } from "../../db/schema";
import { DIGEST_RECIPIENT_KINDS } from "../../db/schema.replies";
import type { Deps } from "../../deps";
import { affords, type QueryBudget, unlimited } from "../../lib/budget";
import { AppError } from "../../lib/errors";
import { signToken, verifyToken } from "../../lib/tokens";
import { announceInserted, insertOutboxWhere } from "../delivery/delivery.machine";
import { outboxRow } from "../delivery/delivery.outbox";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { renderText } from "../letters/letters.templates";
import { signedPledgeLink } from "../pledges/pledges.service";

const DAY = 86_400_000;
/** Monday 1 January 2024, 00:00 UTC: periods are counted from here, so weeks start on Mondays. */
const EPOCH = Date.UTC(2024, 0, 1);
const OPT_OUT_PURPOSE = "digest.optout";
/** An opt-out link keeps working for a year (offices read their mail late). */
const OPT_OUT_LINK_MS = 365 * DAY;
/** Queries one office's digest costs at most (address, pledge link, asks, stories, the write). */
const OFFICE_QUERIES = 8;
/** A story quoted in a digest is cut to this many characters. */
const STORY_CHARS = 700;

type Kind = (typeof DIGEST_RECIPIENT_KINDS)[number];

/** The last complete period before `now`: [from, to). */
export function lastPeriod(now: number, everyDays: number) {
  const length = everyDays * DAY;
  const to = EPOCH + Math.floor((now - EPOCH) / length) * length;
  const from = to - length;
  return { from, to, start: new Date(from).toISOString().slice(0, 10) };
}

const dateWords = (ms: number) =>
  new Date(ms).toLocaleDateString("en-GB", {
    day: "numeric",
    month: "long",
    year: "numeric",
    timeZone: "UTC",
  });

/** Letters confirmed in [from, to) per office, with their all-time total. */
async function officesWithLetters(deps: Deps, from: number, to: number) {
  const inPeriod = sql`${letters.confirmedAt} >= ${from} and ${letters.confirmedAt} < ${to}`;
  return deps.db
    .select({
      kind: letters.recipientKind,
      personId: sql<number>`${letters.recipientPersonId}`,
      constituencyCode: sql<string>`max(${letters.constituencyCode})`,
      areaCode: sql<string | null>`max(${letters.areaCode})`,
      period: sql<number>`sum(case when ${inPeriod} then 1 else 0 end)`,
      total: sql<number>`count(*)`,
    })
    .from(letters)
    .where(
      and(
        inArray(letters.recipientKind, [...DIGEST_RECIPIENT_KINDS]),
        isNotNull(letters.recipientPersonId),
        isNotNull(letters.confirmedAt),
        lt(letters.confirmedAt, to),
        eq(letters.campaignId, deps.config.CAMPAIGN_ID),
      ),
    )
    .groupBy(letters.recipientKind, letters.recipientPersonId)
    .having(sql`sum(case when ${inPeriod} then 1 else 0 end) > 0`);
}

/** The office's current name and address (a representative who left gets nothing). */
async function officeAddress(deps: Deps, o: { kind: Kind; personId: number; constituencyCode: string }) {
  if (o.kind === "mp") {
    const [m] = await deps.db
      .select({
        name: members.name,
        email: members.email,
        reflects: members.reflectsToSender,
        code: members.constituencyCode,
      })
      .from(members)
      .where(and(eq(members.parliamentId, o.personId), eq(members.status, "sitting")));
    return m?.name && m.email ? { name: m.name, email: m.email, reflects: m.reflects, code: m.code } : null;
  }
  const [m] = await deps.db
    .select({ name: devolvedMembers.name, email: devolvedMembers.email, code: devolvedMembers.areaCode })
    .from(devolvedMembers)
    .where(eq(devolvedMembers.id, o.personId));
  return m?.email ? { name: m.name, email: m.email, reflects: false, code: m.code } : null;
}

/** Asks chosen in the office's letters of the period, most chosen first. */
async function askCounts(deps: Deps, o: { kind: Kind; personId: number }, from: number, to: number) {
  const rows = await deps.db
    .select({ ask: sql<string>`j.value`, n: sql<number>`count(*)` })
    .from(letters)
    .innerJoin(sql`json_each(${letters.asks}) j`, sql`1 = 1`)
    .where(
      and(
        eq(letters.recipientKind, o.kind),
        eq(letters.recipientPersonId, o.personId),
        gte(letters.confirmedAt, from),
        lt(letters.confirmedAt, to),
      ),
    )
    .groupBy(sql`j.value`);
  const titles = new Map(deps.config.campaign.asks.map((a) => [a.id, a.title]));
  return rows
    .filter((r) => titles.has(r.ask))
    .map((r) => ({ title: titles.get(r.ask) as string, n: Number(r.n) }))
    .sort((a, b) => b.n - a.n || a.title.localeCompare(b.title));
}

/** Stories shared with the office by their writers' own consent: words only, newest first. */
async function sharedStories(deps: Deps, o: { kind: Kind; personId: number }, from: number, to: number) {
  const limit = deps.config.campaign.digest.stories;
  if (limit === 0) return [];
  const rows = await deps.db
    .select({ story: letters.sharedStory })
    .from(letters)
    .where(
      and(
        eq(letters.recipientKind, o.kind),
        eq(letters.recipientPersonId, o.personId),
        gte(letters.confirmedAt, from),
        lt(letters.confirmedAt, to),
        isNotNull(letters.storyShareConsentVersion),
        isNotNull(letters.sharedStory),
      ),
    )
    .orderBy(sql`${letters.confirmedAt} desc`)
    .limit(limit);
  return rows
    .map((r) => (r.story ?? "").trim())
    .filter(Boolean)
    .map((s) => (s.length > STORY_CHARS ? `${s.slice(0, STORY_CHARS).trimEnd()}…` : s));
}

export type DigestReport = {
  enabled: boolean;
  period: string;
  queued: number;
  skipped: number;
  /** Offices left for the next run (the query budget ran out). */
  more: boolean;
};

/** Queue the last complete period's digest for every office that had letters in it. Idempotent. */
export async function runDigests(deps: Deps, opts: { budget?: QueryBudget } = {}): Promise<DigestReport> {
  const settings = deps.config.campaign.digest;
  const budget = opts.budget ?? unlimited;
  const period = lastPeriod(deps.clock.now(), settings.everyDays);
  if (!settings.enabled) return { enabled: false, period: period.start, queued: 0, skipped: 0, more: false };
  if (!affords(budget, 3 + OFFICE_QUERIES))
    return { enabled: true, period: period.start, queued: 0, skipped: 0, more: true };
  const campaign = deps.config.campaign;
  const offices = await officesWithLetters(deps, period.from, period.to);
  const done = new Set(
    (
      await deps.db
        .select({ kind: digests.recipientKind, personId: digests.personId })
        .from(digests)
        .where(and(eq(digests.campaignId, campaign.id), eq(digests.periodStart, period.start)))
    ).map((d) => `${d.kind}:${d.personId}`),
  );
  const optedOut = new Set(
    (
      await deps.db
        .select({ kind: digestOptOuts.recipientKind, personId: digestOptOuts.personId })
        .from(digestOptOuts)
        .where(eq(digestOptOuts.campaignId, campaign.id))
    ).map((d) => `${d.kind}:${d.personId}`),
  );
  let queued = 0;
  let skipped = 0;
  let more = false;
  for (const o of offices) {
    const kind = o.kind as Kind;
    const key = `${kind}:${o.personId}`;
    if (done.has(key) || optedOut.has(key)) continue;
    if (!affords(budget, OFFICE_QUERIES)) {
      more = true;
      break;
    }
    const office = await officeAddress(deps, {
      kind,
      personId: o.personId,
      constituencyCode: o.constituencyCode,
    });
    if (!office) {
      skipped++;
      continue;
    }
    const role = BODY_INFO[bodyOfRepKind(kind)].role;
    const optOut = await signToken(deps.config, {
      purpose: OPT_OUT_PURPOSE,
      subject: key,
      expiresAt: deps.clock.now() + OPT_OUT_LINK_MS,
    });
    const pledgeUrl = await signedPledgeLink(
      deps,
      kind === "mp" ? { kind: "mp", code: office.code } : { kind, personId: o.personId },
    );
    const n = Number(o.period);
    const text = renderText(deps, "emails/digest.txt", {
      recipient: { name: office.name, role },
      campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
      period: { from: dateWords(period.from), to: dateWords(period.to - DAY) },
      letters: n,
      total: Number(o.total),
      asks: await askCounts(deps, { kind, personId: o.personId }, period.from, period.to),
      stories: await sharedStories(deps, { kind, personId: o.personId }, period.from, period.to),
      pledgeUrl,
      optOutUrl: `${deps.config.PUBLIC_URL}/digest/opt-out?token=${optOut}`,
    });
    const mail = outboxRow(deps, {
      kind: "service",
      letterId: null,
      state: "queued",
      toName: office.name,
      toEmail: office.email,
      // Never to a real office unless MAIL_MODE=live: reflected mail goes to the campaign itself.
      reflectTo: deps.config.MAIL_FROM,
      alwaysReflect: office.reflects,
      fromName: campaign.hashtag,
      subject: `${n} ${n === 1 ? "constituent" : "constituents"} wrote to you about the ${campaign.name}`,
      bodyText: text,
    });
    const id = deps.ids.uuid();
    const written = await deps.atomic([
      deps.db
        .insert(digests)
        .values({
          id,
          campaignId: campaign.id,
          recipientKind: kind,
          personId: o.personId,
          periodStart: period.start,
          outboxId: mail.id,
          letters: n,
          createdAt: deps.clock.now(),
        })
        .onConflictDoNothing(),
      insertOutboxWhere(
        deps,
        mail,
        sql`exists (select 1 from ${digests} where ${digests.outboxId} = ${mail.id})`,
      ),
    ]);
    // Committed: hand it to the runtime's sender (Workers: the delivery queue).
    if (written[1]) await announceInserted(deps, [mail]);
    queued++;
  }
  if (queued || skipped || more)
    deps.logger.info("digests queued", { period: period.start, queued, skipped, more });
  return { enabled: true, period: period.start, queued, skipped, more };
}

/** The office an opt-out link names. */
async function officeFromToken(deps: Deps, token: string) {
  const { subject } = await verifyToken(deps.config, token, OPT_OUT_PURPOSE, deps.clock.now());
  const [kind, id] = subject.split(":");
  const personId = Number(id);
  if (!(DIGEST_RECIPIENT_KINDS as readonly string[]).includes(kind ?? "") || !Number.isInteger(personId))
    throw new AppError("token_invalid");
  const [out] = await deps.db
    .select({ at: digestOptOuts.optedOutAt })
    .from(digestOptOuts)
    .where(
      and(
        eq(digestOptOuts.campaignId, deps.config.CAMPAIGN_ID),
        eq(digestOptOuts.recipientKind, kind as Kind),
        eq(digestOptOuts.personId, personId),
      ),
    );
  return { kind: kind as Kind, personId, optedOut: !!out };
}

/** What the opt-out page shows before the button is pressed (GET changes nothing). */
export const digestOptOutStatus = (deps: Deps, input: { token: string }) =>
  officeFromToken(deps, input.token);

/** The office asks for no more digests: recorded once (a second press changes nothing). */
export async function optOutOfDigests(deps: Deps, input: { token: string }) {
  const office = await officeFromToken(deps, input.token);
  await deps.db
    .insert(digestOptOuts)
    .values({
      campaignId: deps.config.CAMPAIGN_ID,
      recipientKind: office.kind,
      personId: office.personId,
      optedOutAt: deps.clock.now(),
    })
    .onConflictDoNothing();
  if (!office.optedOut) deps.logger.info("digest opt-out", { kind: office.kind });
  return { ...office, optedOut: true };
}

/** For the dashboard: whether digests are on, the latest period sent, and offices opted out. */
export async function digestStatus(deps: Deps) {
  const settings = deps.config.campaign.digest;
  const [latest] = await deps.db
    .select({ period: digests.periodStart, n: sql<number>`count(*)` })
    .from(digests)
    .where(eq(digests.campaignId, deps.config.CAMPAIGN_ID))
    .groupBy(digests.periodStart)
    .orderBy(sql`${digests.periodStart} desc`)
    .limit(1);
  const [out] = await deps.db
    .select({ n: sql<number>`count(*)` })
    .from(digestOptOuts)
    .where(eq(digestOptOuts.campaignId, deps.config.CAMPAIGN_ID));
  return {
    enabled: settings.enabled,
    everyDays: settings.everyDays,
    latest: latest ? { period: latest.period, offices: Number(latest.n) } : null,
    optedOut: Number(out?.n ?? 0),
  };
}
