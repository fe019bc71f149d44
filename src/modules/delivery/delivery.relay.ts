/**
 * The relay's health: a relay-wide failure pauses the whole outbox instead of consuming
 * messages, and the pause is the alert (dashboard banner, an error line in the log).
 *
 * Rules:
 * - pauseRelay is one upsert: the first failure of a pause records when it began and logs an
 *   error; later ones count up and push the next probe out (30 s doubling to 15 min, or the
 *   provider's Retry-After).
 * - While paused nothing is claimed. Once the probe time has passed, the next pass probes: with
 *   a transport that can check itself (SMTP: connect + AUTH) by `verify`; otherwise by sending
 *   one message, which a relay-wide failure gives back untouched.
 * - A probe that passes resumes sending (logged). The failure count is cleared only once a
 *   message has actually been accepted, so a relay that logs us in but still refuses our sender
 *   keeps backing off instead of being probed every 30 seconds forever.
 */
import { eq, sql } from "drizzle-orm";
import { relayStatus } from "../../db/schema.delivery";
import type { Deps, Mailer } from "../../deps";
import { safeErrorText } from "../../lib/safe-error";
import { classifyFailure, type RelayReason } from "./delivery.mail";

const ROW = "outbox";
export const PROBE_BASE_MS = 30_000;
export const PROBE_CAP_MS = 15 * 60_000;

export type RelayRow = typeof relayStatus.$inferSelect;

/** What each reason means, for the dashboard and the log: what to check. */
export const RELAY_REASONS: Record<RelayReason, string> = {
  auth: "The mail relay refused our login: check the user and password in SMTP_URL.",
  sender_refused:
    "The mail relay refused our sender address: check MAIL_FROM / BOUNCE_ADDRESS are allowed senders on the relay.",
  relay_denied:
    "The mail relay refuses to relay our mail: check SMTP_URL's login and the relay's permissions.",
  connection:
    "We cannot reach the mail relay (no connection, or it dropped): check SMTP_URL / MAIL_API_URL and the relay.",
  tls: "TLS with the mail relay failed: check the relay's certificate and the smtp:// or smtps:// scheme.",
  relay_unavailable: "The mail relay is closing connections (421, busy or shutting down).",
  api_auth: "The mail API refused our key: check MAIL_API_KEY.",
  api_config: "The mail API address does not exist: check MAIL_API_URL.",
  rate_limited: "The mail API is rate-limiting us.",
};

export async function relayState(deps: Pick<Deps, "db">): Promise<RelayRow | undefined> {
  const [row] = await deps.db.select().from(relayStatus).where(eq(relayStatus.id, ROW));
  return row;
}

/**
 * The pause before the next probe of a failing relay: 30 s doubling to 15 min, jittered down by
 * up to a fifth, so several servers (or a server and CLI drains) that saw the relay fail together
 * don't all probe it again at the same instant. Never longer than the un-jittered delay.
 */
export const probeDelayMs = (failures: number, random: () => number = Math.random) =>
  Math.round(Math.min(PROBE_CAP_MS, PROBE_BASE_MS * 2 ** Math.max(0, failures - 1)) * (0.8 + 0.2 * random()));

/** Record a relay-wide failure: pause (or stay paused) and schedule the next probe. */
export async function pauseRelay(
  deps: Pick<Deps, "db" | "clock" | "logger">,
  failure: { reason: RelayReason; detail: string; retryAfterMs?: number },
): Promise<RelayRow> {
  const now = deps.clock.now();
  const before = await relayState(deps);
  const failures = (before?.failures ?? 0) + 1;
  const nextProbeAt = now + Math.max(failure.retryAfterMs ?? 0, probeDelayMs(failures));
  const [row] = await deps.db
    .insert(relayStatus)
    .values({
      id: ROW,
      state: "paused",
      reason: failure.reason,
      detail: failure.detail.slice(0, 200),
      since: now,
      failures: 1,
      nextProbeAt,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: relayStatus.id,
      set: {
        state: "paused",
        reason: failure.reason,
        detail: failure.detail.slice(0, 200),
        since: sql`case when ${relayStatus.state} = 'paused' then ${relayStatus.since} else ${now} end`,
        failures: sql`${relayStatus.failures} + 1`,
        nextProbeAt,
        updatedAt: now,
      },
    })
    .returning();
  const fields = {
    reason: failure.reason,
    detail: failure.detail,
    nextProbeInS: Math.round((nextProbeAt - now) / 1000),
  };
  if (before?.state !== "paused")
    deps.logger.error(
      `outbox paused: ${RELAY_REASONS[failure.reason]} No message is lost; sending resumes when the relay works.`,
      fields,
    );
  else deps.logger.warn("outbox still paused: relay probe failed", fields);
  return row as RelayRow;
}

/** Sending works again (a probe passed). */
export async function resumeRelay(deps: Pick<Deps, "db" | "clock" | "logger">, how: string) {
  const now = deps.clock.now();
  const rows = await deps.db
    .update(relayStatus)
    .set({ state: "ok", nextProbeAt: null, updatedAt: now })
    .where(eq(relayStatus.id, ROW))
    .returning({ since: relayStatus.since, state: relayStatus.state });
  const since = rows[0]?.since;
  deps.logger.info("outbox resumed: the relay works again", {
    how,
    pausedForS: since ? Math.round((now - since) / 1000) : undefined,
  });
}

/** A message was accepted: the relay is healthy, forget past failures (one write, only if needed). */
export async function relayHealthy(deps: Pick<Deps, "db" | "clock">, row: RelayRow | undefined) {
  if (!row || (row.state === "ok" && row.failures === 0 && row.reason === null)) return;
  await deps.db
    .update(relayStatus)
    .set({
      state: "ok",
      failures: 0,
      reason: null,
      detail: null,
      since: null,
      nextProbeAt: null,
      updatedAt: deps.clock.now(),
    })
    .where(eq(relayStatus.id, ROW));
}

/** Campaign lead or CLI: probe now instead of waiting for the back-off. */
export async function probeRelayNow(deps: Pick<Deps, "db" | "clock">) {
  const rows = await deps.db
    .update(relayStatus)
    .set({ nextProbeAt: deps.clock.now() })
    .where(eq(relayStatus.state, "paused"))
    .returning({ id: relayStatus.id });
  return rows.length > 0;
}

export type Gate =
  /** Send normally. */
  | { mode: "open"; row: RelayRow | undefined }
  /** Paused and probing by sending one message. */
  | { mode: "probe"; row: RelayRow }
  /** Paused: send nothing this pass. */
  | { mode: "paused"; row: RelayRow };

/** Whether this pass may send, probing the relay when a pause has run its course. */
export async function relayGate(deps: Pick<Deps, "db" | "clock" | "logger">, mailer: Mailer): Promise<Gate> {
  const row = await relayState(deps);
  if (row?.state !== "paused") return { mode: "open", row };
  if ((row.nextProbeAt ?? 0) > deps.clock.now()) return { mode: "paused", row };
  if (!mailer.verify) return { mode: "probe", row };
  const failure = await verifyRelay(mailer);
  if (failure) return { mode: "paused", row: await pauseRelay(deps, failure) };
  await resumeRelay(deps, "verify");
  return { mode: "open", row: (await relayState(deps)) ?? row };
}

/** The relay's own check (SMTP: connect, TLS, AUTH); a failure classified like a send's. */
async function verifyRelay(mailer: Mailer): Promise<{ reason: RelayReason; detail: string } | null> {
  try {
    await mailer.verify?.();
    return null;
  } catch (e) {
    const v = classifyFailure(e);
    return {
      reason: v.scope === "relay" ? v.reason : "connection",
      detail: safeErrorText(e)
        .replace(/^MailError: /, "")
        .slice(0, 200),
    };
  }
}

/**
 * At start-up (Node): check the relay once. A failure pauses the outbox at once (alert, nothing
 * tried in vain); a pass clears a pause left by an earlier run, e.g. before a password was fixed.
 */
export async function checkRelayAtStart(deps: Deps): Promise<void> {
  if (deps.config.MAIL_MODE === "capture" || !deps.mailer.verify) return;
  const failure = await verifyRelay(deps.mailer);
  if (failure) {
    await pauseRelay(deps, failure);
    return;
  }
  if ((await relayState(deps))?.state === "paused") await resumeRelay(deps, "start-up check");
}
