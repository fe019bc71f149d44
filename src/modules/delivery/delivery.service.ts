/**
 * Delivery: the outbox worker's verbs. Runtime-agnostic: the Node loop, the CLI `drain` and a
 * Workers cron all call `drainOutbox`.
 *
 * Rules:
 * - The outbox row is the source of truth; every change is one conditional UPDATE (see
 *   delivery.machine.ts for the allowed transitions).
 * - Claiming sets `sending`, a lease and attempts+1 in one UPDATE ... RETURNING, so two workers
 *   can never claim the same row. Outcomes are written with `WHERE state = 'sending' AND
 *   attempts = <claimed attempt>`: a worker whose lease lapsed and whose row was reclaimed
 *   cannot overwrite the newer attempt's result.
 * - A row left in `sending` past its lease (the process died mid-send) goes back to `failed`
 *   with a `reclaimed` log line and is claimed again: exactly one more attempt. If the relay had
 *   in fact accepted the first attempt, the resend carries the same Message-ID.
 * - MAIL_MODE=capture always uses the capture mailer, whatever transport deps carry: the default
 *   configuration can never send mail. Mail to a recipient that reflects (the test MP) or to a
 *   reserved .invalid domain always goes back to the supporter.
 */
import { and, eq, inArray, lte, sql } from "drizzle-orm";
import { deliveryLog, letters, outbox } from "../../db/schema.letters";
import type { Deps, Mailer, MailMessage, Statement } from "../../deps";
import { followupEmail, letterForEmailColumns, sentNoticeEmail } from "../letters/letters.emails";
import { sweepUnconfirmed } from "../letters/letters.service";
import { backoffMs, CLAIMABLE, fromStates } from "./delivery.machine";
import { captureMailer, isMailError } from "./delivery.mail";

type OutboxRow = typeof outbox.$inferSelect;

export type DrainReport = {
  claimed: number;
  sent: number;
  retrying: number;
  dead: number;
  bounced: number;
  reclaimed: number;
  reminded: number;
  expired: number;
};

const emptyReport = (): DrainReport => ({
  claimed: 0,
  sent: 0,
  retrying: 0,
  dead: 0,
  bounced: 0,
  reclaimed: 0,
  reminded: 0,
  expired: 0,
});

/** The transport for the configured mode. */
export function activeMailer(deps: Pick<Deps, "config" | "mailer" | "db" | "clock">): Mailer {
  return deps.config.MAIL_MODE === "capture" ? captureMailer(deps.db, deps.clock) : deps.mailer;
}

/** Who actually receives this row's message in the configured mode. */
export function actualRecipient(
  deps: Pick<Deps, "config">,
  row: OutboxRow,
): { name?: string; address: string } {
  const reflect =
    row.alwaysReflect ||
    deps.config.MAIL_MODE === "reflect" ||
    /\.invalid$/i.test(row.toEmail) ||
    row.toEmail === "";
  if (reflect && row.reflectTo !== row.toEmail) return { address: row.reflectTo };
  return { name: row.toName ?? undefined, address: row.toEmail };
}

export function messageFor(deps: Pick<Deps, "config">, row: OutboxRow): MailMessage {
  return {
    from: { name: row.fromName, address: deps.config.MAIL_FROM },
    to: actualRecipient(deps, row),
    replyTo: row.replyTo ? { name: row.replyToName ?? undefined, address: row.replyTo } : undefined,
    subject: row.subject,
    text: row.bodyText,
    messageId: row.messageId,
  };
}

/** `sending` rows whose lease has passed: their sender died. Back to failed (or dead), logged. */
export async function recoverExpiredLeases(deps: Deps): Promise<number> {
  const now = deps.clock.now();
  const rows = await deps.db
    .update(outbox)
    .set({
      state: sql`case when ${outbox.attempts} >= ${deps.config.OUTBOX_MAX_ATTEMPTS} then 'dead' else 'failed' end`,
      leaseUntil: null,
      nextAttemptAt: now,
      lastError: "lease expired while sending",
      updatedAt: now,
    })
    .where(and(eq(outbox.state, "sending"), lte(outbox.leaseUntil, now)))
    .returning({ id: outbox.id, attempts: outbox.attempts, state: outbox.state, letterId: outbox.letterId });
  for (const r of rows) {
    await deps.db.insert(deliveryLog).values({
      outboxId: r.id,
      attempt: r.attempts,
      outcome: "reclaimed",
      detail: "lease expired while sending",
      at: now,
    });
    if (r.state === "dead") await markLetterUndeliverable(deps, r.letterId);
  }
  return rows.length;
}

/** Claim up to `limit` due rows: one UPDATE ... RETURNING. */
export async function claimDue(deps: Deps, limit: number): Promise<OutboxRow[]> {
  const now = deps.clock.now();
  const due = and(inArray(outbox.state, [...CLAIMABLE]), lte(outbox.nextAttemptAt, now));
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
      updatedAt: now,
    })
    .where(and(inArray(outbox.id, ids), due))
    .returning();
}

const claimedBy = (row: OutboxRow) =>
  and(eq(outbox.id, row.id), eq(outbox.state, "sending"), eq(outbox.attempts, row.attempts));

async function markLetterUndeliverable(deps: Deps, letterId: string | null) {
  if (!letterId) return;
  await deps.db
    .update(letters)
    .set({ status: "undeliverable" })
    .where(and(eq(letters.id, letterId), inArray(letters.status, ["confirmed", "held"])));
}

type Outcome = "sent" | "retrying" | "dead" | "bounced" | "lost";

/** Send one claimed row and record the outcome. */
export async function sendClaimed(deps: Deps, mailer: Mailer, row: OutboxRow): Promise<Outcome> {
  let smtpCode: number | undefined;
  let detail: string;
  let permanent = false;
  let command: string | undefined;
  try {
    const res = await mailer.send(messageFor(deps, row));
    const now = deps.clock.now();
    const code = Number.parseInt(res.response ?? "", 10);
    const stmts: Statement[] = [
      deps.db
        .update(outbox)
        .set({ state: "sent", leaseUntil: null, sentAt: now, updatedAt: now, lastError: null })
        .where(claimedBy(row)),
      deps.db.insert(deliveryLog).values({
        outboxId: row.id,
        attempt: row.attempts,
        outcome: "sent",
        smtpCode: Number.isFinite(code) ? code : null,
        detail: (res.response ?? "").slice(0, 200) || null,
        at: now,
      }),
    ];
    if (row.kind === "letter" && row.letterId) {
      const [l] = await deps.db
        .select(letterForEmailColumns)
        .from(letters)
        .where(eq(letters.id, row.letterId));
      stmts.push(
        deps.db
          .update(letters)
          .set({ status: "sent", sentAt: now })
          .where(and(eq(letters.id, row.letterId), inArray(letters.status, ["confirmed", "held"]))),
      );
      if (l)
        stmts.push(
          deps.db
            .insert(outbox)
            .values([sentNoticeEmail(deps, l), await followupEmail(deps, l)])
            // A stale worker whose lease was reclaimed may get here too: the unique index keeps
            // the notices to one each.
            .onConflictDoNothing(),
        );
    }
    await deps.atomic(stmts);
    return "sent";
  } catch (e) {
    if (!isMailError(e)) {
      // A bug, not a delivery failure: log it and treat it as temporary so the row is retried.
      deps.logger.error("outbox send crashed", {
        outboxId: row.id,
        error: e instanceof Error ? e.stack : String(e),
      });
    } else {
      smtpCode = e.smtpCode;
      permanent = e.permanent;
      command = e.command;
    }
    detail = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").slice(0, 200);
  }

  const now = deps.clock.now();
  const exhausted = row.attempts >= deps.config.OUTBOX_MAX_ATTEMPTS;
  const next: OutboxRow["state"] = permanent
    ? command === "RCPT TO"
      ? "bounced"
      : "dead"
    : exhausted
      ? "dead"
      : "failed";
  if (!fromStates(next).includes("sending")) throw new Error(`outbox: sending -> ${next} not allowed`);
  await deps.atomic([
    deps.db
      .update(outbox)
      .set({
        state: next,
        leaseUntil: null,
        lastError: detail,
        nextAttemptAt: next === "failed" ? now + backoffMs(row.attempts) : now,
        updatedAt: now,
      })
      .where(claimedBy(row)),
    deps.db.insert(deliveryLog).values({
      outboxId: row.id,
      attempt: row.attempts,
      outcome: permanent ? "permanent_failure" : "temporary_failure",
      smtpCode: smtpCode ?? null,
      detail,
      at: now,
    }),
  ]);
  if (next !== "failed" && row.kind === "letter") await markLetterUndeliverable(deps, row.letterId);
  deps.logger.warn("outbox send failed", { outboxId: row.id, attempt: row.attempts, smtpCode, next });
  return next === "failed" ? "retrying" : next;
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

/**
 * One pass: recover lapsed leases, remind/expire unconfirmed letters, then claim and send one
 * batch. Returns what happened; `claimed === batch` means there is probably more to do.
 */
export async function drainOnce(deps: Deps, opts: { batch?: number; concurrency?: number } = {}) {
  const report = emptyReport();
  report.reclaimed = await recoverExpiredLeases(deps);
  const swept = await sweepUnconfirmed(deps);
  report.reminded = swept.reminded;
  report.expired = swept.expired;
  const rows = await claimDue(deps, opts.batch ?? deps.config.OUTBOX_BATCH);
  report.claimed = rows.length;
  const mailer = activeMailer(deps);
  await eachLimited(rows, opts.concurrency ?? deps.config.SMTP_POOL_SIZE, async (row) => {
    const outcome = await sendClaimed(deps, mailer, row);
    if (outcome !== "lost") report[outcome]++;
  });
  return report;
}

/** Drain until nothing is due (CLI `drain`, tests, the bench). */
export async function drainOutbox(
  deps: Deps,
  opts: { batch?: number; concurrency?: number; maxPasses?: number } = {},
): Promise<DrainReport> {
  const total = emptyReport();
  for (let pass = 0; pass < (opts.maxPasses ?? 10_000); pass++) {
    const r = await drainOnce(deps, opts);
    for (const k of Object.keys(total) as (keyof DrainReport)[]) total[k] += r[k];
    if (r.claimed === 0) break;
  }
  return total;
}

/** Outbox health for the dashboard and the CLI: rows per state. */
export async function outboxCounts(deps: Deps): Promise<Record<string, number>> {
  const rows = await deps.db
    .select({ state: outbox.state, n: sql<number>`count(*)` })
    .from(outbox)
    .groupBy(outbox.state);
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
