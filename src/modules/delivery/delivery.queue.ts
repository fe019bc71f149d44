/**
 * Delivery through a message queue (Cloudflare Queues, on Workers): the queue says *which* row
 * to look at, the outbox row says everything else, and every change still goes through the
 * state machine. The Node build keeps its polling loop (delivery.service.ts) and never uses this.
 *
 * Rules:
 * - A message carries an outbox id and nothing else (OutboxQueueMessage). Rows are announced
 *   to the queue after the write that made them ready (delivery.machine.ts: announceReady).
 * - The consumer claims the row through the machine (claimDue on that id) before sending, so a
 *   duplicate message (the queue delivers at least once; the sweep may re-announce) finds the
 *   row claimed or sent and sends nothing: one email however many messages name the row.
 * - Each message is acknowledged or retried on its own, the moment its outcome is written, so
 *   an invocation that dies part-way redelivers only the messages it had not finished.
 * - A temporary failure retries the message with the delay the outbox's backoff chose (the
 *   row's next_attempt_at). The row's attempts decide when it is dead, as on Node.
 * - A relay-wide failure (or a paused outbox) consumes nothing: the attempt is given back
 *   (`unclaim`) and the row is announced again for the next probe, as a fresh message, so a
 *   long outage does not use up the queue's retries.
 * - A database fault (or a bug) stops the batch: that message and every one after it are
 *   retried, each explicitly, with a delay that doubles with the message's attempts (2 s, 4 s,
 *   ... about half an hour in all before the dead-letter queue); those already finished stay
 *   acknowledged. The handler returns normally, so nothing finished is delivered again.
 * - Messages the queue gave up on arrive on the dead-letter queue, whose consumer moves the row
 *   to `dead` through the machine (`dead_letter`): visible on the dashboard, requeue-able, never
 *   silently dropped.
 * - Partners' webhook deliveries (kind `webhook`) travel on the same queue and are claimed the
 *   same way, but are POSTed by the webhook transport (sendWebhookClaimed), never mailed. They
 *   have their own lane: a paused mail relay doesn't hold them up, and their answers say nothing
 *   about the relay (they neither end a pause nor count as its success).
 * - The cron's sweep (sweepOutbox) is only a safety net: leases of senders that died, the
 *   unconfirmed-letter sweep, and rows that stayed due long after the queue should have
 *   delivered them (re-announced at most once per grace period). Each step is bounded by the
 *   invocation's query budget.
 */
import { and, inArray, lte, ne, or, type SQL, sql } from "drizzle-orm";
import { chunks } from "../../db/limits";
import { outbox } from "../../db/schema.letters";
import type { Deps } from "../../deps";
import { affords, type QueryBudget, unlimited } from "../../lib/budget";
import { safeErrorText } from "../../lib/safe-error";
import { sweepUnconfirmed } from "../letters/letters.service";
import { processPrivacyRequests } from "../privacy/privacy.service";
import { announceReady, CLAIMABLE, claimDue, transition } from "./delivery.machine";
import { type Gate, relayGate, relayHealthy, resumeRelay } from "./delivery.relay";
import { OutboxQueueMessage } from "./delivery.schemas";
import {
  activeMailer,
  type DrainReport,
  emptyReport,
  flushPending,
  notToFlaggedAddress,
  type OutboxRow,
  type Outcome,
  type Pass,
  recoverExpiredLeases,
  sendClaimed,
  sendWebhookClaimed,
} from "./delivery.service";

/** What the consumer needs of a queue message (Cloudflare's Message has exactly this). */
export type QueueMessage = {
  readonly id: string;
  readonly body: unknown;
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
};

/** Cloudflare Queues delay a message by at most 12 hours. */
export const MAX_QUEUE_DELAY_S = 43_200;
export const queueDelaySeconds = (ms: number) =>
  Math.min(MAX_QUEUE_DELAY_S, Math.max(0, Math.ceil(ms / 1000)));

/**
 * Queries one message may cost: claim, the letter read for its notices, the acceptance, the
 * notices, and a spare for a re-read. A batch stops taking new messages when its budget can't
 * cover one more (they are announced again, not failed).
 */
const QUERIES_PER_MESSAGE = 6;
/** Kept back for the end of a batch (relay bookkeeping). */
const BATCH_RESERVE = 3;
/** A paused outbox with no probe time recorded is looked at again after this long. */
const PAUSE_FALLBACK_MS = 30_000;

export type BatchReport = DrainReport & {
  acked: number;
  retried: number;
  /** Announced again as a fresh message (relay paused, budget spent). */
  requeued: number;
  malformed: number;
  /** Why the batch stopped early (a database fault or a bug), if it did. */
  stopped?: string;
};

/** First retry after a batch stopped on a fault; doubles with each of the message's attempts. */
const STOPPED_RETRY_BASE_MS = 2000;

type Verdict =
  /** `webhook`: a partner's webhook delivery, which says nothing about the mail relay. */
  | { kind: "done"; outcome: Outcome | "gone" | "ended" | "waiting"; webhook?: boolean }
  /** `answered`: the relay answered a send (a temporary failure), so it works. */
  | { kind: "retry"; at: number; answered?: boolean; webhook?: boolean }
  | { kind: "deferred" }
  | { kind: "pending" };

/** Look at one row the queue named, claim it if it is due, send it, and say what to do with the message. */
async function deliverOne(
  deps: Deps,
  mailer: ReturnType<typeof activeMailer>,
  id: string,
  pass: Pass,
): Promise<Verdict> {
  const now = deps.clock.now();
  const claim = () => claimDue(deps, 1, { ids: [id], skip: notToFlaggedAddress });
  let [row]: OutboxRow[] = await claim();
  if (!row) {
    const [cur] = await deps.db
      .select({ state: outbox.state, nextAttemptAt: outbox.nextAttemptAt, leaseUntil: outbox.leaseUntil })
      .from(outbox)
      .where(sql`${outbox.id} = ${id}`);
    if (!cur) return { kind: "done", outcome: "gone" };
    if (cur.state === "sending") {
      // Someone holds it. If that sender died, its lease passes: come back then, and reclaim.
      if ((cur.leaseUntil ?? 0) > now) return { kind: "retry", at: (cur.leaseUntil ?? now) + 1000 };
      await recoverExpiredLeases(deps, { ids: [id], announce: false });
      [row] = await claim();
      if (!row) return { kind: "done", outcome: "ended" };
    } else if ((CLAIMABLE as readonly string[]).includes(cur.state) && cur.nextAttemptAt > now) {
      // Not due yet (announced early, or a duplicate of a retried message): come back then.
      return { kind: "retry", at: cur.nextAttemptAt };
    } else {
      // Sent, ended, not confirmed yet, held for moderation, or waiting for a flagged address
      // to change (the sweep announces it again once it is claimable).
      return {
        kind: "done",
        outcome: (CLAIMABLE as readonly string[]).includes(cur.state) ? "waiting" : "ended",
      };
    }
  }
  if (row.kind === "webhook") {
    const hook = await sendWebhookClaimed(deps, row, { pass, justClaimed: true });
    if (hook === "retrying")
      return { kind: "retry", at: pass.retryAt?.get(id) ?? now + 30_000, webhook: true };
    if (hook === "skipped") return { kind: "retry", at: now + 1000, webhook: true };
    return { kind: "done", outcome: hook, webhook: true };
  }
  const outcome = await sendClaimed(deps, mailer, row, { pass, justClaimed: true });
  switch (outcome) {
    case "retrying":
      return { kind: "retry", at: pass.retryAt?.get(id) ?? now + 30_000, answered: true };
    case "deferred":
      return { kind: "deferred" };
    case "pending":
      return { kind: "pending" };
    case "skipped":
      return { kind: "retry", at: now + 1000 };
    default:
      return { kind: "done", outcome };
  }
}

/**
 * Consume one batch from the delivery queue. Every message is acknowledged or retried
 * explicitly; on a database fault the rest of the batch is retried and `stopped` says why.
 */
export async function consumeOutboxBatch(
  deps: Deps,
  messages: readonly QueueMessage[],
  opts: { budget?: QueryBudget } = {},
): Promise<BatchReport> {
  const budget = opts.budget ?? unlimited;
  const report: BatchReport = { ...emptyReport(), acked: 0, retried: 0, requeued: 0, malformed: 0 };
  await flushPending(deps, report);
  const mailer = activeMailer(deps);
  let gate: Gate =
    deps.config.MAIL_MODE === "capture" ? { mode: "open", row: undefined } : await relayGate(deps, mailer);
  const pass: Pass = {};
  const ack = (m: QueueMessage) => {
    m.ack();
    report.acked++;
  };
  const retry = (m: QueueMessage, at: number) => {
    m.retry({ delaySeconds: queueDelaySeconds(at - deps.clock.now()) });
    report.retried++;
  };
  /** Hand the row back to the queue as a fresh message due at `at`, then let this one go. */
  const requeue = async (m: QueueMessage, id: string, at: number) => {
    try {
      await deps.outboxQueue.enqueue([{ id, dueAt: at }]);
      ack(m);
      report.requeued++;
    } catch (e) {
      deps.logger.warn("outbox queue: could not requeue; retrying the message instead", {
        outboxId: id,
        error: safeErrorText(e),
      });
      retry(m, at);
    }
  };
  /** Whether the message names a partner's webhook delivery (sent even while mail is paused). */
  const isWebhook = async (id: string) => {
    const [r] = await deps.db.select({ kind: outbox.kind }).from(outbox).where(sql`${outbox.id} = ${id}`);
    return r?.kind === "webhook";
  };
  const pausedUntil = () => pass.nextProbeAt ?? gate.row?.nextProbeAt ?? deps.clock.now() + PAUSE_FALLBACK_MS;

  let i = 0;
  try {
    for (; i < messages.length; i++) {
      const m = messages[i] as QueueMessage;
      await handle(m);
    }
  } catch (e) {
    // This message and the rest go back to the queue; what finished stays finished.
    report.stopped = safeErrorText(e);
    deps.logger.error("outbox queue batch stopped; the rest of the batch will be redelivered", {
      error: report.stopped,
      redelivered: messages.length - i,
    });
    for (const m of messages.slice(i))
      retry(m, deps.clock.now() + STOPPED_RETRY_BASE_MS * 2 ** Math.min(20, Math.max(0, m.attempts - 1)));
  }
  if (pass.relayDown) report.paused = true;
  else if (report.sent > 0) await relayHealthy(deps, gate.row);
  return report;

  async function handle(m: QueueMessage) {
    const parsed = OutboxQueueMessage.safeParse(m.body);
    if (!parsed.success) {
      // It can never name a row: retrying would only fill the dead-letter queue.
      deps.logger.error("outbox queue: a message that names no outbox row was dropped", {
        queueMessageId: m.id,
      });
      report.malformed++;
      ack(m);
      return;
    }
    const { id } = parsed.data;
    if ((gate.mode === "paused" || pass.relayDown) && !(await isWebhook(id))) {
      report.deferred++;
      await requeue(m, id, pausedUntil());
      return;
    }
    if (!affords(budget, QUERIES_PER_MESSAGE, BATCH_RESERVE)) {
      await requeue(m, id, deps.clock.now());
      return;
    }
    const v = await deliverOne(deps, mailer, id, pass);
    // Counted apart: a partner's endpoint answering says nothing about the mail relay.
    if ((v.kind === "done" || v.kind === "retry") && v.webhook) report.webhooks++;
    if (v.kind === "done" && v.webhook) {
      if (v.outcome === "sent") report.webhooksSent++;
      else if (v.outcome === "dead" || v.outcome === "lost") report[v.outcome]++;
      ack(m);
      return;
    }
    if (v.kind === "done") {
      const o = v.outcome;
      if (o === "sent" || o === "dead" || o === "bounced" || o === "lost") report[o]++;
      ack(m);
    } else if (v.kind === "retry") {
      report.retrying++;
      if (v.at - deps.clock.now() > MAX_QUEUE_DELAY_S * 1000)
        ack(m); // the sweep brings it back
      else retry(m, v.at);
    } else if (v.kind === "deferred") {
      report.deferred++;
      await requeue(m, id, pausedUntil());
    } else {
      // Accepted by the relay, not yet written (database fault): redeliver this message, whose
      // acceptance is held in memory and written first thing, and stop the batch.
      report.pending++;
      throw new Error("the database refused to record a sent message");
    }
    if (v.kind === "done" || v.kind === "retry") {
      const answered =
        v.kind === "retry" ? v.answered === true : ["sent", "bounced", "dead"].includes(v.outcome);
      // A paused relay answered about a message (probe): sending works again.
      if (gate.mode === "probe" && answered && !pass.relayDown) {
        await resumeRelay(deps, "probe message");
        gate = { mode: "open", row: gate.row };
      }
    }
  }
}

/**
 * The dead-letter queue's consumer: the delivery queue gave up on these rows' messages (its
 * retries ran out). Each row moves to `dead` through the machine, unless it was sent meanwhile
 * or is being sent right now (then the message comes back when the lease has passed).
 */
export async function consumeDeadLetters(deps: Deps, messages: readonly QueueMessage[]) {
  let dead = 0;
  for (const m of messages) {
    const parsed = OutboxQueueMessage.safeParse(m.body);
    if (!parsed.success) {
      deps.logger.error("outbox dead-letter queue: a message that names no outbox row was dropped", {
        queueMessageId: m.id,
      });
      m.ack();
      continue;
    }
    const { id } = parsed.data;
    const now = deps.clock.now();
    const n = await transition(
      deps,
      "dead_letter",
      { id },
      { guard: or(ne(outbox.state, "sending"), lte(outbox.leaseUntil, now)) as SQL },
    );
    if (n) {
      dead++;
      deps.logger.error(
        "outbox: the delivery queue gave up on a message; it is now dead (requeue it from the dashboard)",
        { outboxId: id },
      );
    } else {
      const [cur] = await deps.db
        .select({ state: outbox.state, leaseUntil: outbox.leaseUntil })
        .from(outbox)
        .where(sql`${outbox.id} = ${id}`);
      if (cur?.state === "sending" && (cur.leaseUntil ?? 0) > now) {
        m.retry({ delaySeconds: queueDelaySeconds((cur.leaseUntil ?? now) - now + 1000) });
        continue;
      }
    }
    m.ack();
  }
  return { dead };
}

// --- the safety sweep ---------------------------------------------------------------------

/**
 * How long a row may stay due before the sweep announces it again. A healthy queue delivers in
 * seconds; this long means the message was lost (or the queue is far behind, when the duplicate
 * costs one look at the row).
 */
export const SWEEP_GRACE_MS = 5 * 60_000;
/** Rows one sweep re-announces at most. */
const SWEEP_ROWS = 1000;

export type SweepReport = {
  reclaimed: number;
  reminded: number;
  expired: number;
  requeued: number;
  /** Export and erasure links mailed (privacy requests answered off the page's response path). */
  privacyMailed: number;
};

/** The cron's safety sweep on Workers: what the queue alone can't guarantee. */
export async function sweepOutbox(
  deps: Deps,
  opts: { budget?: QueryBudget; graceMs?: number } = {},
): Promise<SweepReport> {
  const budget = opts.budget ?? unlimited;
  // Senders that died mid-send: their rows get another attempt (announced to the queue).
  const reclaimed = affords(budget, 20) ? await recoverExpiredLeases(deps, { limit: 200 }) : 0;
  const swept = affords(budget, 10) ? await sweepUnconfirmed(deps, { budget }) : { reminded: 0, expired: 0 };
  // Privacy requests asked for since the last run: their links go out through the queue.
  const privacy = await processPrivacyRequests(deps, { budget });
  const requeued = await requeueLost(deps, { budget, graceMs: opts.graceMs ?? SWEEP_GRACE_MS });
  return {
    reclaimed,
    reminded: swept.reminded,
    expired: swept.expired,
    requeued,
    privacyMailed: privacy.mailed,
  };
}

/** Rows due for longer than the grace period and not re-announced within it: announce them again. */
async function requeueLost(deps: Deps, opts: { budget: QueryBudget; graceMs: number }): Promise<number> {
  // One read, then one write per ID_CHUNK of rows.
  const room = Math.min(SWEEP_ROWS, Math.floor((opts.budget.left() - 2) * 80));
  if (room <= 0) return 0;
  const now = deps.clock.now();
  const cutoff = now - opts.graceMs;
  const rows = await deps.db
    .select({ id: outbox.id })
    .from(outbox)
    .where(
      and(
        inArray(outbox.state, [...CLAIMABLE]),
        lte(outbox.nextAttemptAt, cutoff),
        sql`coalesce(${outbox.enqueuedAt}, 0) <= ${cutoff}`,
        notToFlaggedAddress,
      ),
    )
    .orderBy(outbox.nextAttemptAt)
    .limit(room);
  let n = 0;
  for (const chunk of chunks(rows.map((r) => r.id))) {
    if (!affords(opts.budget, 1)) break;
    await deps.db.update(outbox).set({ enqueuedAt: now }).where(inArray(outbox.id, chunk));
    await announceReady(
      deps,
      chunk.map((id) => ({ id, dueAt: now })),
    );
    n += chunk.length;
  }
  if (n) deps.logger.warn("outbox sweep: rows the queue had not delivered were announced again", { rows: n });
  return n;
}
