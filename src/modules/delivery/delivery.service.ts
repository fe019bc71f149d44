/**
 * Delivery: the outbox worker's verbs. Runtime-agnostic: the Node loop, the CLI `drain` and the
 * Workers cron all call `drainOnce` / `drainOutbox`. Every state change goes through the state
 * machine (delivery.machine.ts).
 *
 * Rules:
 * - Claiming is one UPDATE ... RETURNING (attempts + 1, a lease, a claim token): two workers
 *   never claim the same row. Right before each send the claimer checks its lease has not
 *   lapsed and extends it (`extend`): a row whose lease ran out while it waited its turn in the
 *   batch is not sent by this worker; whoever reclaims it sends it once.
 * - Accepted means sent. The moment the relay accepts a message, `accept` is written on its own
 *   (one conditional UPDATE, the letter's status and the attempt's log row in the same atomic
 *   write), retried a few times if the database is busy, and if it still cannot be written the
 *   acceptance is held in memory and written at the start of the next pass, before any lapsed
 *   lease is reclaimed. Nothing that follows a send (the "sent" notice, the follow-up, a failure
 *   elsewhere) can turn an accepted message back into one to retry: those rows are rendered
 *   before the send and written after it, separately, and a failure there is logged and retried.
 * - An outcome write that matches no row (the claim was taken over) is reported as `lost`
 *   (error log, a `lost` line in the delivery log), never counted as sent.
 * - Failures are classified by what failed (classifyFailure, shared with the Workers mail API):
 *   per-message failures retry, give up or bounce the message; relay-wide failures give the
 *   attempt back (`unclaim`), stop the pass and pause the outbox (delivery.relay.ts).
 * - The remaining at-least-once window: the relay accepted the message and the process died
 *   (or the relay dropped the connection after storing the message, before its 250) before the
 *   acceptance was written. The row is reclaimed after its lease and sent once more, with the
 *   same Message-ID, so the receiving server (or the MP's mail client) can recognise the copy.
 * - MAIL_MODE=capture always uses the capture mailer, whatever transport deps carry: the default
 *   configuration can never send mail. Mail to a recipient that reflects (the test MP) or to a
 *   reserved .invalid domain always goes back to the supporter.
 */
import { and, eq, gt, inArray, lte, ne, or, type SQL, sql } from "drizzle-orm";
import { chunks, ID_CHUNK } from "../../db/limits";
import { recipientFlags } from "../../db/schema.delivery";
import { deliveryLog, letters, outbox } from "../../db/schema.letters";
import type { Deps, Mailer, MailMessage, Statement } from "../../deps";
import { describeError, safeErrorText } from "../../lib/safe-error";
import { followupEmail, letterForEmailColumns, sentNoticeEmail } from "../letters/letters.emails";
import { sweepUnconfirmed } from "../letters/letters.service";
import { prepareWebhookRequest } from "../partners/partners.signing";
import { processPrivacyRequests } from "../privacy/privacy.service";
import { bounceStatements } from "./delivery.bounces";
import {
  announceInserted,
  announceReady,
  backoffMs,
  claimDue,
  insertOutboxWhen,
  MAILBOX_FULL_RETRY_MS,
  type NewOutboxRow,
  type OutboxEvent,
  transition,
  transitionStatements,
} from "./delivery.machine";
import { captureMailer, classifyFailure, type RelayReason } from "./delivery.mail";
import { actualRecipient } from "./delivery.outbox";
import { type Gate, pauseRelay, relayGate, relayHealthy, resumeRelay } from "./delivery.relay";
import { bounceToken, verpAddress } from "./delivery.verp";

export { actualRecipient };

export type OutboxRow = typeof outbox.$inferSelect;

export type DrainReport = {
  claimed: number;
  sent: number;
  retrying: number;
  dead: number;
  bounced: number;
  reclaimed: number;
  reminded: number;
  expired: number;
  /** Given back untouched because the relay failed as a whole (the outbox paused). */
  deferred: number;
  /** Not sent by this worker: its lease had lapsed by the time the row's turn came. */
  skipped: number;
  /** Outcome writes that matched no row (the claim had been taken over): see the error log. */
  lost: number;
  /** Accepted by the relay, the write not yet done (database busy): held for the next pass. */
  pending: number;
  /** The outbox is paused (relay-wide failure); nothing more is claimed until a probe passes. */
  paused: boolean;
  /** Partners' webhook deliveries claimed this pass (their own lane: see drainWebhooks). */
  webhooks: number;
  webhooksSent: number;
};

export const emptyReport = (): DrainReport => ({
  claimed: 0,
  sent: 0,
  retrying: 0,
  dead: 0,
  bounced: 0,
  reclaimed: 0,
  reminded: 0,
  expired: 0,
  deferred: 0,
  skipped: 0,
  lost: 0,
  pending: 0,
  paused: false,
  webhooks: 0,
  webhooksSent: 0,
});

/** The transport for the configured mode. */
export function activeMailer(deps: Pick<Deps, "config" | "mailer" | "db" | "clock">): Mailer {
  return deps.config.MAIL_MODE === "capture" ? captureMailer(deps.db, deps.clock) : deps.mailer;
}

export async function messageFor(deps: Pick<Deps, "config">, row: OutboxRow): Promise<MailMessage> {
  const token = await bounceToken(deps.config.TOKEN_SECRET, row.id);
  return {
    from: { name: row.fromName, address: deps.config.MAIL_FROM },
    to: actualRecipient(deps, row),
    replyTo: row.replyTo ? { name: row.replyToName ?? undefined, address: row.replyTo } : undefined,
    subject: row.subject,
    text: row.bodyText,
    messageId: row.messageId,
    envelopeFrom: token ? verpAddress(deps.config, token) : undefined,
    bounceToken: token ?? undefined,
  };
}

// --- accepted but not yet written -----------------------------------------------------------

type Pending = {
  row: OutboxRow;
  response: string;
  /** Whether `accept` is written (then only the follow-up rows wait). */
  recorded: boolean;
  /** Rows to write once `sent` is recorded. */
  followups: NewOutboxRow[];
};
/**
 * Acceptances (and follow-up rows) the database refused to record, per configured service (one
 * per process on Node, per isolate on Workers, whose queue batches each get their own deps but
 * share the configuration): written first thing in the next pass, and their rows are never
 * reclaimed meanwhile. Lost only if this process dies too: the documented at-least-once window.
 */
const pendingByService = new WeakMap<object, Map<string, Pending>>();
const pendingFor = (deps: Pick<Deps, "config">) => {
  let m = pendingByService.get(deps.config);
  if (!m) {
    m = new Map();
    pendingByService.set(deps.config, m);
  }
  return m;
};

/** Delays between attempts to record an acceptance while the database is busy. */
const RECORD_RETRY_MS = [20, 100, 400, 1000];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const shortText = (s: string | undefined) => (s ?? "").replace(/\s+/g, " ").slice(0, 200);
const replyCode = (s: string | undefined) => {
  const n = Number.parseInt(s ?? "", 10);
  return Number.isFinite(n) ? n : null;
};

/** A delivery-log line for each outbox row matching `where`, at the row's current attempt. */
function logLines(
  deps: Pick<Deps, "db">,
  line: {
    outcome: (typeof deliveryLog.$inferInsert)["outcome"];
    smtpCode: number | null;
    detail: string | null;
    at: number;
  },
  where: SQL | undefined,
) {
  return deps.db.insert(deliveryLog).select(
    deps.db
      .select({
        id: sql`null`.as("id"),
        outboxId: outbox.id,
        attempt: outbox.attempts,
        outcome: sql`${line.outcome}`.as("outcome"),
        smtpCode: sql`${line.smtpCode}`.as("smtp_code"),
        detail: sql`${line.detail}`.as("detail"),
        at: sql`${line.at}`.as("at"),
      })
      .from(outbox)
      .where(where),
  );
}

/** The attempt's log line, written only if the row is (now) in `state` with this attempt. */
function logWhen(
  deps: Pick<Deps, "db">,
  row: OutboxRow,
  state: OutboxRow["state"],
  line: {
    outcome: (typeof deliveryLog.$inferInsert)["outcome"];
    smtpCode: number | null;
    detail: string | null;
    at: number;
  },
): Statement {
  return logLines(
    deps,
    line,
    and(eq(outbox.id, row.id), eq(outbox.state, state), eq(outbox.attempts, row.attempts)),
  ).onConflictDoUpdate({
    // A lapsed attempt was logged `reclaimed`; a late acceptance of it replaces that line.
    target: [deliveryLog.outboxId, deliveryLog.attempt],
    set: { outcome: line.outcome, smtpCode: line.smtpCode, detail: line.detail, at: line.at },
  });
}

/** This claim's rows: the claim token, or (for a late acceptance) the same attempt after a lapse. */
const stillOurs = (row: OutboxRow) =>
  and(
    eq(outbox.attempts, row.attempts),
    or(
      and(eq(outbox.state, "sending"), eq(outbox.claimToken, row.claimToken ?? "")),
      inArray(outbox.state, ["failed", "dead"]),
    ),
  );
const ourClaim = (row: OutboxRow) => eq(outbox.claimToken, row.claimToken ?? "");

/** Write `accept`; true when written, false when the row had moved on (lost). Throws on DB errors. */
async function writeAccepted(deps: Deps, row: OutboxRow, response: string): Promise<boolean> {
  const now = deps.clock.now();
  const { statements, index } = transitionStatements(
    deps,
    "accept",
    { id: row.id },
    {
      guard: stillOurs(row),
      after: [
        logWhen(deps, row, "sent", {
          outcome: "sent",
          smtpCode: replyCode(response),
          detail: shortText(response) || null,
          at: now,
        }),
      ],
    },
  );
  const changes = await deps.atomic(statements);
  if ((changes[index] ?? 0) > 0) return true;
  await deps.db
    .insert(deliveryLog)
    .values({
      outboxId: row.id,
      attempt: row.attempts,
      outcome: "lost",
      detail: shortText(response) || null,
      at: now,
    })
    .onConflictDoUpdate({
      target: [deliveryLog.outboxId, deliveryLog.attempt],
      set: { outcome: "lost", detail: shortText(response) || null, at: now },
    });
  deps.logger.error(
    "outbox: the relay accepted a message whose claim had been taken over (a send outlasted its lease); not recorded as sent",
    {
      outboxId: row.id,
      attempt: row.attempts,
    },
  );
  return false;
}

async function writeFollowups(deps: Deps, row: OutboxRow, followups: NewOutboxRow[]) {
  if (!followups.length) return;
  await deps.atomic(followups.map((r) => insertOutboxWhen(deps, r, { id: row.id, state: "sent" })));
  // The "sent" notice is due now, the follow-up in LETTER_FOLLOWUP_DAYS.
  await announceInserted(deps, followups);
}

export type Outcome = "sent" | "retrying" | "dead" | "bounced" | "lost" | "skipped" | "deferred" | "pending";

/** Record an acceptance; on a busy database keep trying briefly, then hold it for the next pass. */
async function recordAccepted(deps: Deps, p: Pending): Promise<Outcome> {
  let lastError: unknown;
  for (let i = 0; i <= RECORD_RETRY_MS.length; i++) {
    try {
      const ok = await writeAccepted(deps, p.row, p.response);
      if (!ok) return "lost";
      lastError = undefined;
      break;
    } catch (e) {
      lastError = e;
      const wait = RECORD_RETRY_MS[i];
      if (wait !== undefined) await sleep(wait);
    }
  }
  if (lastError !== undefined) {
    pendingFor(deps).set(p.row.id, p);
    deps.logger.error("outbox: accepted message not yet recorded (database error); held for the next pass", {
      outboxId: p.row.id,
      error: safeErrorText(lastError),
    });
    return "pending";
  }
  if (p.followups.length) {
    try {
      await writeFollowups(deps, p.row, p.followups);
    } catch (e) {
      // The message is sent; only its notices wait. They are written next pass (never a resend).
      pendingFor(deps).set(p.row.id, { ...p, recorded: true });
      deps.logger.error("outbox: sent, but its notices could not be queued yet; retrying next pass", {
        outboxId: p.row.id,
        error: safeErrorText(e),
      });
    }
  }
  return "sent";
}

/** Write what earlier passes could not. Runs before leases are reclaimed. */
export async function flushPending(deps: Deps, report: DrainReport) {
  const pending = pendingFor(deps);
  for (const [id, p] of [...pending]) {
    try {
      if (!p.recorded) {
        const ok = await writeAccepted(deps, p.row, p.response);
        if (!ok) {
          pending.delete(id);
          report.lost++;
          continue;
        }
        p.recorded = true;
        report.sent++;
      }
      if (p.followups.length) await writeFollowups(deps, p.row, p.followups);
      pending.delete(id);
    } catch {
      // Still failing: keep it for the next pass (the row stays ours: see recoverExpiredLeases).
    }
  }
  report.pending = pending.size;
}

// --- failures ------------------------------------------------------------------------------

/** Pass-wide state shared by the lanes of one drain pass (or one queue batch). */
export type Pass = {
  relayDown?: { reason: RelayReason; detail: string; retryAfterMs?: number };
  /** When the paused relay is next probed (set with relayDown). */
  nextProbeAt?: number;
  /** Retried rows' next attempt times, for a queue consumer's retry delay. */
  retryAt?: Map<string, number>;
};

async function recordFailure(deps: Deps, row: OutboxRow, e: unknown, pass: Pass): Promise<Outcome> {
  // A mail error's text is the relay's short answer (addresses redacted); anything else, e.g. a
  // database error from the capture mailer, is named by its code, never its parameters.
  const detail = shortText(safeErrorText(e).replace(/^MailError: /, ""));
  const verdict = classifyFailure(e);
  if (verdict.scope === "relay") {
    // Nothing is wrong with this message: give its attempt back, pause the outbox (once per
    // pass, however many lanes saw it) and stop the pass.
    const n = await transition(
      deps,
      "unclaim",
      { id: row.id },
      { guard: ourClaim(row), set: { lastError: detail } },
    );
    if (!pass.relayDown) {
      pass.relayDown = { reason: verdict.reason, detail, retryAfterMs: verdict.retryAfterMs };
      pass.nextProbeAt = (await pauseRelay(deps, pass.relayDown)).nextProbeAt ?? undefined;
    }
    if (n === 0)
      deps.logger.error("outbox: a deferral matched no row (claim taken over)", { outboxId: row.id });
    return n === 0 ? "lost" : "deferred";
  }
  if (!(e instanceof Error && e.name === "MailError"))
    // A bug, not a delivery failure: logged, and retried like a temporary failure.
    deps.logger.error("outbox send crashed", {
      outboxId: row.id,
      error: describeError(e),
    });
  const now = deps.clock.now();
  const exhausted = row.attempts >= (row.attemptLimit ?? deps.config.OUTBOX_MAX_ATTEMPTS);
  let event: OutboxEvent;
  let nextAttemptAt = now;
  if (verdict.action === "refuse") event = "refuse";
  else if (verdict.action === "give_up" || exhausted) event = "give_up";
  else {
    event = "retry";
    const wait = backoffMs(row.attempts);
    // A full mailbox (552, x.2.2) rarely empties in minutes: no sooner than two hours.
    nextAttemptAt = now + (verdict.action === "retry_late" ? Math.max(MAILBOX_FULL_RETRY_MS, wait) : wait);
  }
  const to = event === "refuse" ? "bounced" : event === "give_up" ? "dead" : "failed";
  const smtpCode = (e as { smtpCode?: number }).smtpCode ?? null;
  const after: Statement[] = [
    logWhen(deps, row, to, {
      outcome: event === "retry" ? "temporary_failure" : "permanent_failure",
      smtpCode,
      detail,
      at: now,
    }),
  ];
  const notices: NewOutboxRow[] = [];
  if (event === "refuse")
    after.push(...(await bounceStatements(deps, row, { detail, source: "smtp" }, notices)));
  const n = await transition(
    deps,
    event,
    { id: row.id },
    { guard: ourClaim(row), set: { lastError: detail, nextAttemptAt }, after },
  );
  if (n > 0) await announceInserted(deps, notices);
  if (n === 0) {
    deps.logger.error("outbox: a failure outcome matched no row (claim taken over)", {
      outboxId: row.id,
      attempt: row.attempts,
    });
    return "lost";
  }
  deps.logger.warn("outbox send failed", {
    outboxId: row.id,
    kind: row.kind,
    attempt: row.attempts,
    smtpCode,
    next: to,
  });
  if (event === "retry") {
    pass.retryAt ??= new Map();
    pass.retryAt.set(row.id, nextAttemptAt);
  }
  return event === "retry" ? "retrying" : event === "refuse" ? "bounced" : "dead";
}

// --- one message ----------------------------------------------------------------------------

/**
 * Send one claimed row and record the outcome. `followups` are the rows to queue once it is sent
 * (rendered beforehand); by default they are prepared here.
 */
export async function sendClaimed(
  deps: Deps,
  mailer: Mailer,
  row: OutboxRow,
  opts: { followups?: NewOutboxRow[]; pass?: Pass; justClaimed?: boolean } = {},
): Promise<Outcome> {
  const pass = opts.pass ?? {};
  const now = deps.clock.now();
  // The lease is checked and extended right before sending: a claimer that has lost it (its
  // lease lapsed while the row waited its turn) must not send what someone else may be sending.
  // A row claimed a moment ago on its own (a queue consumer) has its whole lease ahead of it.
  const extended = opts.justClaimed
    ? 1
    : await transition(
        deps,
        "extend",
        { id: row.id },
        {
          guard: and(ourClaim(row), gt(outbox.leaseUntil, now)),
        },
      );
  if (extended === 0) {
    deps.logger.warn("outbox: lease lapsed before sending; left for reclaiming, not sent", {
      outboxId: row.id,
    });
    return "skipped";
  }
  const followups = opts.followups ?? (await prepareFollowups(deps, [row])).get(row.id) ?? [];
  let response: string;
  try {
    const res = await mailer.send(await messageFor(deps, row));
    response = res.response ?? "250 accepted";
  } catch (e) {
    return recordFailure(deps, row, e, pass);
  }
  return recordAccepted(deps, { row, response, recorded: false, followups });
}

/** The "sent" notice and follow-up of each letter row, rendered before anything is sent. */
async function prepareFollowups(deps: Deps, rows: OutboxRow[]): Promise<Map<string, NewOutboxRow[]>> {
  const out = new Map<string, NewOutboxRow[]>();
  const letterRows = rows.filter((r) => r.kind === "letter" && r.letterId);
  for (const chunk of chunks(letterRows)) {
    const found = await deps.db
      .select(letterForEmailColumns)
      .from(letters)
      .where(
        inArray(
          letters.id,
          chunk.map((r) => r.letterId as string),
        ),
      );
    const byLetter = new Map(found.map((l) => [l.id, l]));
    for (const r of chunk) {
      const l = byLetter.get(r.letterId as string);
      if (!l) continue;
      try {
        out.set(r.id, [sentNoticeEmail(deps, l), await followupEmail(deps, l)]);
      } catch (e) {
        // Sending the letter matters more than its notices: send it, and say what went wrong.
        deps.logger.error("outbox: could not render a letter's notices; the letter is sent without them", {
          outboxId: r.id,
          error: safeErrorText(e),
        });
      }
    }
  }
  return out;
}

// --- crash recovery -------------------------------------------------------------------------

/**
 * `sending` rows whose lease has passed: their sender died. One more attempt (or dead), logged;
 * the rows given another attempt are announced to the sender (on Workers: the queue). `ids`
 * limits it to those rows (a queue consumer finding its row stuck); `limit` bounds one call.
 */
export async function recoverExpiredLeases(
  deps: Deps,
  opts: { ids?: string[]; limit?: number; announce?: boolean } = {},
): Promise<number> {
  const now = deps.clock.now();
  const pending = pendingFor(deps);
  const lapsed = and(eq(outbox.state, "sending"), lte(outbox.leaseUntil, now)) as SQL;
  const rows = (
    await deps.db
      .select({ id: outbox.id, attempts: outbox.attempts, attemptLimit: outbox.attemptLimit })
      .from(outbox)
      .where(and(lapsed, opts.ids ? inArray(outbox.id, opts.ids) : undefined))
      .limit(opts.limit ?? 500)
  ).filter((r) => !pending.has(r.id));
  let n = 0;
  for (const chunk of chunks(rows)) {
    for (const final of [false, true]) {
      const ids = chunk
        .filter((r) => r.attempts >= (r.attemptLimit ?? deps.config.OUTBOX_MAX_ATTEMPTS) === final)
        .map((r) => r.id);
      if (!ids.length) continue;
      const log = logLines(
        deps,
        { outcome: "reclaimed", smtpCode: null, detail: "lease expired while sending", at: now },
        and(inArray(outbox.id, ids), lapsed),
      ).onConflictDoNothing();
      const moved = await transition(
        deps,
        final ? "lapse_final" : "lapse",
        { ids },
        { guard: lapsed, before: [log] },
      );
      n += moved;
      if (moved && !final && opts.announce !== false)
        await announceReady(
          deps,
          ids.map((id) => ({ id, dueAt: now })),
        );
    }
  }
  if (n) deps.logger.warn("outbox: reclaimed rows whose sender stopped (lease lapsed)", { rows: n });
  return n;
}

/** Run `fn` over `items` with at most `n` in flight (the SMTP pool's size). */
async function eachLimited<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let i = 0;
  const lane = async () => {
    while (i < items.length) {
      const item = items[i++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, lane));
}

/** Letters to a representative's address that hard-bounced wait (not claimed) until it changes. */
export const notToFlaggedAddress = sql`not (${outbox.kind} = 'letter' and ${outbox.alwaysReflect} = 0 and exists (select 1 from ${recipientFlags} f where f.address = lower(${outbox.toEmail})))`;

// --- partners' webhooks ---------------------------------------------------------------------

/**
 * Webhook deliveries in flight at once. Each is one short POST (WEBHOOK_TIMEOUT_MS at most), so a
 * few partners' slow endpoints can't hold up the rest of a batch for long.
 */
const WEBHOOK_LANES = 4;

export type WebhookOutcomeName = "sent" | "retrying" | "dead" | "lost" | "skipped";

/** Record a failed webhook attempt: retried with backoff, or dead (permanent, or out of attempts). */
async function recordWebhookFailure(
  deps: Deps,
  row: OutboxRow,
  f: { permanent: boolean; status: number | null; detail: string },
  pass: Pass,
): Promise<WebhookOutcomeName> {
  const now = deps.clock.now();
  const exhausted = row.attempts >= (row.attemptLimit ?? deps.config.OUTBOX_MAX_ATTEMPTS);
  const event: OutboxEvent = f.permanent || exhausted ? "give_up" : "retry";
  const to = event === "retry" ? "failed" : "dead";
  const nextAttemptAt = event === "retry" ? now + backoffMs(row.attempts) : now;
  const n = await transition(
    deps,
    event,
    { id: row.id },
    {
      guard: ourClaim(row),
      set: { lastError: f.detail, nextAttemptAt },
      after: [
        logWhen(deps, row, to, {
          outcome: event === "retry" ? "temporary_failure" : "permanent_failure",
          smtpCode: f.status,
          detail: f.detail,
          at: now,
        }),
      ],
    },
  );
  if (n === 0) return "lost";
  deps.logger.warn("webhook delivery failed", {
    outboxId: row.id,
    partner: row.partnerKey,
    attempt: row.attempts,
    status: f.status,
    next: to,
  });
  if (event === "retry") {
    pass.retryAt ??= new Map();
    pass.retryAt.set(row.id, nextAttemptAt);
  }
  return event === "retry" ? "retrying" : "dead";
}

/**
 * POST one claimed webhook row and record the outcome. 2xx: sent. 410 Gone, a switched-off
 * webhook or a refused address: dead at once (requeue-able by the partner once fixed). Any other
 * answer (a redirect, which is never followed, 4xx, 5xx), a timeout or no connection: retried
 * with the outbox's backoff, dead after OUTBOX_MAX_ATTEMPTS. Never pauses the mail relay.
 */
export async function sendWebhookClaimed(
  deps: Deps,
  row: OutboxRow,
  opts: { pass?: Pass; justClaimed?: boolean } = {},
): Promise<WebhookOutcomeName> {
  const pass = opts.pass ?? {};
  // As for mail (sendClaimed): a row claimed a moment ago on its own has its whole lease ahead.
  const extended = opts.justClaimed
    ? 1
    : await transition(
        deps,
        "extend",
        { id: row.id },
        { guard: and(ourClaim(row), gt(outbox.leaseUntil, deps.clock.now())) },
      );
  if (extended === 0) return "skipped";
  const prepared = await prepareWebhookRequest(deps, row);
  if (!prepared.ok)
    return recordWebhookFailure(deps, row, { permanent: true, status: null, detail: prepared.reason }, pass);
  const outcome = await deps.webhooks.post(prepared.request);
  if (outcome.kind === "status" && outcome.status >= 200 && outcome.status < 300) {
    const ok = await writeAccepted(deps, row, `${outcome.status} accepted`);
    return ok ? "sent" : "lost";
  }
  if (outcome.kind === "status")
    return recordWebhookFailure(
      deps,
      row,
      {
        permanent: outcome.status === 410,
        status: outcome.status,
        detail:
          outcome.status >= 300 && outcome.status < 400
            ? `HTTP ${outcome.status}: redirects are not followed; give the final address`
            : `HTTP ${outcome.status}`,
      },
      pass,
    );
  return recordWebhookFailure(
    deps,
    row,
    {
      permanent: outcome.kind === "refused",
      status: null,
      detail: `${outcome.kind}: ${outcome.detail}`.slice(0, 200),
    },
    pass,
  );
}

/**
 * One pass over due webhook deliveries: claimed like mail (one UPDATE ... RETURNING, leases,
 * claim tokens), sent by the webhook transport. `only` claims one row (the "send test event"
 * button delivers at once).
 */
export async function drainWebhooks(
  deps: Deps,
  opts: { batch?: number; only?: string } = {},
): Promise<{ claimed: number; sent: number }> {
  const rows = await claimDue(deps, opts.only ? 1 : (opts.batch ?? deps.config.OUTBOX_BATCH), {
    kinds: ["webhook"],
    skip: opts.only ? eq(outbox.id, opts.only) : undefined,
  });
  let sent = 0;
  await eachLimited(rows, WEBHOOK_LANES, async (row) => {
    try {
      if ((await sendWebhookClaimed(deps, row)) === "sent") sent++;
    } catch (e) {
      deps.logger.error(
        "webhook: could not record an outcome (database error); the lease will bring the row back",
        {
          outboxId: row.id,
          error: e instanceof Error ? e.message : String(e),
        },
      );
    }
  });
  return { claimed: rows.length, sent };
}

/**
 * One pass: write what an earlier pass could not, recover lapsed leases, remind/expire
 * unconfirmed letters, then (unless the relay is paused) claim and send one batch.
 * `claimed === batch` means there is probably more to do.
 */
export async function drainOnce(
  deps: Deps,
  opts: { batch?: number; concurrency?: number; kinds?: OutboxRow["kind"][] } = {},
): Promise<DrainReport> {
  const report = emptyReport();
  await flushPending(deps, report);
  report.reclaimed = await recoverExpiredLeases(deps);
  const swept = await sweepUnconfirmed(deps);
  report.reminded = swept.reminded;
  report.expired = swept.expired;
  // Export and erasure links asked for since the last pass (off the privacy page's response path).
  await processPrivacyRequests(deps);
  // Partners' webhooks first, in their own lane: a paused mail relay doesn't hold them up.
  const hooks = await drainWebhooks(deps, { batch: opts.batch });
  report.webhooks = hooks.claimed;
  report.webhooksSent = hooks.sent;
  const mailer = activeMailer(deps);
  const gate: Gate =
    deps.config.MAIL_MODE === "capture" ? { mode: "open", row: undefined } : await relayGate(deps, mailer);
  if (gate.mode === "paused") {
    report.paused = true;
    return report;
  }
  // While probing a paused relay by sending, one message is enough to know.
  const batch = gate.mode === "probe" ? 1 : (opts.batch ?? deps.config.OUTBOX_BATCH);
  const rows = await claimDue(deps, batch, {
    kinds: opts.kinds,
    skip: and(notToFlaggedAddress, ne(outbox.kind, "webhook")),
  });
  report.claimed = rows.length;
  if (!rows.length) return report;
  const followups = await prepareFollowups(deps, rows);
  const pass: Pass = {};
  await eachLimited(rows, opts.concurrency ?? deps.config.SMTP_POOL_SIZE, async (row) => {
    let outcome: Outcome;
    if (pass.relayDown) {
      // The relay failed for another message of this pass: give this one back untried.
      const n = await transition(deps, "unclaim", { id: row.id }, { guard: ourClaim(row) });
      outcome = n ? "deferred" : "lost";
    } else {
      try {
        outcome = await sendClaimed(deps, mailer, row, { followups: followups.get(row.id) ?? [], pass });
      } catch (e) {
        // A database error around the send (not after an acceptance): the lease brings it back.
        deps.logger.error(
          "outbox: could not record an outcome (database error); the lease will bring the row back",
          {
            outboxId: row.id,
            error: safeErrorText(e),
          },
        );
        outcome = "skipped";
      }
    }
    report[outcome]++;
  });
  if (pass.relayDown) report.paused = true;
  else if (report.sent + report.bounced + report.dead + report.retrying > 0) {
    // The relay answered about messages, so it works: a probe that got this far ends the pause,
    // and an accepted message clears the count of past failures.
    if (gate.mode === "probe") await resumeRelay(deps, "probe message");
    if (report.sent > 0) await relayHealthy(deps, gate.row);
  }
  return report;
}

/** Drain until nothing is due or the outbox pauses (CLI `drain`, tests, the bench, Workers cron). */
export async function drainOutbox(
  deps: Deps,
  opts: { batch?: number; concurrency?: number; maxPasses?: number } = {},
): Promise<DrainReport> {
  const total = emptyReport();
  for (let pass = 0; pass < (opts.maxPasses ?? 10_000); pass++) {
    const r = await drainOnce(deps, opts);
    const { paused, pending, ...counts } = r;
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) total[k] += counts[k];
    total.paused = paused;
    total.pending = pending;
    if ((r.claimed === 0 && r.webhooks === 0) || r.paused) break;
  }
  return total;
}

// --- operators' verbs -----------------------------------------------------------------------

/** Outbox health for the dashboard and the CLI: rows per state. */
export async function outboxCounts(deps: Pick<Deps, "db">): Promise<Record<string, number>> {
  const rows = await deps.db
    .select({ state: outbox.state, n: sql<number>`count(*)` })
    .from(outbox)
    .groupBy(outbox.state);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/** Requeue a dead message with a fresh allowance of attempts. True if it moved. */
export async function requeueOutbox(deps: Deps, input: { id: string }): Promise<boolean> {
  const n = await transition(deps, "requeue", { id: input.id });
  if (n) deps.logger.info("outbox row requeued", { outboxId: input.id });
  return n > 0;
}

/** Requeue every dead message (CLI `outbox:requeue --dead`), in chunks. */
export async function requeueAllDead(deps: Deps): Promise<number> {
  let total = 0;
  for (;;) {
    const ids = (
      await deps.db
        .select({ id: outbox.id })
        .from(outbox)
        .where(eq(outbox.state, "dead"))
        .limit(ID_CHUNK * 5)
    ).map((r) => r.id);
    if (!ids.length) break;
    const n = await transition(deps, "requeue", { ids });
    total += n;
    if (n === 0) break;
  }
  if (total) deps.logger.info("outbox dead rows requeued", { rows: total });
  return total;
}
