/**
 * Partners' webhooks: the endpoint a partner registers, the events queued for it, and what the
 * partner sees of their delivery.
 *
 * Rules:
 * - Events: `letter.confirmed` and `pledge.confirmed` go to the partner the letter or pledge is
 *   credited to; `representative.pledged` (an MP, candidate, MSP, MS or MLA's pledge, public
 *   information) to every partner that subscribes. Test-seat pledges are never announced.
 * - An event is queued in the same atomic write as the change it announces, as an outbox row of
 *   kind `webhook` built by the database from the rows just written (insertOutboxSelect), so it
 *   exists exactly when the confirmation does; `event_key` is unique per partner, so a replayed
 *   confirmation queues nothing more.
 * - Bodies carry only what the supporter agreed to share: counts, the parliament written to,
 *   and `supporter` (name, email, when and which wording) only when the supporter ticked the
 *   partner's box with this very letter or pledge and confirmed it; otherwise `supporter: null`.
 * - Delivery is the outbox's: claims, leases, retries with backoff, dead after
 *   OUTBOX_MAX_ATTEMPTS (delivery.service.ts drainWebhooks on Node; on Workers the delivery
 *   queue, to which announceWebhookEvents hands each event once its write committed); signing
 *   in partners.signing.ts.
 * - A partner sees and requeues its own deliveries only: every query here names the partner
 *   from the session, and a delivery id of another partner's is "not found".
 */
import { and, desc, eq, inArray, lt, ne, type SQL, sql } from "drizzle-orm";
import {
  constituencies,
  deliveryLog,
  devolvedAreas,
  letters,
  letterTallies,
  outbox,
  partnerConsents,
  partners,
  partnerWebhooks,
  pledgeTallies,
  repPledges,
  supporterPledges,
} from "../../db/schema";
import type { WebhookEvent } from "../../db/schema.partners";
import type { Deps, Statement } from "../../deps";
import { AppError } from "../../lib/errors";
import { safeErrorText } from "../../lib/safe-error";
import { randomId } from "../../lib/tokens";
import { checkWebhookUrl } from "../../lib/webhook-url";
import {
  announceReady,
  EVENTS,
  insertOutbox,
  insertOutboxSelect,
  type NewOutboxRow,
  transition,
} from "../delivery/delivery.machine";
import { drainWebhooks } from "../delivery/delivery.service";
import type { WebhookInput } from "./partners.schemas";
import { webhookSecret } from "./partners.signing";

const DAY_MS = 86_400_000;
/** Deliveries listed on a partner's page. */
const DELIVERIES_SHOWN = 50;

/** ISO 8601 of a millisecond column, in SQL (the same text as Date.toISOString()). */
const isoOf = (ms: SQL | unknown) => sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${ms} / 1000.0, 'unixepoch')`;

/** The webhook is on, its partner is on, and it subscribes to `event`. */
const subscribed = (event: WebhookEvent) =>
  sql`${partnerWebhooks.enabled} = 1 and ${partners.active} = 1 and exists (select 1 from json_each(${partnerWebhooks.events}) where json_each.value = ${event})`;

/** The columns every webhook row shares (the rest are the event's). */
function webhookRow(event: WebhookEvent, now: number) {
  return {
    id: sql`'wh_' || lower(hex(randomblob(16)))`,
    kind: "webhook" as const,
    state: "queued" as const,
    toName: null,
    toEmail: "",
    reflectTo: "",
    alwaysReflect: false,
    fromName: "",
    subject: event,
    // The event id partners see (`webhook-id`, and `id` in the body, added at send time).
    messageId: sql`'evt_' || lower(hex(randomblob(16)))`,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  };
}

/** A partner's running totals (the dashboard's own tallies, dimension `partner`). */
const totalsJson = (deps: Pick<Deps, "config">, partnerKey: SQL) =>
  sql`json_object('letters', (select coalesce(sum(t.n), 0) from ${letterTallies} t where t.dimension = 'partner' and t.key = ${partnerKey}), 'pledges', (select coalesce(sum(t.n), 0) from ${pledgeTallies} t where t.campaign_id = ${deps.config.CAMPAIGN_ID} and t.dimension = 'partner' and t.key = ${partnerKey}))`;

/** The supporter object of a consent row `c` (json(...) so it nests as an object, or null). */
const supporterJson = (where: SQL) =>
  sql`json((select json_object('name', c.name, 'email', c.email_norm, 'consentedAt', ${isoOf(sql`c.consented_at`)}, 'consent', c.wording_version) from ${partnerConsents} c where ${where} and c.confirmed_at is not null order by c.confirmed_at desc limit 1))`;

/** `letter.confirmed` for letter `letterId`, if it is confirmed and credited to a subscribing partner. */
export function letterConfirmedEvent(
  deps: Pick<Deps, "db" | "config">,
  letterId: string,
  now: number,
): Statement {
  const partnerKey = sql`${letters.partnerKey}`;
  const body = sql`json_object('type', 'letter.confirmed', 'created', ${new Date(now).toISOString()}, 'partner', ${partnerKey}, 'data', json_object('parliament', case ${letters.recipientKind} when 'msp' then 'scottish_parliament' when 'ms' then 'senedd' when 'mla' then 'ni_assembly' else 'uk_parliament' end, 'totals', json(${totalsJson(deps, partnerKey)}), 'supporter', ${supporterJson(sql`c.partner_key = ${letters.partnerKey} and c.source = 'letter' and c.source_ref = coalesce(${letters.groupId}, ${letters.id})`)}))`;
  return insertOutboxSelect(
    deps,
    {
      ...webhookRow("letter.confirmed", now),
      // Tied to the letter: erasing the supporter's letters stops and scrubs it with them.
      letterId: sql`${letters.id}`,
      bodyText: body,
      partnerKey,
      eventKey: sql`'letter.confirmed:' || ${letters.id}`,
    },
    sql`from ${letters} join ${partnerWebhooks} on ${partnerWebhooks.partnerKey} = ${letters.partnerKey} join ${partners} on ${partners.key} = ${letters.partnerKey} where ${letters.id} = ${letterId} and ${letters.confirmedAt} is not null and ${subscribed("letter.confirmed")}`,
  );
}

/** `pledge.confirmed` for each confirmed pledge matching `which`, credited to a subscribing partner. */
export function pledgeConfirmedEvent(deps: Pick<Deps, "db" | "config">, which: SQL, now: number): Statement {
  const partnerKey = sql`${supporterPledges.partnerKey}`;
  const body = sql`json_object('type', 'pledge.confirmed', 'created', ${new Date(now).toISOString()}, 'partner', ${partnerKey}, 'data', json_object('totals', json(${totalsJson(deps, partnerKey)}), 'supporter', ${supporterJson(sql`c.partner_key = ${supporterPledges.partnerKey} and ((c.source = 'pledge' and c.source_ref = ${supporterPledges.publicId}) or (c.source = 'letter' and c.source_ref = ${supporterPledges.letterId}))`)}))`;
  return insertOutboxSelect(
    deps,
    {
      ...webhookRow("pledge.confirmed", now),
      letterId: null,
      bodyText: body,
      partnerKey,
      eventKey: sql`'pledge.confirmed:' || ${supporterPledges.publicId}`,
    },
    sql`from ${supporterPledges} join ${partnerWebhooks} on ${partnerWebhooks.partnerKey} = ${supporterPledges.partnerKey} join ${partners} on ${partners.key} = ${supporterPledges.partnerKey} where ${which} and ${supporterPledges.status} = 'confirmed' and ${subscribed("pledge.confirmed")}`,
  );
}

/** `representative.pledged` to every subscribing partner, for the verified pledges matching `which`. */
export function repPledgedEvent(deps: Pick<Deps, "db" | "config">, which: SQL, now: number): Statement {
  const verified = sql`(select count(*) from ${repPledges} x left join ${constituencies} xk on xk.ons_code = x.constituency_code where x.campaign_id = ${deps.config.CAMPAIGN_ID} and x.status = 'verified' and coalesce(xk.is_test, 0) = 0)`;
  const nation = sql`coalesce(${constituencies.nation}, case ${devolvedAreas.body} when 'scottish_parliament' then 'Scotland' when 'senedd' then 'Wales' when 'ni_assembly' then 'Northern Ireland' end)`;
  const body = sql`json_object('type', 'representative.pledged', 'created', ${new Date(now).toISOString()}, 'partner', ${partnerWebhooks.partnerKey}, 'data', json_object('representative', json_object('kind', ${repPledges.kind}, 'name', ${repPledges.name}, 'party', ${repPledges.party}, 'constituency', coalesce(${constituencies.name}, ${devolvedAreas.name}), 'nation', ${nation}), 'verifiedBy', ${repPledges.verifiedBy}, 'verifiedAt', ${isoOf(repPledges.verifiedAt)}, 'totals', json_object('representatives', ${verified})))`;
  return insertOutboxSelect(
    deps,
    {
      ...webhookRow("representative.pledged", now),
      letterId: null,
      bodyText: body,
      partnerKey: sql`${partnerWebhooks.partnerKey}`,
      eventKey: sql`'representative.pledged:' || ${repPledges.id}`,
    },
    sql`from ${repPledges} join ${partnerWebhooks} on 1 = 1 join ${partners} on ${partners.key} = ${partnerWebhooks.partnerKey} left join ${constituencies} on ${constituencies.onsCode} = ${repPledges.constituencyCode} left join ${devolvedAreas} on ${devolvedAreas.code} = ${repPledges.areaCode} where ${which} and ${repPledges.status} = 'verified' and coalesce(${constituencies.isTest}, 0) = 0 and ${subscribed("representative.pledged")}`,
  );
}

/**
 * Hand the events a write just queued to the runtime's sender (Workers: the delivery queue), after
 * it committed. The database made their ids, so they are found by what every event of that write
 * shares: queued webhook rows due at its `now` (outbox_due_ix). Another write's event due at the
 * same millisecond may be announced twice: harmless, the consumer claims each row once.
 */
export async function announceWebhookEvents(
  deps: Pick<Deps, "db" | "outboxQueue" | "logger">,
  now: number,
): Promise<void> {
  const rows = await deps.db
    .select({ id: outbox.id, dueAt: outbox.nextAttemptAt })
    .from(outbox)
    .where(and(eq(outbox.state, "queued"), eq(outbox.nextAttemptAt, now), eq(outbox.kind, "webhook")));
  await announceReady(deps, rows);
}

// --- the partner's endpoint --------------------------------------------------------------------

export type WebhookView = {
  url: string;
  events: WebhookEvent[];
  enabled: boolean;
  secret: string;
  secretCreatedAt: number;
  /** The previous secret, still signed with until then (a rotation's grace period). */
  previous: { secret: string; until: number } | null;
};

/** The partner's webhook with its secrets (shown to that partner's contacts only). */
export async function webhookOf(
  deps: Pick<Deps, "db" | "config" | "clock">,
  input: { partnerKey: string },
): Promise<WebhookView | null> {
  const [hook] = await deps.db
    .select()
    .from(partnerWebhooks)
    .where(eq(partnerWebhooks.partnerKey, input.partnerKey));
  if (!hook) return null;
  const graceLeft = hook.previousNonce && (hook.previousUntil ?? 0) > deps.clock.now();
  return {
    url: hook.url,
    events: hook.events,
    enabled: hook.enabled,
    secret: await webhookSecret(deps.config, hook.secretNonce),
    secretCreatedAt: hook.secretCreatedAt,
    previous: graceLeft
      ? {
          secret: await webhookSecret(deps.config, hook.previousNonce as string),
          until: hook.previousUntil as number,
        }
      : null,
  };
}

/** Create or change the partner's endpoint. The URL must be one we may call (lib/webhook-url.ts). */
export async function saveWebhook(
  deps: Pick<Deps, "db" | "config" | "clock" | "logger">,
  input: WebhookInput & { partnerKey: string },
): Promise<void> {
  const verdict = checkWebhookUrl(input.url, deps.config.WEBHOOK_ALLOW_PRIVATE);
  if (!verdict.ok)
    throw new AppError("webhook_url_refused", `The address ${verdict.reason}.`, {
      errors: [{ path: "url", message: `the address ${verdict.reason}` }],
    });
  const now = deps.clock.now();
  const events = [...new Set(input.events)];
  await deps.db
    .insert(partnerWebhooks)
    .values({
      partnerKey: input.partnerKey,
      url: verdict.url.toString(),
      events,
      enabled: input.enabled,
      secretNonce: randomId(),
      secretCreatedAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoUpdate({
      target: partnerWebhooks.partnerKey,
      set: { url: verdict.url.toString(), events, enabled: input.enabled, updatedAt: now },
    });
  deps.logger.info("partner webhook saved", { partner: input.partnerKey, events: events.length });
}

/**
 * A new signing secret. The old one keeps signing (a second signature on every delivery) for
 * WEBHOOK_SECRET_GRACE_HOURS, then stops; 0 hours ends it at once.
 */
export async function rotateWebhookSecret(
  deps: Pick<Deps, "db" | "config" | "clock" | "logger">,
  input: { partnerKey: string },
): Promise<void> {
  const now = deps.clock.now();
  const graceMs = deps.config.WEBHOOK_SECRET_GRACE_HOURS * 3_600_000;
  const rows = await deps.db
    .update(partnerWebhooks)
    .set({
      previousNonce: graceMs > 0 ? sql`${partnerWebhooks.secretNonce}` : null,
      previousUntil: graceMs > 0 ? now + graceMs : null,
      secretNonce: randomId(),
      secretCreatedAt: now,
      updatedAt: now,
    })
    .where(eq(partnerWebhooks.partnerKey, input.partnerKey))
    .returning({ p: partnerWebhooks.partnerKey });
  if (!rows.length) throw new AppError("not_found", "Set up a webhook first.");
  deps.logger.info("partner webhook secret rotated", { partner: input.partnerKey });
}

/**
 * "Send test event": a `webhook.test` event queued like any other and delivered at once (the
 * same claim, signing and outcome as a real one), so the partner sees the result on the page.
 */
export async function sendTestEvent(deps: Deps, input: { partnerKey: string }) {
  const hook = await webhookOf(deps, input);
  if (!hook) throw new AppError("not_found", "Set up a webhook first.");
  const now = deps.clock.now();
  const id = deps.ids.uuid();
  const row: NewOutboxRow = {
    id,
    kind: "webhook",
    letterId: null,
    state: "queued",
    toName: null,
    toEmail: "",
    reflectTo: "",
    alwaysReflect: false,
    fromName: "",
    subject: "webhook.test",
    bodyText: JSON.stringify({
      type: "webhook.test",
      created: new Date(now).toISOString(),
      partner: input.partnerKey,
      data: { message: "A test event from #SpeakUpForBabies: your endpoint and signature check work." },
    }),
    messageId: `evt_${randomId().replace(/[-_]/g, "").toLowerCase()}`,
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
    partnerKey: input.partnerKey,
    eventKey: null,
  };
  await insertOutbox(deps, [row]);
  // Sent at once, here, so the partner sees the answer; not announced first, or the runtime's
  // sender could claim it before this request does.
  try {
    await drainWebhooks(deps, { only: id });
  } catch (e) {
    deps.logger.warn("webhook test event: not sent at once; left to the sender", { error: safeErrorText(e) });
  }
  const [after] = await deps.db
    .select({ state: outbox.state, lastError: outbox.lastError, nextAttemptAt: outbox.nextAttemptAt })
    .from(outbox)
    .where(and(eq(outbox.id, id), eq(outbox.partnerKey, input.partnerKey)));
  // Not accepted this time (or not tried): the retry is the sender's, like any event's.
  if (after?.state === "failed" || after?.state === "queued")
    await announceReady(deps, [{ id, dueAt: after.nextAttemptAt }]);
  return { id, state: after?.state ?? "queued", lastError: after?.lastError ?? null };
}

// --- the partner's deliveries ------------------------------------------------------------------

export async function deliveriesOf(deps: Pick<Deps, "db">, input: { partnerKey: string }) {
  const rows = await deps.db
    .select({
      id: outbox.id,
      event: outbox.subject,
      eventId: outbox.messageId,
      state: outbox.state,
      attempts: outbox.attempts,
      lastError: outbox.lastError,
      createdAt: outbox.createdAt,
      sentAt: outbox.sentAt,
      nextAttemptAt: outbox.nextAttemptAt,
    })
    .from(outbox)
    .where(and(eq(outbox.kind, "webhook"), eq(outbox.partnerKey, input.partnerKey)))
    .orderBy(desc(outbox.createdAt))
    .limit(DELIVERIES_SHOWN);
  const counts = await deps.db
    .select({ state: outbox.state, n: sql<number>`count(*)` })
    .from(outbox)
    .where(and(eq(outbox.kind, "webhook"), eq(outbox.partnerKey, input.partnerKey)))
    .groupBy(outbox.state);
  return {
    counts: Object.fromEntries(counts.map((c) => [c.state, Number(c.n)])) as Record<string, number>,
    rows: rows.map((r) => ({
      ...r,
      canRequeue: (EVENTS.requeue.from as readonly string[]).includes(r.state),
      canRetry: (EVENTS.nudge.from as readonly string[]).includes(r.state),
    })),
  };
}

/**
 * Send a dead delivery again (a fresh allowance of attempts), or a failed one now. Only the
 * partner's own: another partner's id changes nothing and is "not found".
 */
export async function retryDelivery(
  deps: Pick<Deps, "db" | "config" | "clock" | "atomic" | "logger" | "outboxQueue">,
  input: { partnerKey: string; id: string },
) {
  const mine = and(eq(outbox.kind, "webhook"), eq(outbox.partnerKey, input.partnerKey)) as SQL;
  const n =
    (await transition(deps, "requeue", { id: input.id }, { guard: mine })) ||
    (await transition(deps, "nudge", { id: input.id }, { guard: mine }));
  if (!n) throw new AppError("not_found", "No such delivery waiting to be sent again.");
  deps.logger.info("partner webhook delivery requeued", { partner: input.partnerKey, outboxId: input.id });
}

/** Retention: webhook deliveries (and their attempt log) WEBHOOK_KEEP_DAYS after they were queued. */
export async function deleteOldDeliveries(deps: Pick<Deps, "db" | "clock" | "config" | "atomic">) {
  const cutoff = deps.clock.now() - deps.config.WEBHOOK_KEEP_DAYS * DAY_MS;
  const old = and(eq(outbox.kind, "webhook"), ne(outbox.state, "sending"), lt(outbox.createdAt, cutoff));
  const ids = deps.db.select({ id: outbox.id }).from(outbox).where(old);
  const [gone] = await deps
    .atomic([
      deps.db.delete(deliveryLog).where(inArray(deliveryLog.outboxId, ids)),
      deps.db.delete(outbox).where(old),
    ])
    .then((r) => [r[1] ?? 0]);
  return gone ?? 0;
}
