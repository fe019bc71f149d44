/**
 * What the campaign leads' dashboard reads.
 *
 * Rules:
 * - Pledge figures come from pledge_tallies (a few hundred rows), never from scanning pledges.
 * - Letter figures come from letter_tallies (admin.tallies.ts): a letter counts once its writer
 *   confirmed it. Letters of every campaign file are counted together.
 * - The test seat is left out of every figure.
 * - Outbox and moderation actions are events of the delivery state machine (delivery.machine.ts):
 *   it makes the change, only from the states its table allows, letter and outbox together.
 */
import { and, desc, eq, or, sql } from "drizzle-orm";
import {
  constituencies,
  devolvedAreas,
  letters,
  letterTallies,
  members,
  outbox,
  pledgeTallies,
  recipientFlags,
  repPledges,
} from "../../db/schema";
import { BODIES, type Body, DEVOLVED_BODIES } from "../../db/schema.devolved";
import type { RepKind } from "../../db/schema.pledges";
import type { Deps } from "../../deps";
import { AppError } from "../../lib/errors";
import { EVENTS, transition } from "../delivery/delivery.machine";
import type { RelayReason } from "../delivery/delivery.mail";
import { RELAY_REASONS, relayState } from "../delivery/delivery.relay";
import { outboxCounts, requeueOutbox } from "../delivery/delivery.service";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { digestStatus } from "../digest/digest.service";
import { FLAG_REASONS, type LetterFlag } from "../letters/letters.flags";
import { membersStatus } from "../members/members.service";
import { repPledgeCounts } from "../pledges/pledges.service";
import { campaignTotals } from "./admin.counts";
import { replyRates } from "./admin.replies";

const DAY_MS = 86_400_000;
/** Days shown on the over-time chart. */
export const CHART_DAYS = 90;
/** Failed/dead/bounced messages listed on the outbox page. */
const PROBLEMS_SHOWN = 100;

export type Row = { key: string; label: string; pledges: number; letters: number };

const num = (v: unknown) => Number(v ?? 0);

/** Pledges and letters per constituency (real seats only), with the seat's attributes. */
export async function byConstituency(deps: Deps) {
  const campaignId = deps.config.CAMPAIGN_ID;
  const seats = await deps.db
    .select({
      code: constituencies.onsCode,
      name: constituencies.name,
      nation: constituencies.nation,
      region: constituencies.regionName,
      hexQ: constituencies.hexQ,
      hexR: constituencies.hexR,
      party: members.party,
      mp: members.name,
      pledges: sql<number>`coalesce(${pledgeTallies.n}, 0)`,
    })
    .from(constituencies)
    .leftJoin(members, eq(members.constituencyCode, constituencies.onsCode))
    .leftJoin(
      pledgeTallies,
      and(
        eq(pledgeTallies.campaignId, campaignId),
        eq(pledgeTallies.dimension, "constituency"),
        eq(pledgeTallies.key, constituencies.onsCode),
      ),
    )
    .where(eq(constituencies.isTest, false))
    .orderBy(constituencies.name);
  const letterRows = await letterTallyRows(deps, "constituency");
  const lettersBy = new Map(letterRows.map((r) => [r.key, r.n]));
  return seats.map((s) => ({ ...s, pledges: num(s.pledges), letters: lettersBy.get(s.code) ?? 0 }));
}

export type SeatFigures = Awaited<ReturnType<typeof byConstituency>>[number];

function groupBy(seats: SeatFigures[], keyOf: (s: SeatFigures) => string | null): Row[] {
  const m = new Map<string, Row>();
  for (const s of seats) {
    const key = keyOf(s) ?? "(none)";
    const row = m.get(key) ?? { key, label: key, pledges: 0, letters: 0 };
    row.pledges += s.pledges;
    row.letters += s.letters;
    m.set(key, row);
  }
  return [...m.values()].sort((a, b) => b.pledges + b.letters - (a.pledges + a.letters));
}

export async function overTime(deps: Deps): Promise<{ day: string; pledges: number; letters: number }[]> {
  const now = deps.clock.now();
  const start = Math.floor(now / DAY_MS) * DAY_MS - (CHART_DAYS - 1) * DAY_MS;
  const days: { day: string; pledges: number; letters: number }[] = [];
  for (let t = start; t <= now; t += DAY_MS)
    days.push({ day: new Date(t).toISOString().slice(0, 10), pledges: 0, letters: 0 });
  const index = new Map(days.map((d, i) => [d.day, i]));
  const pledgeDays = await deps.db
    .select({ key: pledgeTallies.key, n: pledgeTallies.n })
    .from(pledgeTallies)
    .where(
      and(
        eq(pledgeTallies.campaignId, deps.config.CAMPAIGN_ID),
        eq(pledgeTallies.dimension, "day"),
        sql`${pledgeTallies.key} >= ${days[0]?.day ?? ""}`,
      ),
    );
  for (const r of pledgeDays) {
    const i = index.get(r.key);
    if (i !== undefined) (days[i] as { pledges: number }).pledges = r.n;
  }
  const letterDays = await letterTallyRows(deps, "day", days[0]?.day);
  for (const r of letterDays) {
    const i = index.get(r.key);
    if (i !== undefined) (days[i] as { letters: number }).letters = r.n;
  }
  return days;
}

export async function byPartner(deps: Deps): Promise<Row[]> {
  const pledges = await deps.db
    .select({ key: pledgeTallies.key, n: pledgeTallies.n })
    .from(pledgeTallies)
    .where(
      and(eq(pledgeTallies.campaignId, deps.config.CAMPAIGN_ID), eq(pledgeTallies.dimension, "partner")),
    );
  const lettersBy = await letterTallyRows(deps, "partner");
  const m = new Map<string, Row>();
  const at = (key: string) => {
    const row = m.get(key) ?? { key, label: key || "(direct, no partner)", pledges: 0, letters: 0 };
    m.set(key, row);
    return row;
  };
  for (const r of pledges) at(r.key).pledges += r.n;
  for (const r of lettersBy) at(r.key).letters += r.n;
  return [...m.values()].sort((a, b) => b.pledges + b.letters - (a.pledges + a.letters));
}

/** A letter tally's recipient key: "kind|code|name" (code: the Westminster seat, or the devolved area). */
function parseRecipientKey(key: string) {
  const [kind = "", code = "", ...name] = key.split("|");
  return { kind, code, name: name.join("|") };
}

export async function mostWrittenTo(deps: Deps, limit = 15) {
  const rows = await deps.db
    .select({ key: letterTallies.key, n: sql<number>`sum(${letterTallies.n})` })
    .from(letterTallies)
    .where(eq(letterTallies.dimension, "recipient"))
    .groupBy(letterTallies.key)
    .orderBy(desc(sql`2`))
    .limit(limit + 5);
  const seats = await placeNames(deps);
  return rows
    .map((r) => {
      const { kind, code, name } = parseRecipientKey(r.key);
      const seat = seats.get(code);
      return {
        kind,
        role: kind === "candidate" ? "candidate" : kind.toUpperCase(),
        name,
        constituency: seat?.name ?? code,
        isTest: !!seat?.isTest,
        n: num(r.n),
      };
    })
    .filter((r) => !r.isTest)
    .slice(0, limit);
}

/** Westminster seats and devolved areas by code: name, nation, test seat. */
async function placeNames(deps: Deps) {
  const seats = await deps.db
    .select({
      code: constituencies.onsCode,
      name: constituencies.name,
      nation: constituencies.nation,
      isTest: constituencies.isTest,
    })
    .from(constituencies);
  const areas = await deps.db
    .select({ code: devolvedAreas.code, name: devolvedAreas.name, body: devolvedAreas.body })
    .from(devolvedAreas);
  const out = new Map<string, { name: string; nation: string; isTest: boolean }>(
    seats.map((s) => [s.code, s]),
  );
  for (const a of areas)
    out.set(a.code, { name: a.name, nation: BODY_INFO[a.body].nation ?? "", isTest: false });
  return out;
}

export type BodyNationRow = {
  body: Body;
  bodyName: string;
  role: string;
  nation: string;
  /** Letters confirmed by their writers, to members (or candidates) of this body, from this nation. */
  letters: number;
  /** Verified pledges of this body's members (MPs and candidates for the Commons). */
  repPledges: number;
};

/**
 * Letters and representatives' pledges by parliament and nation: the MPs of each nation, and the
 * devolved parliaments (whose members are all of one nation). From letter_tallies' recipient
 * keys (a few thousand rows) and the verified pledges.
 */
export async function byBodyAndNation(deps: Deps): Promise<BodyNationRow[]> {
  const rows = new Map<string, BodyNationRow>();
  const at = (body: Body, nation: string) => {
    const key = `${body}|${nation}`;
    let row = rows.get(key);
    if (!row) {
      row = {
        body,
        bodyName: BODY_INFO[body].shortName,
        role: BODY_INFO[body].role,
        nation,
        letters: 0,
        repPledges: 0,
      };
      rows.set(key, row);
    }
    return row;
  };
  for (const nation of ["England", "Scotland", "Wales", "Northern Ireland"]) at("uk_parliament", nation);
  for (const body of DEVOLVED_BODIES) at(body, BODY_INFO[body].nation ?? "");
  const places = await placeNames(deps);
  const tallies = await deps.db
    .select({ key: letterTallies.key, n: sql<number>`sum(${letterTallies.n})` })
    .from(letterTallies)
    .where(eq(letterTallies.dimension, "recipient"))
    .groupBy(letterTallies.key);
  for (const t of tallies) {
    const { kind, code } = parseRecipientKey(t.key);
    const place = places.get(code);
    if (!place || place.isTest) continue;
    at(bodyOfRepKind(kind as RepKind), place.nation).letters += num(t.n);
  }
  for (const p of await repPledgeCounts(deps)) at(bodyOfRepKind(p.kind), p.nation).repPledges += p.n;
  return [...rows.values()];
}

/** Letter tallies of one dimension, summed over campaigns (optionally keys >= `from`). */
async function letterTallyRows(deps: Deps, dimension: "day" | "constituency" | "partner", from?: string) {
  const rows = await deps.db
    .select({ key: letterTallies.key, n: sql<number>`sum(${letterTallies.n})` })
    .from(letterTallies)
    .where(
      and(
        eq(letterTallies.dimension, dimension),
        from === undefined ? undefined : sql`${letterTallies.key} >= ${from}`,
      ),
    )
    .groupBy(letterTallies.key);
  return rows.map((r) => ({ key: r.key, n: num(r.n) }));
}

export async function outboxHealth(deps: Deps) {
  const counts = await outboxCounts(deps);
  // One indexed read per state (outbox_due_ix is (state, next_attempt_at)): a sort over every
  // dead row's full record would cost more than the whole dashboard.
  const perState = await Promise.all(
    (["failed", "dead", "bounced"] as const).map((state) =>
      deps.db
        .select({
          id: outbox.id,
          kind: outbox.kind,
          state: outbox.state,
          attempts: outbox.attempts,
          lastError: outbox.lastError,
          toName: outbox.toName,
          updatedAt: outbox.updatedAt,
          nextAttemptAt: outbox.nextAttemptAt,
        })
        .from(outbox)
        .where(eq(outbox.state, state))
        .orderBy(desc(outbox.nextAttemptAt))
        .limit(PROBLEMS_SHOWN),
    ),
  );
  const problems = perState
    .flat()
    .sort((a, b) => b.updatedAt - a.updatedAt)
    .slice(0, PROBLEMS_SHOWN);
  return {
    counts,
    relay: await relayAlert(deps),
    flagged: await flaggedAddresses(deps),
    problems: problems.map((p) => ({
      ...p,
      updated: new Date(p.updatedAt).toISOString().slice(0, 16).replace("T", " "),
      canRetry: EVENTS.nudge.from.includes(p.state as "failed"),
      canRequeue: (EVENTS.requeue.from as readonly string[]).includes(p.state),
      canCancel: (EVENTS.cancel.from as readonly string[]).includes(p.state),
    })),
  };
}

const utc = (ms: number | null | undefined) =>
  ms ? new Date(ms).toISOString().slice(0, 16).replace("T", " ") : null;

/** The relay-paused alert for the dashboard, or null while mail flows. */
export async function relayAlert(deps: Deps) {
  const row = await relayState(deps);
  if (row?.state !== "paused") return null;
  return {
    reason: row.reason,
    explanation: RELAY_REASONS[row.reason as RelayReason] ?? "The mail relay is failing.",
    detail: row.detail,
    since: utc(row.since),
    nextProbe: utc(row.nextProbeAt),
    failures: row.failures,
  };
}

/** Representatives' addresses that hard-bounced, with who they belong to and what waits for them. */
export async function flaggedAddresses(deps: Deps) {
  // Joins rather than lists of addresses: D1 binds at most 100 variables per statement.
  const rows = await deps.db
    .select({
      address: recipientFlags.address,
      detail: recipientFlags.detail,
      source: recipientFlags.source,
      flaggedAt: recipientFlags.flaggedAt,
      name: members.name,
      constituency: constituencies.name,
      waiting: sql<number>`(select count(*) from ${outbox} o where o.kind = 'letter' and o.state in ('queued','failed') and lower(o.to_email) = ${recipientFlags.address})`,
    })
    .from(recipientFlags)
    .leftJoin(members, sql`lower(${members.email}) = ${recipientFlags.address}`)
    .leftJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
    .orderBy(desc(recipientFlags.flaggedAt))
    .limit(200);
  return rows.map((f) => ({
    address: f.address,
    detail: f.detail,
    source: f.source,
    flagged: utc(f.flaggedAt),
    name: f.name,
    constituency: f.constituency,
    /** No MP has this address any more: the data has changed since the bounce. */
    stale: f.name === null,
    waiting: Number(f.waiting),
  }));
}

/** A campaign lead checked the address (or fixed it): letters to it may go again. */
export async function clearFlag(deps: Deps, input: { address: string }) {
  const rows = await deps.db
    .delete(recipientFlags)
    .where(eq(recipientFlags.address, input.address.toLowerCase()))
    .returning({ a: recipientFlags.address });
  if (!rows.length) throw new AppError("not_found", "That address is not flagged.");
  deps.logger.info("bounced address flag cleared");
}

/** Make a failed row due now (the next worker pass claims it). */
export async function retryOutbox(deps: Deps, input: { id: string }) {
  const n = await transition(deps, "nudge", { id: input.id });
  if (!n) throw new AppError("not_found", "That message is not waiting for a retry.");
  deps.logger.info("outbox retry requested", { outboxId: input.id });
}

/** Send a dead message again, with a fresh allowance of attempts. */
export async function requeueDeadOutbox(deps: Deps, input: { id: string }) {
  if (!(await requeueOutbox(deps, input)))
    throw new AppError("not_found", "That message is not dead, so there is nothing to requeue.");
}

/** Cancel a message that has not gone yet; a cancelled letter mail cancels the letter too. */
export async function cancelOutbox(deps: Deps, input: { id: string }) {
  const n = await transition(
    deps,
    "cancel",
    { id: input.id },
    { set: { cancelReason: "cancelled by the campaign team" } },
  );
  if (!n) throw new AppError("not_found", "That message can no longer be cancelled.");
  deps.logger.info("outbox row cancelled", { outboxId: input.id });
}

/**
 * Letters for a moderator: those held when confirmed (a near-duplicate or an abuse flag), and
 * flagged letters that can't be confirmed (written "from" the representative's own address, so
 * no confirmation mail went out), each with its reasons in words.
 */
export async function moderationQueue(deps: Deps) {
  const rows = await deps.db
    .select({
      id: letters.id,
      status: letters.status,
      recipientName: letters.recipientName,
      constituency: constituencies.name,
      subject: letters.subject,
      body: letters.body,
      similarity: letters.similarity,
      flags: letters.flags,
      createdAt: letters.createdAt,
    })
    .from(letters)
    .innerJoin(constituencies, eq(constituencies.onsCode, letters.constituencyCode))
    .where(
      or(
        eq(letters.status, "held"),
        and(eq(letters.status, "awaiting_confirmation"), sql`${letters.flags} like '%representative_email%'`),
      ),
    )
    .orderBy(letters.createdAt)
    .limit(50);
  return rows.map((r) => {
    const reasons: string[] = [];
    if ((r.similarity ?? 0) >= deps.config.LETTER_SIMILARITY_HOLD)
      reasons.push(
        `${FLAG_REASONS.near_duplicate} (${Math.round((r.similarity ?? 0) * 100)}% the same words)`,
      );
    for (const f of r.flags ?? []) reasons.push(FLAG_REASONS[f as LetterFlag] ?? f);
    return {
      ...r,
      held: r.status === "held",
      reasons,
      similarityPct: r.similarity === null ? null : Math.round(r.similarity * 100),
      created: new Date(r.createdAt).toISOString().slice(0, 16).replace("T", " "),
    };
  });
}

/**
 * Release a held letter to the outbox or reject it: one transition of its letter row (the letter's
 * status follows in the same write), allowed only from `held`, so a double click does nothing the
 * second time. A flagged letter that was never confirmable can only be stopped (`cancel`).
 */
export async function moderateLetter(deps: Deps, input: { id: string; decision: "release" | "reject" }) {
  const target = { letterId: input.id, kinds: ["letter"] as const };
  let n = await transition(deps, input.decision === "release" ? "release" : "reject", target);
  if (!n && input.decision === "reject")
    n = await transition(deps, "cancel", target, {
      guard: sql`${outbox.state} = 'awaiting_confirmation' and exists (select 1 from ${letters} l where l.id = ${input.id} and l.flags is not null)`,
      set: { cancelReason: "rejected by moderator" },
    });
  if (!n) throw new AppError("not_found", "That letter is not waiting for moderation.");
  deps.logger.info("letter moderated", { letterId: input.id, decision: input.decision });
}

export async function repPledgeList(deps: Deps) {
  return deps.db
    .select({
      kind: repPledges.kind,
      name: repPledges.name,
      party: repPledges.party,
      constituency: sql<string>`coalesce(${constituencies.name}, ${devolvedAreas.name})`,
      status: repPledges.status,
      verifiedBy: repPledges.verifiedBy,
      verifiedNote: repPledges.verifiedNote,
    })
    .from(repPledges)
    .leftJoin(constituencies, eq(constituencies.onsCode, repPledges.constituencyCode))
    .leftJoin(devolvedAreas, eq(devolvedAreas.code, repPledges.areaCode))
    .where(eq(repPledges.campaignId, deps.config.CAMPAIGN_ID))
    .orderBy(desc(repPledges.verifiedAt), sql`4`)
    .limit(1000);
}

export async function dashboard(deps: Deps) {
  const seats = await byConstituency(deps);
  const [totals, days, partners, topRecipients, health, parliaments, byBody, replies, digest] =
    await Promise.all([
      // The same figures as the front page and the public counter (admin.counts.ts).
      campaignTotals(deps),
      overTime(deps),
      byPartner(deps),
      mostWrittenTo(deps),
      outboxHealth(deps),
      Promise.all(BODIES.map((b) => membersStatus(deps, b))),
      byBodyAndNation(deps),
      replyRates(deps),
      digestStatus(deps),
    ]);
  const mps = parliaments[0];
  // Seats with something to show, busiest first: a list padded with zeros says nothing.
  const topSeats = seats
    .filter((s) => s.pledges + s.letters > 0)
    .sort((a, b) => b.pledges + b.letters - (a.pledges + a.letters) || a.name.localeCompare(b.name))
    .slice(0, 15);
  return {
    totals,
    seats,
    days,
    byNation: groupBy(seats, (s) => s.nation),
    byRegion: groupBy(seats, (s) => s.region),
    byParty: groupBy(seats, (s) => s.party),
    byPartner: partners,
    topSeats,
    topRecipients,
    outbox: health.counts,
    members: mps,
    /** The members of every parliament (MPs first): sync state, seats, changes. */
    parliaments,
    byBody,
    replies: { ...replies, byRep: replies.byRep.slice(0, 15) },
    digest,
    outboxProblems: (health.counts.failed ?? 0) + (health.counts.dead ?? 0) + (health.counts.bounced ?? 0),
    relay: health.relay,
    flaggedCount: health.flagged.length,
  };
}
