/**
 * Keeping the MSPs, MSs and MLAs current: the same sync as the MPs' (members.sync.ts), for
 * parliaments whose areas elect several members. Sources: the Scottish Parliament's open data,
 * the Senedd's members service, the Assembly's AIMS data (daily with the MPs, and from the CLI),
 * or a file (the start-up seed's data/devolved/*.csv, `import:devolved-members`).
 *
 * Rules (as for the MPs):
 * - One answer is compared with the members we hold, area by area. Every difference goes in the
 *   change log (member_changes, with the body and area): a member `left`, `gained` a seat, an
 *   area became `vacant` (fewer members than seats), or the same member's `party`, `name` or
 *   `email` changed.
 * - The guard: an answer that would change more than MEMBERS_SYNC_MAX_CHANGED_SHARE of the body's
 *   members (at least GUARD_FLOOR_SEATS) is refused and nothing is written; a failed, malformed or
 *   empty answer is recorded as failed. `force` applies it anyway (after an election).
 * - A person is the same person by their id at the source; rows from a file without ids (the
 *   shipped Senedd and Assembly lists) are matched by name within the area, then by surname and
 *   party, so the first official sync fills in ids instead of replacing everyone.
 * - A missing address never blanks a known one.
 * - Members rows, the change log and the sync record are written in ONE deps.atomic call, with
 *   the letters the change stops (letters to a member who left are not sent).
 */
import { and, eq, sql } from "drizzle-orm";
import { chunks, rowsPerInsert } from "../../db/limits";
import { type DevolvedBody, devolvedMembers } from "../../db/schema.devolved";
import type { MemberSyncTrigger } from "../../db/schema.members";
import { type MemberChangeKind, memberChanges, memberSyncs } from "../../db/schema.members";
import type { Deps, RemoteDevolvedMember, Statement } from "../../deps";
import { isAppError } from "../../lib/errors";
import { notifyStoppedLetters, stopLettersToFormerDevolvedMembers } from "../letters/letters.reroute";
import { nameKey } from "../lookup/lookup.import";
import { guardLimit, personKey, recordAttempt, type SyncOutcome, syncRun } from "../members/members.sync";
import { BODY_INFO, memberContactUrl } from "./devolved.bodies";
import { devolvedChanged } from "./devolved.cache";
import { areasOf } from "./devolved.import";
import { SyncDevolvedInput } from "./devolved.schemas";

/** Change-log rows per INSERT (10 parameters each, within D1's 100: src/db/limits.ts). */
const CHANGES_PER_INSERT = rowsPerInsert(10);

/**
 * Area names the official data spells differently from the names we hold (key: our nameKey of
 * theirs). Only documented differences: anything else unmatched is reported, never guessed.
 */
const AREA_ALIASES: Record<string, string> = {
  // data.parliament.scot shortens the region's name.
  "central scot and lothians west": "central scotland and lothians west",
};

type Held = typeof devolvedMembers.$inferSelect;

type Target = {
  row: Held | null;
  areaCode: string;
  sourceId: number | null;
  name: string;
  party: string | null;
  email: string | null;
  contactUrl: string | null;
  since: string | null;
};

export type DevolvedChange = {
  areaCode: string;
  kind: MemberChangeKind;
  parliamentId: number | null;
  memberName: string | null;
  before: string | null;
  after: string | null;
  effectiveOn: string | null;
};

type ApplyOptions = {
  trigger: MemberSyncTrigger;
  source: string;
  force?: boolean;
  /** Loading a body that has no members yet: no guard, nothing logged as a change. */
  baseline?: boolean;
  startedAt?: number;
};

const surname = (name: string) => personKey(name).split(" ").pop() ?? "";

/** Pair each member in the answer with the row we hold for the same person, if any. */
function matchPeople(held: Held[], incoming: (RemoteDevolvedMember & { areaCode: string })[]) {
  const matched = new Map<number, Held>();
  const used = new Set<number>();
  const take = (i: number, h: Held | undefined) => {
    if (!h || used.has(h.id)) return false;
    matched.set(i, h);
    used.add(h.id);
    return true;
  };
  // 1. Same id at the source.
  const bySource = new Map(held.filter((h) => h.sourceId !== null).map((h) => [h.sourceId as number, h]));
  incoming.forEach((m, i) => {
    if (m.sourceId !== null) take(i, bySource.get(m.sourceId));
  });
  // 2. Same name in the same area (a row or an answer without ids).
  incoming.forEach((m, i) => {
    if (matched.has(i)) return;
    const key = personKey(m.name);
    take(
      i,
      held.find(
        (h) =>
          !used.has(h.id) &&
          h.areaCode === m.areaCode &&
          (h.sourceId === null || m.sourceId === null) &&
          personKey(h.name) === key,
      ),
    );
  });
  // 3. Same surname and party in the same area, when that is unambiguous ("Joe" / "Joseph Martin").
  incoming.forEach((m, i) => {
    if (matched.has(i) || m.sourceId === null) return;
    const candidates = held.filter(
      (h) =>
        !used.has(h.id) &&
        h.sourceId === null &&
        h.areaCode === m.areaCode &&
        surname(h.name) === surname(m.name) &&
        (h.party ?? "") === (m.party ?? ""),
    );
    const rivals = incoming.filter(
      (o) =>
        o.areaCode === m.areaCode &&
        surname(o.name) === surname(m.name) &&
        (o.party ?? "") === (m.party ?? ""),
    );
    if (candidates.length === 1 && rivals.length === 1) take(i, candidates[0]);
  });
  return matched;
}

/**
 * Make `roster` (every current member of `body`) the members we hold, through the guard,
 * logging each change and stopping the letters it affects.
 */
export async function applyDevolvedRoster(
  deps: Deps,
  body: DevolvedBody,
  roster: RemoteDevolvedMember[],
  opts: ApplyOptions,
): Promise<SyncOutcome> {
  const { startedAt, syncId, base, outcome } = syncRun(deps, opts, roster.length);
  if (roster.length === 0) {
    const o = outcome({
      status: "failed",
      detail: "The answer listed no members at all, so nothing was changed.",
    });
    await recordAttempt(deps, { ...o, startedAt, body });
    return o;
  }

  const areas = await areasOf(deps, body);
  const areaByName = new Map<string, string>();
  for (const a of areas.values()) {
    areaByName.set(`${a.kind}|${nameKey(a.name)}`, a.code);
    if (a.nameCy) areaByName.set(`${a.kind}|${nameKey(a.nameCy)}`, a.code);
  }
  const totalSeats = [...areas.values()].reduce((n, a) => n + a.seats, 0);

  // Where each member in the answer sits.
  const unmatched: string[] = [];
  const incoming: (RemoteDevolvedMember & { areaCode: string })[] = [];
  const perArea = new Map<string, number>();
  const seenIds = new Set<number>();
  for (const m of roster) {
    const key = nameKey(m.areaName);
    const code =
      m.areaCode && areas.get(m.areaCode)?.kind === m.areaKind
        ? m.areaCode
        : (areaByName.get(`${m.areaKind}|${key}`) ??
          areaByName.get(`${m.areaKind}|${AREA_ALIASES[key] ?? ""}`));
    const area = code ? areas.get(code) : undefined;
    if (
      !code ||
      !area ||
      (m.sourceId !== null && seenIds.has(m.sourceId)) ||
      (perArea.get(code) ?? 0) >= area.seats
    ) {
      unmatched.push(`${m.name} (${m.areaName})`);
      continue;
    }
    perArea.set(code, (perArea.get(code) ?? 0) + 1);
    if (m.sourceId !== null) seenIds.add(m.sourceId);
    incoming.push({ ...m, areaCode: code });
  }

  const held = await deps.db.select().from(devolvedMembers).where(eq(devolvedMembers.body, body));
  const baseline = !!opts.baseline || held.length === 0;
  const matched = matchPeople(held, incoming);

  const targets: Target[] = incoming.map((m, i) => {
    const h = matched.get(i) ?? null;
    const sourceId = m.sourceId ?? h?.sourceId ?? null;
    return {
      row: h,
      areaCode: m.areaCode,
      sourceId,
      name: m.name,
      party: m.party,
      // An address in the answer wins; a missing one never blanks a known one (see header).
      email: m.email || h?.email || null,
      contactUrl:
        m.contactUrl ||
        (sourceId !== null ? memberContactUrl(body, sourceId) : null) ||
        h?.contactUrl ||
        memberContactUrl(body, null),
      since: h && h.areaCode === m.areaCode ? (h.since ?? m.since ?? null) : (m.since ?? null),
    };
  });
  const kept = new Set(targets.filter((t) => t.row).map((t) => (t.row as Held).id));
  const leaving = held.filter((h) => !kept.has(h.id));

  // The change log.
  const changes: DevolvedChange[] = [];
  const affected = new Set<string>();
  const row = (
    c: Omit<DevolvedChange, "before" | "after" | "effectiveOn"> & Partial<DevolvedChange>,
  ): DevolvedChange => ({
    before: null,
    after: null,
    effectiveOn: null,
    ...c,
  });
  if (!baseline) {
    for (const h of leaving) {
      affected.add(`held:${h.id}`);
      changes.push(
        row({
          areaCode: h.areaCode,
          kind: "left",
          parliamentId: h.sourceId,
          memberName: h.name,
          before: h.name,
        }),
      );
    }
    for (const t of targets) {
      const h = t.row;
      if (!h || h.areaCode !== t.areaCode) {
        affected.add(`new:${t.sourceId ?? t.name}`);
        if (h) {
          affected.add(`held:${h.id}`);
          changes.push(
            row({
              areaCode: h.areaCode,
              kind: "left",
              parliamentId: h.sourceId,
              memberName: h.name,
              before: h.name,
            }),
          );
        }
        changes.push(
          row({
            areaCode: t.areaCode,
            kind: "gained",
            parliamentId: t.sourceId,
            memberName: t.name,
            after: t.name,
            effectiveOn: t.since,
          }),
        );
        continue;
      }
      const who = { areaCode: t.areaCode, parliamentId: t.sourceId, memberName: t.name };
      const before = changes.length;
      // The official source confirming a member the shipped list had (no id yet): filling in the
      // address we lacked is the data catching up, not news, and no sign of a broken answer.
      const confirming = h.sourceId === null && t.sourceId !== null;
      if ((h.party ?? "") !== (t.party ?? ""))
        changes.push(row({ ...who, kind: "party", before: h.party, after: t.party }));
      if (personKey(h.name) !== personKey(t.name))
        changes.push(row({ ...who, kind: "name", before: h.name, after: t.name }));
      if ((h.email ?? null) !== (t.email ?? null) && !(confirming && h.email === null))
        changes.push(row({ ...who, kind: "email", before: h.email, after: t.email }));
      if (changes.length > before) affected.add(`held:${h.id}`);
    }
    // Areas left with fewer members than seats (that had their seats filled before).
    const before = new Map<string, number>();
    for (const h of held) before.set(h.areaCode, (before.get(h.areaCode) ?? 0) + 1);
    for (const [code, area] of areas) {
      const now = perArea.get(code) ?? 0;
      if (now < area.seats && (before.get(code) ?? 0) > now)
        changes.push(
          row({
            areaCode: code,
            kind: "vacant",
            parliamentId: null,
            memberName: null,
            before: String(before.get(code) ?? 0),
            after: String(now),
          }),
        );
    }
  }
  const seatsChanged = affected.size;
  const vacant = [...areas.values()].reduce(
    (n, a) => n + Math.max(0, a.seats - (perArea.get(a.code) ?? 0)),
    0,
  );
  const counts = { sitting: targets.length, vacant, unmatched, seatsChanged };

  const limit = guardLimit(deps, totalSeats);
  if (!baseline && !opts.force && seatsChanged > limit) {
    const detail =
      `Refused: this answer would change ${seatsChanged} of ${totalSeats} ${BODY_INFO[body].role}s, more than the ` +
      `${limit} allowed (MEMBERS_SYNC_MAX_CHANGED_SHARE=${deps.config.MEMBERS_SYNC_MAX_CHANGED_SHARE}). ` +
      `Nothing was changed. If it is right (after an election), run \`npm run cli -- sync:members --body ${body} --force\`.`;
    const o = outcome({ status: "refused", ...counts, detail });
    await recordAttempt(deps, { ...o, startedAt, body });
    deps.logger.warn("devolved members sync refused by the guard", {
      body,
      seatsChanged,
      limit,
      trigger: opts.trigger,
    });
    return o;
  }

  // --- the write ---------------------------------------------------------------------------
  const now = deps.clock.now();
  const unmatchedDetail = unmatched.length
    ? `${unmatched.length} member(s) in the answer matched none of our areas (or overfilled one).`
    : null;
  const statements: Statement[] = [
    deps.db.insert(memberSyncs).values({
      id: syncId,
      body,
      trigger: opts.trigger,
      source: opts.source,
      status: "applied",
      startedAt,
      finishedAt: now,
      membersReceived: roster.length,
      seatsChanged,
      changes: changes.length,
      contactsChecked: 0,
      forced: base.forced,
      detail: unmatchedDetail,
    }),
  ];
  // Leavers first (their source ids are unique), then updates, then newcomers.
  for (const h of leaving)
    statements.push(deps.db.delete(devolvedMembers).where(eq(devolvedMembers.id, h.id)));
  for (const t of targets) {
    const values = {
      areaCode: t.areaCode,
      sourceId: t.sourceId,
      name: t.name,
      party: t.party,
      email: t.email,
      contactUrl: t.contactUrl,
      since: t.since,
      updatedAt: now,
    };
    const h = t.row;
    if (!h) statements.push(deps.db.insert(devolvedMembers).values({ body, ...values }));
    else if (
      h.areaCode !== t.areaCode ||
      h.sourceId !== t.sourceId ||
      h.name !== t.name ||
      h.party !== t.party ||
      h.email !== t.email ||
      h.contactUrl !== t.contactUrl ||
      h.since !== t.since
    )
      statements.push(deps.db.update(devolvedMembers).set(values).where(eq(devolvedMembers.id, h.id)));
  }
  for (const rows of chunks(changes, CHANGES_PER_INSERT))
    statements.push(
      deps.db
        .insert(memberChanges)
        .values(rows.map((c) => ({ ...c, body, constituencyCode: null, syncId, recordedAt: now }))),
    );
  // Letters to a member who is no longer there stop, in the same write.
  statements.push(...stopLettersToFormerDevolvedMembers(deps, { body, syncId, now }));
  statements.push(
    deps.db
      .update(memberSyncs)
      .set({ lettersStopped: sql`(select count(*) from letter_stops where sync_id = ${syncId})` })
      .where(eq(memberSyncs.id, syncId)),
  );
  await deps.atomic(statements);
  devolvedChanged(deps);

  const [done] = await deps.db
    .select({ lettersStopped: memberSyncs.lettersStopped })
    .from(memberSyncs)
    .where(and(eq(memberSyncs.id, syncId)));
  const o = outcome({
    status: "applied",
    ...counts,
    changes: changes.length,
    lettersStopped: done?.lettersStopped ?? 0,
    detail: unmatchedDetail,
  });
  deps.logger.info("devolved members sync applied", {
    body,
    trigger: opts.trigger,
    seatsChanged,
    changes: changes.length,
    unmatched: unmatched.length,
    lettersStopped: o.lettersStopped,
  });
  await notifyStoppedLetters(deps);
  return o;
}

/** The scheduled / CLI sync of one devolved parliament. Never throws for an upstream problem: it records it. */
export async function syncDevolved(deps: Deps, input: SyncDevolvedInput): Promise<SyncOutcome> {
  const opts = SyncDevolvedInput.parse(input);
  const startedAt = deps.clock.now();
  const source = BODY_INFO[opts.body].syncSource;
  let roster: RemoteDevolvedMember[];
  try {
    roster = await deps.devolvedSources[opts.body].allCurrent();
  } catch (e) {
    if (!isAppError(e)) throw e;
    const o: SyncOutcome = {
      syncId: deps.ids.uuid(),
      status: "failed",
      trigger: opts.trigger,
      source,
      membersReceived: null,
      sitting: 0,
      vacant: 0,
      unmatched: [],
      seatsChanged: 0,
      changes: 0,
      contactsChecked: 0,
      lettersStopped: 0,
      lettersRedirected: 0,
      forced: opts.force,
      detail: `${BODY_INFO[opts.body].shortName} data could not be read: ${e.detail ?? e.title} Nothing was changed.`,
    };
    await recordAttempt(deps, { ...o, startedAt, body: opts.body });
    deps.logger.warn("devolved members sync failed", {
      body: opts.body,
      trigger: opts.trigger,
      code: e.code,
    });
    return o;
  }
  return applyDevolvedRoster(deps, opts.body, roster, {
    trigger: opts.trigger,
    source,
    force: opts.force,
    startedAt,
  });
}

/** Whether members of `body` were ever loaded (the start-up seed's test). */
export async function devolvedEverLoaded(deps: Deps, body: DevolvedBody): Promise<boolean> {
  const [row] = await deps.db
    .select({ id: devolvedMembers.id })
    .from(devolvedMembers)
    .where(eq(devolvedMembers.body, body))
    .limit(1);
  if (row) return true;
  const [sync] = await deps.db
    .select({ id: memberSyncs.id })
    .from(memberSyncs)
    .where(and(eq(memberSyncs.body, body), eq(memberSyncs.status, "applied")))
    .limit(1);
  return !!sync;
}
