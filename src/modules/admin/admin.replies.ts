/**
 * Reply rates: of the letters whose writers answered the follow-up, the share whose
 * representative replied, per representative, party and nation; and what replies said about
 * each ask.
 *
 * Rules:
 * - One definition of "answered": a letter with a follow-up answer (its latest: replied, not
 *   yet, or no). The rate is replied / answered. The test seat counts nowhere (admin.counts.ts).
 * - A representative's own rate is shown in public only once MIN answers are in
 *   (REPLY_RATE_MIN_ANSWERS); below that it is "not enough answers yet", never a number.
 * - Party is the representative's party now (members / devolved_members); nation is the writer's
 *   seat's (a devolved member's letters all come from their nation).
 * - Reads only answered letters (letters_reply_ix), a small share of all letters.
 */
import { and, eq, isNotNull, sql } from "drizzle-orm";
import { constituencies, devolvedMembers, letterReplies, letters, members } from "../../db/schema";
import { REPLY_STANCES, type ReplyStance } from "../../db/schema.replies";
import type { Deps } from "../../deps";
import { BODY_INFO, bodyOfRepKind } from "../devolved/devolved.bodies";
import { countsInFigures } from "./admin.counts";

export type ReplyFigures = { answered: number; replied: number; notYet: number; no: number; ratePct: number };

const figuresOf = (answered: number, replied: number, notYet: number, no: number): ReplyFigures => ({
  answered,
  replied,
  notYet,
  no,
  ratePct: answered ? Math.round((replied / answered) * 100) : 0,
});

const answeredLetters = and(isNotNull(letters.replyAnswer), countsInFigures(letters.constituencyCode));

/** Answers per representative, with their party now and the writers' nation. */
async function perRepresentative(deps: Pick<Deps, "db">) {
  const rows = await deps.db
    .select({
      kind: letters.recipientKind,
      personId: letters.recipientPersonId,
      name: sql<string>`max(${letters.recipientName})`,
      mpParty: sql<string | null>`max(${members.party})`,
      devolvedParty: sql<string | null>`max(${devolvedMembers.party})`,
      nation: sql<string>`max(${constituencies.nation})`,
      seat: sql<string>`max(${constituencies.name})`,
      answered: sql<number>`count(*)`,
      replied: sql<number>`sum(${letters.replyAnswer} = 'yes')`,
      notYet: sql<number>`sum(${letters.replyAnswer} = 'not_yet')`,
      no: sql<number>`sum(${letters.replyAnswer} = 'no')`,
    })
    .from(letters)
    .innerJoin(constituencies, eq(constituencies.onsCode, letters.constituencyCode))
    .leftJoin(
      members,
      and(eq(letters.recipientKind, "mp"), eq(members.parliamentId, letters.recipientPersonId)),
    )
    .leftJoin(
      devolvedMembers,
      and(
        sql`${letters.recipientKind} in ('msp','ms','mla')`,
        eq(devolvedMembers.id, letters.recipientPersonId),
      ),
    )
    .where(answeredLetters)
    .groupBy(letters.recipientKind, letters.recipientPersonId);
  return rows.map((r) => ({
    kind: r.kind,
    personId: r.personId,
    name: r.name,
    role: r.kind === "candidate" ? "candidate" : BODY_INFO[bodyOfRepKind(r.kind)].role,
    party: r.mpParty ?? r.devolvedParty ?? "(party not known)",
    nation: r.nation,
    seat: r.seat,
    ...figuresOf(Number(r.answered), Number(r.replied ?? 0), Number(r.notYet ?? 0), Number(r.no ?? 0)),
  }));
}

function groupFigures<T extends ReplyFigures>(rows: T[], keyOf: (r: T) => string) {
  const m = new Map<string, { answered: number; replied: number; notYet: number; no: number }>();
  for (const r of rows) {
    const g = m.get(keyOf(r)) ?? { answered: 0, replied: 0, notYet: 0, no: 0 };
    g.answered += r.answered;
    g.replied += r.replied;
    g.notYet += r.notYet;
    g.no += r.no;
    m.set(keyOf(r), g);
  }
  return [...m]
    .map(([label, g]) => ({ label, ...figuresOf(g.answered, g.replied, g.notYet, g.no) }))
    .sort((a, b) => b.answered - a.answered || a.label.localeCompare(b.label));
}

/** What pasted replies said about each ask: counts of each stance. */
async function stancesByAsk(deps: Pick<Deps, "db" | "config">) {
  const rows = await deps.db
    .select({
      ask: sql<string>`j.key`,
      stance: sql<string>`j.value`,
      n: sql<number>`count(*)`,
    })
    .from(letterReplies)
    .innerJoin(letters, eq(letters.id, letterReplies.letterId))
    .innerJoin(sql`json_each(${letterReplies.stances}) j`, sql`1 = 1`)
    .where(countsInFigures(letters.constituencyCode))
    .groupBy(sql`j.key`, sql`j.value`);
  return deps.config.campaign.asks.map((a) => {
    const counts = Object.fromEntries(REPLY_STANCES.map((s) => [s, 0])) as Record<ReplyStance, number>;
    for (const r of rows)
      if (r.ask === a.id && r.stance in counts) counts[r.stance as ReplyStance] += Number(r.n);
    return { id: a.id, title: a.title, ...counts, total: Object.values(counts).reduce((x, y) => x + y, 0) };
  });
}

/** Everything the dashboard and the replies page show about replies. */
export async function replyRates(deps: Pick<Deps, "db" | "config">) {
  const reps = await perRepresentative(deps);
  const totals = groupFigures(reps, () => "all")[0] ?? { label: "all", ...figuresOf(0, 0, 0, 0) };
  return {
    totals,
    byRep: [...reps].sort((a, b) => b.answered - a.answered || a.name.localeCompare(b.name)),
    byParty: groupFigures(reps, (r) => r.party),
    byNation: groupFigures(reps, (r) => r.nation),
    stances: await stancesByAsk(deps),
    minPublic: deps.config.REPLY_RATE_MIN_ANSWERS,
  };
}

/**
 * A representative's reply rate for a public page, or null while fewer than
 * REPLY_RATE_MIN_ANSWERS writers have answered (one indexed read).
 */
export async function publicReplyRate(
  deps: Pick<Deps, "db" | "config">,
  rep: { kind: "mp" | "msp" | "ms" | "mla"; personId: number | null },
): Promise<ReplyFigures | null> {
  if (rep.personId === null) return null;
  const [r] = await deps.db
    .select({
      answered: sql<number>`count(*)`,
      replied: sql<number>`coalesce(sum(${letters.replyAnswer} = 'yes'), 0)`,
      notYet: sql<number>`coalesce(sum(${letters.replyAnswer} = 'not_yet'), 0)`,
      no: sql<number>`coalesce(sum(${letters.replyAnswer} = 'no'), 0)`,
    })
    .from(letters)
    .where(
      and(eq(letters.recipientKind, rep.kind), eq(letters.recipientPersonId, rep.personId), answeredLetters),
    );
  const answered = Number(r?.answered ?? 0);
  if (answered < deps.config.REPLY_RATE_MIN_ANSWERS) return null;
  return figuresOf(answered, Number(r?.replied), Number(r?.notYet), Number(r?.no));
}

const STANCE_WORDS: Record<ReplyStance, string> = {
  supports: "supports it",
  partly: "supports some of it",
  against: "against it",
  not_mentioned: "didn't say",
};

/** The latest replies supporters told us about, with what they pasted in (escaped when shown). */
export async function recentReplies(deps: Pick<Deps, "db" | "config">, limit = 50) {
  const rows = await deps.db
    .select({
      recipientName: letters.recipientName,
      kind: letters.recipientKind,
      seat: constituencies.name,
      text: letterReplies.replyText,
      stances: letterReplies.stances,
      updatedAt: letterReplies.updatedAt,
    })
    .from(letterReplies)
    .innerJoin(letters, eq(letters.id, letterReplies.letterId))
    .innerJoin(constituencies, eq(constituencies.onsCode, letters.constituencyCode))
    .where(countsInFigures(letters.constituencyCode))
    .orderBy(sql`${letterReplies.updatedAt} desc`)
    .limit(limit);
  const titles = new Map(deps.config.campaign.asks.map((a) => [a.id, a.title]));
  return rows.map((r) => ({
    ...r,
    role: r.kind === "candidate" ? "candidate" : BODY_INFO[bodyOfRepKind(r.kind)].role,
    date: new Date(r.updatedAt).toISOString().slice(0, 10),
    stances: Object.entries(r.stances).map(([ask, stance]) => ({
      ask: titles.get(ask) ?? ask,
      stance: STANCE_WORDS[stance] ?? stance,
    })),
  }));
}
