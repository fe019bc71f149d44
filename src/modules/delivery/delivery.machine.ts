/**
 * The outbox state machine: the one owner of delivery state.
 *
 * Rules:
 * - Every change of `outbox.state` (and of the columns that belong to a state: lease, claim
 *   token, attempts, next attempt, sent time, cancel reason, the address of an unsent row) and
 *   every change of `letters.status` is made here, by `transition` / `transitionStatements`
 *   (or `claimDue` and `insertOutbox` for the two operations that cannot go through an
 *   UPDATE of an existing row). No other module writes those columns: grep for them.
 * - The table is EVENTS below: each event names the states it may leave and the one it enters.
 *   The write is one conditional UPDATE whose WHERE lists the `from` states (plus the caller's
 *   own guard, e.g. "this claim token"), so a replay, a race or a stale worker changes nothing.
 * - A letter's status is never written on its own: it is derived from its `letter` outbox row
 *   (LETTER_STATUS_OF) by a statement that runs in the same atomic write, right after the
 *   outbox UPDATE. The letter and its outbox row therefore always agree, on Node (one
 *   transaction) and on D1 (one batch), with no interactive transaction anywhere.
 * - When a letter reaches an end that makes the mail about it pointless (cancelled, expired,
 *   bounced, dead), its still-unsent reminder / follow-up / confirmation rows are cancelled in
 *   the same write (the supporter is not asked "did your MP reply?" about a letter that bounced).
 *
 *   awaiting_confirmation ─confirm─> queued ─claim─> sending ─accept─> sent ─bounce─> bounced
 *     │ ├─hold─> held ─release─> queued            │ ├─retry─> failed ─claim─> sending
 *     │ │         └─reject─> cancelled             │ ├─give_up / lapse_final─> dead ─requeue─> queued
 *     ├─expire─> expired                           │ ├─refuse (RCPT 5xx)─> bounced
 *     └─cancel─> cancelled                         │ ├─unclaim (relay down)─> queued
 *   queued / failed / held / dead ─cancel─> cancelled └─lapse (lease passed)─> failed
 *   queued / failed / sending (lease passed) ─dead_letter (Workers: the queue gave up)─> dead
 * - Events that make rows ready to send (confirm, release, requeue, nudge) and inserts of
 *   `queued` rows are announced to deps.outboxQueue once their write has committed
 *   (`transition` does it; callers of `transitionStatements` / `insertOutbox` call
 *   `announce()` / `announceInserted`). Workers put the ids on a Cloudflare Queue.
 */
import { and, eq, getTableColumns, inArray, is, lte, SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";
import { chunks, ID_CHUNK } from "../../db/limits";
import {
  LETTER_STATUSES,
  type LetterStatus,
  letters,
  OUTBOX_STATES,
  type OutboxKind,
  type OutboxState,
  outbox,
} from "../../db/schema.letters";
import type { Deps, Statement } from "../../deps";
import { safeErrorText } from "../../lib/safe-error";

/** States a new outbox row may be inserted in. */
export const INITIAL_STATES = ["awaiting_confirmation", "queued"] as const satisfies readonly OutboxState[];

/** Rows that have not gone and may still go: cancellable, re-addressable. */
export const UNSENT: readonly OutboxState[] = ["awaiting_confirmation", "held", "queued", "failed"];

type EventSpec = { from: readonly OutboxState[]; to: OutboxState | "same" };

/**
 * THE TABLE. `same` marks events that keep the state and change a state's own columns (the
 * lease of a sending row, the due time of a failed row, the address of an unsent row).
 */
export const EVENTS = {
  /** The supporter confirmed from the emailed link. */
  confirm: { from: ["awaiting_confirmation"], to: "queued" },
  /** Confirmed, but a near-duplicate of another supporter's words: waits for a moderator. */
  hold: { from: ["awaiting_confirmation"], to: "held" },
  /** Never confirmed within LETTER_CONFIRM_TTL_DAYS. */
  expire: { from: ["awaiting_confirmation"], to: "expired" },
  /** Moderator: send it. */
  release: { from: ["held"], to: "queued" },
  /** Moderator: don't. */
  reject: { from: ["held"], to: "cancelled" },
  /** A worker takes the row (attempts + 1, lease, claim token): claimDue. */
  claim: { from: ["queued", "failed"], to: "sending" },
  /** The claimer checks its lease has not lapsed and extends it, right before sending. */
  extend: { from: ["sending"], to: "same" },
  /**
   * The relay accepted the message: sent, whatever happens next. From failed/dead only for the
   * same attempt (the caller's guard): the lease lapsed during a slow send, nobody has claimed
   * the row since, and the late acceptance is recorded instead of causing a resend.
   */
  accept: { from: ["sending", "failed", "dead"], to: "sent" },
  /** Per-message temporary failure (4xx, 552 mailbox full): try again later. */
  retry: { from: ["sending"], to: "failed" },
  /** Per-message permanent failure (DATA 5xx), or the last allowed attempt failed. */
  give_up: { from: ["sending"], to: "dead" },
  /** The recipient's server refused the address (RCPT 5xx): a hard bounce. */
  refuse: { from: ["sending"], to: "bounced" },
  /** A relay-wide failure (login, sender refused, connection): the attempt is given back. */
  unclaim: { from: ["sending"], to: "queued" },
  /** The lease passed with the outcome unknown (the sender died): one more attempt. */
  lapse: { from: ["sending"], to: "failed" },
  /** ... unless that was the last attempt allowed. */
  lapse_final: { from: ["sending"], to: "dead" },
  /**
   * Workers: the delivery queue gave up on the row's message (its retries ran out and it went
   * to the dead-letter queue). Never silently dropped: the row is dead, on the dashboard, and
   * can be requeued. From `sending` only once the lease has passed (the caller's guard).
   */
  dead_letter: { from: ["queued", "failed", "sending"], to: "dead" },
  /**
   * A bounce report (DSN, provider webhook) for a message we handed over. `queued`/`failed`:
   * the relay had accepted it before the connection dropped (no 250 seen), so we still held it.
   */
  bounce: { from: ["sent", "queued", "failed", "dead"], to: "bounced" },
  /** Stop a message that has not gone (campaign team, erasure, replaced, MP left the seat...). */
  cancel: { from: ["awaiting_confirmation", "held", "queued", "failed", "dead"], to: "cancelled" },
  /**
   * Dashboard / CLI: try a dead message again, with a fresh allowance of attempts. Not a bounced
   * one: the recipient's server has its copy on record, and the supporter has been told to send
   * it another way; letters waiting for a flagged address move when the address data changes.
   */
  requeue: { from: ["dead"], to: "queued" },
  /** Dashboard: make a failed message due now. */
  nudge: { from: ["failed"], to: "same" },
  /** The representative's address changed: unsent messages follow it. */
  readdress: { from: UNSENT, to: "same" },
} as const satisfies Record<string, EventSpec>;

export type OutboxEvent = keyof typeof EVENTS;

/** State -> states reachable in one event (derived from EVENTS; for documentation and tests). */
export const TRANSITIONS: Record<OutboxState, readonly OutboxState[]> = Object.fromEntries(
  OUTBOX_STATES.map((s) => [
    s,
    [
      ...new Set(
        Object.values(EVENTS as Record<string, EventSpec>)
          .filter((e) => e.from.includes(s))
          .map((e) => (e.to === "same" ? s : e.to)),
      ),
    ],
  ]),
) as unknown as Record<OutboxState, readonly OutboxState[]>;

/** Whether one event can move a row from `from` to `to` (a row that stays put needs no event). */
export const canTransition = (from: OutboxState, to: OutboxState) =>
  from === to || TRANSITIONS[from].includes(to);

/** States from which an event may enter `to` (for screens that offer an action). */
export const fromStates = (to: OutboxState): OutboxState[] =>
  OUTBOX_STATES.filter((s) => s !== to && TRANSITIONS[s].includes(to));

/** States a worker claims from. */
export const CLAIMABLE = EVENTS.claim.from;
const CLAIMABLE_STATES: readonly OutboxState[] = CLAIMABLE;

/** What a letter's status is while its `letter` outbox row is in each state. */
export const LETTER_STATUS_OF: Record<OutboxState, LetterStatus> = {
  awaiting_confirmation: "awaiting_confirmation",
  held: "held",
  queued: "confirmed",
  sending: "confirmed",
  failed: "confirmed",
  sent: "sent",
  dead: "undeliverable",
  bounced: "undeliverable",
  cancelled: "cancelled",
  expired: "expired",
};
// Every letter status is reachable from some outbox state (a typo in the map fails at start-up).
for (const s of LETTER_STATUSES)
  if (!Object.values(LETTER_STATUS_OF).includes(s)) throw new Error(`letter status ${s} unreachable`);

/** Letter-row states that mean the supporter confirmed the letter. */
const CONFIRMED_PATH: readonly OutboxState[] = [
  "held",
  "queued",
  "sending",
  "failed",
  "sent",
  "dead",
  "bounced",
];

/** Letter-row end states after which the supporter mail about the letter is pointless. */
const LETTER_ENDS: readonly OutboxState[] = ["cancelled", "expired", "bounced", "dead"];
/** Supporter mail about a letter that is cancelled with it. */
const FOLLOWERS: readonly OutboxKind[] = ["confirm", "reminder", "followup"];

// --- SQL helpers ----------------------------------------------------------------------------

/**
 * `column in ('a','b')` with the states inlined: they are our own constants, and D1 binds at
 * most 100 variables per statement, which id lists need more than state lists do.
 */
const inStates = (column: SQL | AnySQLiteColumn, list: readonly string[]) =>
  sql`${column} in (${sql.raw(list.map((s) => `'${s.replace(/'/g, "")}'`).join(","))})`;

// --- targets --------------------------------------------------------------------------------

/** Ids per `ids` / `letterIds` list in one statement (src/db/limits.ts says why 80). */
export { ID_CHUNK };

/**
 * Which rows an event applies to. Id lists of any length are split into ID_CHUNK-sized lists
 * (one set of statements each, all in the same atomic write), so every statement stays within
 * D1's 100 bound variables. A `where` must not test the rows' state (put that in the options'
 * `guard`): it is evaluated again after the UPDATE, to find the letters whose status follows.
 */
export type Target =
  | { id: string }
  | { ids: string[] }
  | { letterId: string; kinds?: readonly OutboxKind[] }
  | { letterIds: string[]; kinds?: readonly OutboxKind[] }
  | { where: SQL };

function targetWhere(t: Target): SQL {
  if ("id" in t) return eq(outbox.id, t.id);
  if ("ids" in t) return inArray(outbox.id, t.ids.length ? t.ids : [""]);
  if ("letterId" in t)
    return and(
      eq(outbox.letterId, t.letterId),
      t.kinds ? inArray(outbox.kind, [...t.kinds]) : undefined,
    ) as SQL;
  if ("letterIds" in t)
    return and(
      inArray(outbox.letterId, t.letterIds.length ? t.letterIds : [""]),
      t.kinds ? inArray(outbox.kind, [...t.kinds]) : undefined,
    ) as SQL;
  return t.where;
}

// --- the letter's status, derived ---------------------------------------------------------

const caseOf = (column: SQL, map: Record<string, string>) =>
  sql.join(
    [
      sql`case ${column}`,
      ...Object.entries(map).map(([k, v]) => sql.raw(`when '${k}' then '${v}'`)),
      sql`end`,
    ],
    sql` `,
  );

/** The state of letter L's letter row (a correlated subquery on outbox_letter_ix). */
const letterRowState = sql`(select o.state from ${outbox} o where o.letter_id = ${letters.id} and o.kind = 'letter')`;
const derivedStatus = caseOf(letterRowState, LETTER_STATUS_OF);

/**
 * Bring the status of the letters whose letter row was just written (updated_at = now) in line
 * with that row. Extra letters touched at the same millisecond are re-derived too: harmless, the
 * derivation is a pure function of the row.
 */
function letterSync(deps: Pick<Deps, "db">, t: Target, now: number): Statement {
  const touched = deps.db
    .select({ id: outbox.letterId })
    .from(outbox)
    .where(and(targetWhere(t), eq(outbox.kind, "letter"), eq(outbox.updatedAt, now)));
  return deps.db
    .update(letters)
    .set({
      status: sql`coalesce(${derivedStatus}, ${letters.status})`,
      // Confirmed once the letter row left awaiting_confirmation for a sending path.
      confirmedAt: sql`coalesce(${letters.confirmedAt}, case when ${inStates(letterRowState, CONFIRMED_PATH)} then ${now} end)`,
      sentAt: sql`coalesce(${letters.sentAt}, case when ${letterRowState} = 'sent' then ${now} end)`,
    })
    .where(inArray(letters.id, touched));
}

/** Cancel the unsent supporter mail of letters whose letter row just reached an end. */
function cascade(deps: Pick<Deps, "db">, t: Target, now: number, to: OutboxState): Statement {
  const ended = deps.db
    .select({ id: outbox.letterId })
    .from(outbox)
    .where(and(targetWhere(t), eq(outbox.kind, "letter"), eq(outbox.state, to), eq(outbox.updatedAt, now)));
  return deps.db
    .update(outbox)
    .set({ state: "cancelled", cancelReason: `letter ${to}`, updatedAt: now })
    .where(
      and(
        inArray(outbox.letterId, ended),
        inStates(outbox.kind, FOLLOWERS),
        inStates(outbox.state, EVENTS.cancel.from),
      ),
    );
}

// --- transitions --------------------------------------------------------------------------

/** Columns an event may set besides the state (what each event means is in `defaults`). */
export type TransitionSet = Partial<
  Pick<
    typeof outbox.$inferInsert,
    | "nextAttemptAt"
    | "leaseUntil"
    | "lastError"
    | "cancelReason"
    | "toEmail"
    | "toName"
    | "alwaysReflect"
    | "reflectTo"
  >
>;

export type TransitionOptions = {
  /** Extra condition (the claimer's token, a due time, "no other letter confirmed"...). */
  guard?: SQL;
  set?: TransitionSet;
  /** Statements to run in the same atomic write, before / after the transition's own. */
  before?: Statement[];
  after?: Statement[];
};

function defaults(deps: Pick<Deps, "config">, event: OutboxEvent, now: number) {
  const released = { leaseUntil: null, claimToken: null } as const;
  switch (event) {
    case "confirm":
    case "release":
      return { nextAttemptAt: now };
    case "requeue":
      // A fresh allowance of attempts; attempt numbers keep counting (one log row per attempt).
      return {
        nextAttemptAt: now,
        lastError: null,
        cancelReason: null,
        attemptLimit: sql`${outbox.attempts} + ${deps.config.OUTBOX_MAX_ATTEMPTS}`,
      };
    case "extend":
      return { leaseUntil: now + deps.config.OUTBOX_LEASE_SECONDS * 1000 };
    case "accept":
      return { ...released, sentAt: now, lastError: null };
    case "retry":
    case "give_up":
    case "refuse":
      return { ...released };
    case "unclaim":
      // Relay-wide failure: nothing happened to this message, so its attempt is given back.
      return { ...released, attempts: sql`${outbox.attempts} - 1`, nextAttemptAt: now };
    case "lapse":
    case "lapse_final":
      return { ...released, nextAttemptAt: now, lastError: "lease expired while sending" };
    case "dead_letter":
      return { ...released, lastError: "the delivery queue gave up on this message" };
    case "cancel":
    case "reject":
      return { ...released, cancelReason: event === "reject" ? "rejected by moderator" : "cancelled" };
    case "nudge":
      return { nextAttemptAt: now };
    default:
      return {};
  }
}

/** A target's id lists split to ID_CHUNK (src/db/limits.ts): one target per chunk. */
function splitTarget(t: Target): Target[] {
  if ("ids" in t) return t.ids.length > ID_CHUNK ? chunks(t.ids).map((ids) => ({ ids })) : [t];
  if ("letterIds" in t)
    return t.letterIds.length > ID_CHUNK
      ? chunks(t.letterIds).map((letterIds) => ({ letterIds, kinds: t.kinds }))
      : [t];
  return [t];
}

/**
 * Events after which rows are ready to send: the runtime's sender is told (announce). `unclaim`
 * is not among them: the sender that gave the attempt back reschedules the row itself.
 */
const READY_AFTER: ReadonlySet<OutboxEvent> = new Set(["confirm", "release", "requeue", "nudge"]);

export type TransitionWrite = {
  statements: Statement[];
  /** Position of the (first) outbox UPDATE: its changed-row count says whether it happened. */
  index: number;
  /** Positions of every outbox UPDATE (one per ID_CHUNK of a long id list). */
  indexes: number[];
  /**
   * Call after the atomic write committed: hands the rows this event made ready to the
   * runtime's sender (a no-op for events that make nothing ready).
   */
  announce(): Promise<void>;
};

/**
 * The statements of one event on `target`, for callers that add their own statements to the same
 * atomic write (and then call `announce()`). Id lists longer than ID_CHUNK become one set of
 * statements per chunk, in the same write.
 */
export function transitionStatements(
  deps: Pick<Deps, "db" | "config" | "clock"> & Partial<Pick<Deps, "outboxQueue" | "logger">>,
  event: OutboxEvent,
  target: Target,
  opts: TransitionOptions = {},
): TransitionWrite {
  if (event === "claim") throw new Error("outbox: claim goes through claimDue");
  const spec: EventSpec = EVENTS[event];
  const now = deps.clock.now();
  const statements: Statement[] = [...(opts.before ?? [])];
  const indexes: number[] = [];
  const parts = splitTarget(target);
  for (const part of parts) {
    indexes.push(statements.length);
    statements.push(
      deps.db
        .update(outbox)
        .set({
          ...(spec.to === "same" ? {} : { state: spec.to }),
          ...defaults(deps, event, now),
          ...opts.set,
          updatedAt: now,
        })
        .where(and(targetWhere(part), inStates(outbox.state, spec.from), opts.guard)),
    );
    if (
      spec.to !== "same" &&
      spec.from.some((s) => LETTER_STATUS_OF[s] !== LETTER_STATUS_OF[spec.to as OutboxState])
    )
      statements.push(letterSync(deps, part, now));
    if (spec.to !== "same" && LETTER_ENDS.includes(spec.to))
      statements.push(cascade(deps, part, now, spec.to));
  }
  statements.push(...(opts.after ?? []));
  return {
    statements,
    index: indexes[0] ?? 0,
    indexes,
    async announce() {
      if (!READY_AFTER.has(event)) return;
      if (!deps.outboxQueue || !deps.logger)
        throw new Error(`outbox: announcing "${event}" needs deps.outboxQueue and deps.logger`);
      const rows: { id: string; dueAt: number }[] = [];
      for (const part of parts) {
        if ("id" in part) {
          rows.push({ id: part.id, dueAt: now });
          continue;
        }
        // The rows this write moved: in the event's state, written at this very millisecond.
        const moved = await deps.db
          .select({ id: outbox.id, dueAt: outbox.nextAttemptAt })
          .from(outbox)
          .where(and(targetWhere(part), inStates(outbox.state, CLAIMABLE_STATES), eq(outbox.updatedAt, now)));
        rows.push(...moved);
      }
      await announceReady({ outboxQueue: deps.outboxQueue, logger: deps.logger }, rows);
    },
  };
}

/** Apply one event; resolves to the number of outbox rows it moved (0: not allowed from here). */
export async function transition(
  deps: Pick<Deps, "db" | "config" | "clock" | "atomic" | "outboxQueue" | "logger">,
  event: OutboxEvent,
  target: Target,
  opts: TransitionOptions = {},
): Promise<number> {
  const write = transitionStatements(deps, event, target, opts);
  const changes = await deps.atomic(write.statements);
  const n = write.indexes.reduce((sum, i) => sum + (changes[i] ?? 0), 0);
  if (n > 0) await write.announce();
  return n;
}

// --- telling the sender -------------------------------------------------------------------

/**
 * Hand rows that are ready to send to the runtime's sender (deps.outboxQueue), after their write
 * committed. Never fails the caller: the row is safely in the outbox, and a sweep finds rows
 * whose hand-over was lost (Workers: the cron; Node: the loop polls anyway).
 */
export async function announceReady(
  deps: Pick<Deps, "outboxQueue" | "logger">,
  rows: readonly { id: string; dueAt: number }[],
): Promise<void> {
  if (!rows.length) return;
  try {
    await deps.outboxQueue.enqueue([...rows]);
  } catch (e) {
    deps.logger.warn("outbox: could not hand rows to the sender; the sweep will", {
      rows: rows.length,
      error: safeErrorText(e),
    });
  }
}

/** Announce the rows of an insert that start out ready (state `queued`), once it committed. */
export const announceInserted = (deps: Pick<Deps, "outboxQueue" | "logger">, rows: readonly NewOutboxRow[]) =>
  announceReady(
    deps,
    rows.filter((r) => r.state === "queued").map((r) => ({ id: r.id, dueAt: r.nextAttemptAt })),
  );

// --- the two writes that are not an UPDATE of one known row -------------------------------

export type NewOutboxRow = typeof outbox.$inferInsert;

/** Insert new rows: only in an initial state. */
export function insertOutbox(deps: Pick<Deps, "db">, rows: NewOutboxRow[]) {
  for (const r of rows)
    if (!(INITIAL_STATES as readonly string[]).includes(r.state))
      throw new Error(`outbox: a new row starts in ${INITIAL_STATES.join(" or ")}, not ${r.state}`);
  return deps.db.insert(outbox).values(rows);
}

/**
 * An INSERT of `row` that takes effect only if `condition` holds when it runs: `INSERT INTO outbox
 * SELECT <row> WHERE <condition>`. For atomic batches where a mail must be queued exactly when
 * another statement of the batch took effect (a conditional UPDATE that claimed the right to send
 * it), with no read in between, so it works the same in a SQLite transaction and a D1 batch.
 */
export function insertOutboxWhere(deps: Pick<Deps, "db">, row: NewOutboxRow, condition: SQL): Statement {
  if (!(INITIAL_STATES as readonly string[]).includes(row.state))
    throw new Error(`outbox: a new row starts in ${INITIAL_STATES.join(" or ")}, not ${row.state}`);
  const values = Object.entries(getTableColumns(outbox)).map(([key, column]) => {
    const value = (row as Record<string, unknown>)[key];
    if (value !== undefined) return sql.param(value, column);
    const fallback = column.default;
    if (fallback === undefined || fallback === null) return sql`null`;
    return is(fallback, SQL) ? fallback : sql.param(fallback, column);
  });
  return deps.db.insert(outbox).select(sql`select ${sql.join(values, sql`, `)} where ${condition}`);
}

/**
 * `INSERT INTO outbox SELECT <an expression per column> <source> ON CONFLICT DO NOTHING`: rows the
 * database computes from other tables in the same atomic write, e.g. a partner's webhook event,
 * built from the letter just confirmed, the partner's webhook and the supporter's consent, so the
 * event exists exactly when the confirmation does. Values may be SQL expressions over `source`
 * (a `from ... where ...` clause); the state must be an initial one, given as a value. A row
 * whose unique key already exists (a replayed confirmation) is left alone.
 */
export function insertOutboxSelect(
  deps: Pick<Deps, "db">,
  row: { [K in keyof NewOutboxRow]?: NewOutboxRow[K] | SQL } & { state: NewOutboxRow["state"] },
  source: SQL,
): Statement {
  if (!(INITIAL_STATES as readonly string[]).includes(row.state))
    throw new Error(`outbox: a new row starts in ${INITIAL_STATES.join(" or ")}, not ${row.state}`);
  const values = Object.entries(getTableColumns(outbox)).map(([key, column]) => {
    const value = (row as Record<string, unknown>)[key];
    if (is(value, SQL)) return value;
    if (value !== undefined) return sql.param(value, column);
    const fallback = column.default;
    if (fallback === undefined || fallback === null) return sql`null`;
    return is(fallback, SQL) ? fallback : sql.param(fallback, column);
  });
  const insert = deps.db.insert(outbox).select(sql`select ${sql.join(values, sql`, `)} ${source}`);
  return (insert as unknown as { onConflictDoNothing(): Statement }).onConflictDoNothing();
}

/**
 * Insert `row` only if outbox row `when.id` is in `when.state` (at the moment the statement runs),
 * and only once per letter and kind (outbox_letter_kind_uq): how a notice follows a transition
 * in the same atomic write without ever being written for a transition that did not happen.
 */
export function insertOutboxWhen(
  deps: Pick<Deps, "db">,
  row: NewOutboxRow,
  when: { id: string; state: OutboxState },
): Statement {
  const inState = sql`exists (select 1 from ${outbox} w where w.id = ${when.id} and w.state = ${when.state})`;
  return (
    insertOutboxWhere(deps, row, inState) as unknown as { onConflictDoNothing(): Statement }
  ).onConflictDoNothing();
}

/** The status a new letter is written with: its letter row's initial state, mapped. */
export const initialLetterStatus = (letterRow: Pick<NewOutboxRow, "state">): LetterStatus =>
  LETTER_STATUS_OF[letterRow.state as OutboxState];

/**
 * Claim up to `limit` due rows in one UPDATE ... RETURNING: attempts + 1, a lease, and a claim
 * token that every outcome write of this claim must name. claim keeps the letter's status
 * (queued/failed/sending all read "confirmed"), so no letter write is needed.
 */
export async function claimDue(
  deps: Pick<Deps, "db" | "config" | "clock" | "ids">,
  limit: number,
  opts: { kinds?: readonly OutboxKind[]; skip?: SQL; ids?: readonly string[] } = {},
) {
  if (opts.ids && opts.ids.length > ID_CHUNK) throw new Error(`claimDue: at most ${ID_CHUNK} ids`);
  const now = deps.clock.now();
  const due = and(
    inStates(outbox.state, EVENTS.claim.from),
    lte(outbox.nextAttemptAt, now),
    opts.kinds ? inArray(outbox.kind, [...opts.kinds]) : undefined,
    opts.ids ? inArray(outbox.id, opts.ids.length ? [...opts.ids] : [""]) : undefined,
    opts.skip,
  );
  const ids = deps.db
    .select({ id: outbox.id })
    .from(outbox)
    .where(due)
    .orderBy(outbox.nextAttemptAt)
    .limit(limit);
  return deps.db
    .update(outbox)
    .set({
      state: "sending",
      attempts: sql`${outbox.attempts} + 1`,
      leaseUntil: now + deps.config.OUTBOX_LEASE_SECONDS * 1000,
      claimToken: deps.ids.uuid(),
      updatedAt: now,
    })
    .where(and(inArray(outbox.id, ids), due))
    .returning();
}

// --- backoff ------------------------------------------------------------------------------

/**
 * Exponential backoff with full jitter (AWS's "full jitter": uniform in [0, min(cap, base*2^n))),
 * so a relay outage doesn't bring every failed row back at the same instant.
 * base 30 s, cap 6 h: eight attempts span roughly a day before a row is dead.
 */
export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_CAP_MS = 6 * 60 * 60 * 1000;
/** A full mailbox (552, x.2.2) is not retried sooner than this: it rarely empties in minutes. */
export const MAILBOX_FULL_RETRY_MS = 2 * 60 * 60 * 1000;

export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  // At least one second, so a failed row is never immediately re-claimed in the same pass.
  return Math.max(1000, Math.floor(random() * ceiling));
}
