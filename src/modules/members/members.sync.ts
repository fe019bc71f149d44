/**
 * Members sync: who is the MP for each of the 650 seats, kept current from the UK Parliament
 * Members API (daily on Node and Workers, and from the CLI) or from a file (data/mps.csv at
 * the start-up seed, `import:members`).
 *
 * Rules:
 * - One roster answer is compared with the members table seat by seat. Every difference is a
 *   row in the change log (member_changes): `left` (the MP concerned no longer holds the seat),
 *   `gained`, `vacant`, and for the same person `party`, `name` and `email`.
 * - The guard: an answer that would change more than MEMBERS_SYNC_MAX_CHANGED_SHARE of the seats
 *   (at least GUARD_FLOOR_SEATS) is refused and nothing is written; the refusal is recorded and
 *   shown on the dashboard. A failed, malformed, partial or empty answer is recorded as failed.
 *   `force` (CLI `--force`) applies it anyway, e.g. after a general election.
 * - A missing address never blanks a known one: an MP whose contact details were not read this
 *   time, or came back without an email, keeps the address we hold for that same person.
 * - The members rows, the change log, the sync record, and the letters the change stops or
 *   redirects (letters.reroute.ts) are written in ONE deps.atomic call: no letter can be claimed
 *   for someone the roster already says has left. Supporters are emailed right after.
 * - The ZZ9 9ZZ test seat is never touched, counted or logged.
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { chunks, rowsPerInsert } from "../../db/limits";
import { constituencies, members } from "../../db/schema";
import type { Body } from "../../db/schema.devolved";
import type { MemberSyncTrigger } from "../../db/schema.members";
import { type MemberChangeKind, memberChanges, memberSyncs } from "../../db/schema.members";
import type { Deps, RemoteMember, Statement } from "../../deps";
import { isAppError } from "../../lib/errors";
import {
  countLettersToAddress,
  notifyStoppedLetters,
  redirectLettersToNewAddress,
  stopLettersToFormerMembers,
} from "../letters/letters.reroute";
import { nameKey, VACANT_SEAT } from "../lookup/lookup.import";
import { SyncMembersInput } from "./members.schemas";

/**
 * However small the share, this many seats changing at once is plausible (the June 2026
 * by-elections changed three seats on one day), so a small test database or a small threshold
 * never refuses an ordinary day.
 */
export const GUARD_FLOOR_SEATS = 5;
/** Contact lookups in flight at once: gentle on Parliament's API, ~650 in well under a minute. */
const CONTACT_CONCURRENCY = 4;
/** Change-log rows per INSERT (9 parameters each, within D1's 100: src/db/limits.ts). */
const CHANGES_PER_INSERT = rowsPerInsert(9);

export type SyncOutcome = {
  syncId: string;
  status: "applied" | "refused" | "failed";
  trigger: MemberSyncTrigger;
  source: string;
  membersReceived: number | null;
  sitting: number;
  vacant: number;
  /** Seat names in the answer that match none of our 2024 seats (or a seat listed twice). */
  unmatched: string[];
  seatsChanged: number;
  changes: number;
  contactsChecked: number;
  lettersStopped: number;
  lettersRedirected: number;
  forced: boolean;
  detail: string | null;
};

type CurrentRow = {
  code: string;
  status: "sitting" | "vacant";
  parliamentId: number | null;
  name: string | null;
  party: string | null;
  partyAbbreviation: string | null;
  email: string | null;
  since: string | null;
  emailCheckedAt: number | null;
};

type Target = {
  status: "sitting" | "vacant";
  parliamentId: number | null;
  name: string | null;
  party: string | null;
  partyAbbreviation: string | null;
  email: string | null;
  since: string | null;
};

export type MemberChange = {
  constituencyCode: string;
  kind: MemberChangeKind;
  parliamentId: number | null;
  memberName: string | null;
  before: string | null;
  after: string | null;
  effectiveOn: string | null;
};

/**
 * One sync run's identity (its id and start) and the outcome every exit returns through, with
 * whatever that exit knows filled in over zeros. Shared by the Commons and the devolved syncs.
 */
export function syncRun(
  deps: Pick<Deps, "clock" | "ids">,
  opts: {
    trigger: MemberSyncTrigger;
    source: string;
    force?: boolean;
    startedAt?: number;
    contactsChecked?: number;
  },
  membersReceived: number,
) {
  const startedAt = opts.startedAt ?? deps.clock.now();
  const syncId = deps.ids.uuid();
  const base = {
    syncId,
    trigger: opts.trigger,
    source: opts.source,
    membersReceived,
    contactsChecked: opts.contactsChecked ?? 0,
    forced: !!opts.force,
  };
  const outcome = (o: Partial<SyncOutcome> & Pick<SyncOutcome, "status">): SyncOutcome => ({
    ...base,
    sitting: 0,
    vacant: 0,
    unmatched: [],
    seatsChanged: 0,
    changes: 0,
    lettersStopped: 0,
    lettersRedirected: 0,
    detail: null,
    ...o,
  });
  return { startedAt, syncId, base, outcome };
}

type ApplyOptions = {
  trigger: MemberSyncTrigger;
  /** "members-api" or a file name; shown on the dashboard. */
  source: string;
  force?: boolean;
  /**
   * Loading a roster into a database that has never been synced (the start-up seed): no guard,
   * and only changes of who holds a seat are logged.
   */
  baseline?: boolean;
  /** Members whose contact details were read in this run (their email is authoritative). */
  checked?: ReadonlySet<number>;
  contactsChecked?: number;
  startedAt?: number;
};

/** Titles Parliament puts in front of some display names ("Sir Julian Lewis", "Ms Diane Abbott"). */
const HONORIFICS =
  /^(?:(?:the )?rt hon |sir |dame |dr |mr |mrs |ms |miss |mx |professor |prof |lord |lady )+/;
export const personKey = (name: string) => nameKey(name).replace(HONORIFICS, "");

/** A person compared across two rosters: by Parliament id when both have one, else by name. */
function samePerson(cur: CurrentRow, next: Target): boolean {
  if (cur.status !== "sitting" || next.status !== "sitting") return false;
  if (cur.parliamentId !== null && next.parliamentId !== null) return cur.parliamentId === next.parliamentId;
  return personKey(cur.name ?? "") === personKey(next.name ?? "");
}

async function realSeats(deps: Deps) {
  return deps.db
    .select({ code: constituencies.onsCode, name: constituencies.name })
    .from(constituencies)
    .where(eq(constituencies.isTest, false))
    .orderBy(asc(constituencies.onsCode));
}

async function currentRows(deps: Deps): Promise<Map<string, CurrentRow>> {
  const rows = await deps.db
    .select({
      code: members.constituencyCode,
      status: members.status,
      parliamentId: members.parliamentId,
      name: members.name,
      party: members.party,
      partyAbbreviation: members.partyAbbreviation,
      email: members.email,
      since: members.since,
      emailCheckedAt: members.emailCheckedAt,
    })
    .from(members)
    .innerJoin(constituencies, eq(constituencies.onsCode, members.constituencyCode))
    .where(eq(constituencies.isTest, false));
  return new Map(rows.map((r) => [r.code, r]));
}

/** What changed in one seat, as change-log rows. */
export function seatChanges(
  code: string,
  cur: CurrentRow | undefined,
  next: Target,
  opts: { baseline?: boolean } = {},
): MemberChange[] {
  const out: MemberChange[] = [];
  // A baseline fills seats we held nothing for: that is the starting point, not a change.
  if (opts.baseline && !cur) return out;
  const row = (kind: MemberChangeKind, c: Partial<MemberChange>): MemberChange => ({
    constituencyCode: code,
    kind,
    parliamentId: null,
    memberName: null,
    before: null,
    after: null,
    effectiveOn: null,
    ...c,
  });
  const wasSitting = cur?.status === "sitting";
  if (cur && wasSitting && samePerson(cur, next)) {
    // A baseline corrects an older snapshot (titles, "Labour (Co-op)", addresses filled in): only
    // a change of who holds a seat is news there.
    if (opts.baseline) return out;
    const who = { parliamentId: next.parliamentId ?? cur.parliamentId, memberName: next.name };
    if ((cur.party ?? "") !== (next.party ?? ""))
      out.push(row("party", { ...who, before: cur.party, after: next.party }));
    if (cur.name !== next.name) out.push(row("name", { ...who, before: cur.name, after: next.name }));
    if ((cur.email ?? null) !== (next.email ?? null))
      out.push(row("email", { ...who, before: cur.email, after: next.email }));
    return out;
  }
  if (cur && wasSitting)
    out.push(
      row("left", {
        parliamentId: cur.parliamentId,
        memberName: cur.name,
        before: cur.name,
        after: next.status === "sitting" ? next.name : null,
      }),
    );
  if (next.status === "sitting")
    out.push(
      row("gained", {
        parliamentId: next.parliamentId,
        memberName: next.name,
        before: wasSitting ? (cur?.name ?? null) : null,
        after: next.name,
        effectiveOn: next.since,
      }),
    );
  else if (wasSitting) out.push(row("vacant", { before: cur?.name ?? null }));
  return out;
}

/**
 * Whether a seat's row must be written. The party abbreviation alone doesn't count (our CSV has
 * none, the API has them): it is written with the next real change, which keeps a routine sync
 * to a handful of statements (D1 counts queries per Worker invocation).
 */
const rowDiffers = (cur: CurrentRow | undefined, t: Target) =>
  !cur ||
  cur.status !== t.status ||
  cur.parliamentId !== t.parliamentId ||
  cur.name !== t.name ||
  cur.party !== t.party ||
  cur.email !== t.email ||
  cur.since !== t.since;

/**
 * The guard's limit for a body of `seats` members: more than this many changing at once is
 * implausible for a day's news (by-elections, defections, co-options) and looks like a broken or
 * partial answer instead.
 */
export const guardLimit = (deps: Pick<Deps, "config">, seats: number) =>
  Math.max(GUARD_FLOOR_SEATS, Math.floor(deps.config.MEMBERS_SYNC_MAX_CHANGED_SHARE * seats));

/** A sync that wrote nothing (refused or failed): one row, so the dashboard can say so. */
export async function recordAttempt(
  deps: Deps,
  o: Pick<
    SyncOutcome,
    | "syncId"
    | "trigger"
    | "source"
    | "status"
    | "membersReceived"
    | "seatsChanged"
    | "contactsChecked"
    | "forced"
    | "detail"
  > & { startedAt: number; body?: Body },
) {
  await deps.db.insert(memberSyncs).values({
    body: o.body ?? "uk_parliament",
    id: o.syncId,
    trigger: o.trigger,
    source: o.source,
    status: o.status,
    startedAt: o.startedAt,
    finishedAt: deps.clock.now(),
    membersReceived: o.membersReceived,
    seatsChanged: o.seatsChanged,
    contactsChecked: o.contactsChecked,
    forced: o.forced,
    detail: o.detail,
  });
}

/**
 * Make `roster` (the full set of sitting MPs) the members table, through the guard, logging
 * every change and stopping or redirecting the letters it affects.
 */
export async function applyRoster(
  deps: Deps,
  roster: RemoteMember[],
  opts: ApplyOptions,
): Promise<SyncOutcome> {
  const { startedAt, syncId, base, outcome } = syncRun(deps, opts, roster.length);

  if (roster.length === 0) {
    const detail = "The answer listed no MPs at all, so nothing was changed.";
    await recordAttempt(deps, { ...outcome({ status: "failed", detail }), startedAt });
    return outcome({ status: "failed", detail });
  }

  const seats = await realSeats(deps);
  const codeByName = new Map(seats.map((s) => [nameKey(s.name), s.code]));
  const codes = new Set(seats.map((s) => s.code));
  const current = await currentRows(deps);
  const knownEmail = new Map<number, string>();
  for (const r of current.values())
    if (r.status === "sitting" && r.parliamentId !== null && r.email) knownEmail.set(r.parliamentId, r.email);

  // Who sits where in the answer.
  const assigned = new Map<string, RemoteMember>();
  const seenIds = new Set<number>();
  const unmatched: string[] = [];
  for (const m of roster) {
    const code =
      m.constituencyCode && codes.has(m.constituencyCode)
        ? m.constituencyCode
        : codeByName.get(nameKey(m.constituencyName));
    if (!code || assigned.has(code) || (m.parliamentId !== null && seenIds.has(m.parliamentId))) {
      unmatched.push(m.constituencyName);
      continue;
    }
    assigned.set(code, m);
    if (m.parliamentId !== null) seenIds.add(m.parliamentId);
  }

  // A database that holds no MPs yet has nothing to compare with: loading it is a baseline
  // (no guard, no change log of 650 "gained").
  const hadRoster = [...current.values()].some((r) => r.status === "sitting");
  const baseline = !!opts.baseline || !hadRoster;

  // The target row of every seat, and what changes.
  const targets = new Map<string, Target>();
  const changes: MemberChange[] = [];
  let seatsChanged = 0;
  for (const { code } of seats) {
    const m = assigned.get(code);
    const cur = current.get(code);
    let t: Target;
    if (!m) t = { ...VACANT_SEAT, since: null };
    else {
      const held = m.parliamentId === null ? undefined : knownEmail.get(m.parliamentId);
      t = {
        status: "sitting",
        parliamentId: m.parliamentId,
        name: m.name,
        party: m.party,
        partyAbbreviation: m.partyAbbreviation,
        // An address in the answer wins; a missing one never blanks a known one (see header).
        email: (m.email || undefined) ?? held ?? null,
        since: null,
      };
      // `since` is when this person took the seat: kept while they hold it.
      t.since = cur && samePerson(cur, t) ? (cur.since ?? m.since ?? null) : (m.since ?? null);
    }
    targets.set(code, t);
    const seatLog = seatChanges(code, cur, t, { baseline });
    if (seatLog.length) seatsChanged++;
    changes.push(...seatLog);
  }

  const sitting = [...targets.values()].filter((t) => t.status === "sitting").length;
  const counts = { sitting, vacant: targets.size - sitting, unmatched, seatsChanged };

  // The guard.
  const limit = guardLimit(deps, seats.length);
  if (!baseline && !opts.force && seatsChanged > limit) {
    const detail =
      `Refused: this answer would change ${seatsChanged} of ${seats.length} seats, more than the ` +
      `${limit} allowed (MEMBERS_SYNC_MAX_CHANGED_SHARE=${deps.config.MEMBERS_SYNC_MAX_CHANGED_SHARE}). ` +
      "Nothing was changed. If it is right (after a general election), run " +
      "`npm run cli -- sync:members --body uk_parliament --force`.";
    const o = outcome({ status: "refused", ...counts, detail });
    await recordAttempt(deps, { ...o, startedAt });
    deps.logger.warn("members sync refused by the guard", {
      seatsChanged,
      seats: seats.length,
      limit,
      trigger: opts.trigger,
    });
    return o;
  }

  // --- the write ---------------------------------------------------------------------------
  const now = deps.clock.now();
  const checkedAt = (t: Target, cur: CurrentRow | undefined) =>
    t.parliamentId !== null && opts.checked?.has(t.parliamentId)
      ? now
      : cur && samePerson(cur, t)
        ? cur.emailCheckedAt
        : null;
  const statements: Statement[] = [
    deps.db.insert(memberSyncs).values({
      id: syncId,
      trigger: opts.trigger,
      source: opts.source,
      status: "applied",
      startedAt,
      finishedAt: now,
      membersReceived: roster.length,
      seatsChanged,
      changes: changes.length,
      contactsChecked: base.contactsChecked,
      forced: base.forced,
      detail: unmatched.length
        ? `${unmatched.length} seat name(s) in the answer matched none of ours.`
        : null,
    }),
  ];
  // Parliament ids are unique: a seat whose holder changes is emptied first, so a member moving
  // from one seat to another never exists twice between two statements.
  for (const [code, t] of targets) {
    const cur = current.get(code);
    if (cur?.parliamentId != null && cur.parliamentId !== t.parliamentId)
      statements.push(
        deps.db
          .update(members)
          .set({ ...VACANT_SEAT, updatedAt: now })
          .where(eq(members.constituencyCode, code)),
      );
  }
  const onlyChecked: number[] = [];
  for (const [code, t] of targets) {
    const cur = current.get(code);
    if (!rowDiffers(cur, t)) {
      if (t.parliamentId !== null && opts.checked?.has(t.parliamentId)) onlyChecked.push(t.parliamentId);
      continue;
    }
    const values = { ...t, emailCheckedAt: checkedAt(t, cur), updatedAt: now };
    statements.push(
      deps.db
        .insert(members)
        .values({ constituencyCode: code, ...values })
        .onConflictDoUpdate({ target: members.constituencyCode, set: values }),
    );
  }
  for (const ids of chunks(onlyChecked))
    statements.push(
      deps.db.update(members).set({ emailCheckedAt: now }).where(inArray(members.parliamentId, ids)),
    );
  for (const rows of chunks(changes, CHANGES_PER_INSERT))
    statements.push(
      deps.db.insert(memberChanges).values(rows.map((c) => ({ ...c, syncId, recordedAt: now }))),
    );

  // Letters: an MP kept their seat with a new address -> pending letters follow the address.
  let lettersRedirected = 0;
  for (const c of changes) {
    if (c.kind !== "email" || c.parliamentId === null || !c.before || !c.after) continue;
    lettersRedirected += await countLettersToAddress(deps, { parliamentId: c.parliamentId, from: c.before });
    statements.push(
      redirectLettersToNewAddress(deps, { parliamentId: c.parliamentId, from: c.before, to: c.after, now }),
    );
  }
  // An MP no longer holds the seat -> their pending letters stop (after the members rows above).
  statements.push(...stopLettersToFormerMembers(deps, { syncId, now }));
  statements.push(
    deps.db
      .update(memberSyncs)
      .set({
        lettersStopped: sql`(select count(*) from letter_stops where sync_id = ${syncId})`,
        lettersRedirected,
      })
      .where(eq(memberSyncs.id, syncId)),
  );
  await deps.atomic(statements);

  const [done] = await deps.db
    .select({ lettersStopped: memberSyncs.lettersStopped })
    .from(memberSyncs)
    .where(eq(memberSyncs.id, syncId));
  const o = outcome({
    status: "applied",
    ...counts,
    changes: changes.length,
    lettersStopped: done?.lettersStopped ?? 0,
    lettersRedirected,
    detail: unmatched.length ? `${unmatched.length} seat name(s) in the answer matched none of ours.` : null,
  });
  deps.logger.info("members sync applied", {
    trigger: opts.trigger,
    seatsChanged,
    changes: changes.length,
    lettersStopped: o.lettersStopped,
    lettersRedirected,
    unmatched: unmatched.length,
  });
  // The supporters whose letters stopped are told now; if this fails, the next sync retries.
  await notifyStoppedLetters(deps);
  return o;
}

/**
 * Read contact details for up to `budget` members: new MPs and MPs without an address first,
 * then the least recently checked. Stops early (keeping what it has) if the API gives out.
 */
async function readContacts(deps: Deps, roster: RemoteMember[], budget: number) {
  const held = new Map<number, { email: string | null; checkedAt: number | null }>();
  for (const r of await deps.db
    .select({ id: members.parliamentId, email: members.email, checkedAt: members.emailCheckedAt })
    .from(members)
    .where(eq(members.status, "sitting")))
    if (r.id !== null) held.set(r.id, { email: r.email, checkedAt: r.checkedAt });
  const priority = (m: RemoteMember) => {
    const h = m.parliamentId === null ? undefined : held.get(m.parliamentId);
    return !h ? 0 : h.email === null ? 1 : 2;
  };
  const queue = roster
    .filter((m) => m.parliamentId !== null && m.parliamentId > 0)
    .sort(
      (a, b) =>
        priority(a) - priority(b) ||
        (held.get(a.parliamentId as number)?.checkedAt ?? 0) -
          (held.get(b.parliamentId as number)?.checkedAt ?? 0),
    )
    .slice(0, budget);
  const checked = new Set<number>();
  let gaveOut: string | null = null;
  let next = 0;
  const lane = async () => {
    while (!gaveOut && next < queue.length) {
      const m = queue[next++] as RemoteMember;
      const id = m.parliamentId as number;
      try {
        m.email = await deps.memberSource.emailFor(id);
        checked.add(id);
      } catch (e) {
        if (!isAppError(e) || e.code !== "upstream_unavailable") throw e;
        gaveOut = e.detail ?? e.title;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONTACT_CONCURRENCY, queue.length) }, lane));
  if (gaveOut)
    deps.logger.warn("members API contact details stopped answering; the rest keep their addresses", {
      checked: checked.size,
    });
  return checked;
}

/** The scheduled / CLI sync from the Members API. Never throws for an upstream problem: it records it. */
export async function syncMembers(deps: Deps, input: SyncMembersInput): Promise<SyncOutcome> {
  const opts = SyncMembersInput.parse(input);
  const startedAt = deps.clock.now();
  const source = "members-api";
  let roster: RemoteMember[];
  try {
    roster = await deps.memberSource.allCurrent();
  } catch (e) {
    if (!isAppError(e)) throw e;
    const detail = `The Members API could not be read: ${e.detail ?? e.title} Nothing was changed.`;
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
      detail,
    };
    await recordAttempt(deps, { ...o, startedAt });
    deps.logger.warn("members sync failed", { trigger: opts.trigger, code: e.code });
    return o;
  }
  const budget = opts.allContacts ? roster.length : deps.config.MEMBERS_SYNC_CONTACTS;
  const checked = budget > 0 ? await readContacts(deps, roster, budget) : new Set<number>();
  return applyRoster(deps, roster, {
    trigger: opts.trigger,
    source,
    force: opts.force,
    checked,
    contactsChecked: checked.size,
    startedAt,
  });
}

/** A roster from a file (CLI `import:members`): the same path as a sync, guard included. */
export async function importMembers(
  deps: Deps,
  list: RemoteMember[],
  opts: { source?: string; force?: boolean; trigger?: MemberSyncTrigger; baseline?: boolean } = {},
): Promise<SyncOutcome> {
  return applyRoster(deps, list, {
    trigger: opts.trigger ?? "import",
    source: opts.source ?? "file",
    force: opts.force,
    baseline: opts.baseline,
  });
}

/** Whether a roster of `body` was ever loaded into this database (the start-up seed's test). */
export async function everSynced(deps: Deps, body: Body = "uk_parliament"): Promise<boolean> {
  const [row] = await deps.db
    .select({ id: memberSyncs.id })
    .from(memberSyncs)
    .where(and(eq(memberSyncs.status, "applied"), eq(memberSyncs.body, body)))
    .limit(1);
  return !!row;
}
