/**
 * The outbox state machine. Every state change in delivery.service.ts is one conditional UPDATE
 * whose WHERE names the `from` states listed here; `assertTransition` documents and checks the
 * table in tests, and the CHECK constraint in schema.letters.ts closes the set of states.
 *
 *   awaiting_confirmation ─confirm─> queued ─claim─> sending ─ok─> sent
 *          │  └─confirm (near-duplicate)─> held ─release─> queued
 *          ├─ttl─> expired                     sending ─4xx/network─> failed ─claim─> sending
 *          └─cancel─> cancelled                sending ─5xx─> dead | bounced (recipient refused)
 *                                              sending ─lease passed─> failed (crash recovery)
 *                                              failed/sending ─attempts exhausted─> dead
 */
import type { OutboxState } from "../../db/schema.letters";

export const TRANSITIONS: Record<OutboxState, readonly OutboxState[]> = {
  awaiting_confirmation: ["queued", "held", "expired", "cancelled"],
  held: ["queued", "cancelled"],
  queued: ["sending", "cancelled"],
  sending: ["sent", "failed", "dead", "bounced"],
  failed: ["sending", "dead", "cancelled"],
  // A bounce report can arrive after the relay accepted the message.
  sent: ["bounced"],
  dead: [],
  bounced: [],
  cancelled: [],
  expired: [],
};

/** States a worker may claim from (a `sending` row past its lease is first moved to failed). */
export const CLAIMABLE: readonly OutboxState[] = ["queued", "failed"];
export const TERMINAL: readonly OutboxState[] = ["sent", "dead", "bounced", "cancelled", "expired"];

export const canTransition = (from: OutboxState, to: OutboxState) => TRANSITIONS[from].includes(to);

export function assertTransition(from: OutboxState, to: OutboxState): void {
  if (!canTransition(from, to)) throw new Error(`outbox: ${from} -> ${to} is not an allowed transition`);
}

/** States from which `to` may be reached: the WHERE clause of the conditional UPDATE. */
export const fromStates = (to: OutboxState): OutboxState[] =>
  (Object.keys(TRANSITIONS) as OutboxState[]).filter((s) => TRANSITIONS[s].includes(to));

/**
 * Exponential backoff with full jitter (AWS's "full jitter": uniform in [0, min(cap, base*2^n))),
 * so a relay outage doesn't bring every failed row back at the same instant.
 * base 30 s, cap 6 h: eight attempts span roughly a day before a row is dead.
 */
export const BACKOFF_BASE_MS = 30_000;
export const BACKOFF_CAP_MS = 6 * 60 * 60 * 1000;

export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  // At least one second, so a failed row is never immediately re-claimed in the same pass.
  return Math.max(1000, Math.floor(random() * ceiling));
}
