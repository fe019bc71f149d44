/**
 * A supporter's consent to hear from the partner whose site they came through.
 *
 * Rules:
 * - Offered only when the letter or pledge is credited to a partner (widget.attribution.ts: the
 *   flow started on one of the partner's own pages), as a separate, optional, unticked box that
 *   names the partner. Nothing about a supporter who did not tick it ever reaches a partner.
 * - Recorded in the letter's or pledge's own atomic write, against it (source + ref), with the
 *   wording's version; it counts (confirmed_at) only once that letter or pledge is confirmed
 *   from the supporter's inbox, in the confirmation's own atomic write. So an address typed by
 *   someone else never becomes a consent.
 * - What the partner gets: the name and email address, when, and that the supporter took part
 *   (its CSV, and its webhooks' `supporter`); never the postcode, the postal address, the letter
 *   or who it was to.
 * - Privacy: a supporter's export lists their consents; erasure deletes them (and scrubs or stops
 *   webhook events that carry them); retention deletes unconfirmed consents after the confirm
 *   window and confirmed ones RETENTION_DAYS after they were given.
 */
import { and, eq, inArray, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import { letters, outbox, partnerConsents, partners, supporterPledges } from "../../db/schema";
import type { PartnerConsentSource } from "../../db/schema.partners";
import type { Deps, Statement } from "../../deps";
import { type Lang, translate } from "../../lib/i18n";
import { transitionStatements } from "../delivery/delivery.machine";
import { CURRENT_PARTNER_CONSENT, PARTNER_CONSENT_WORDING } from "./partners.schemas";

const DAY_MS = 86_400_000;

/** The wording of a consent version with the partner's name in it, in the supporter's language. */
export function partnerConsentText(version: string, partnerName: string, lang?: Lang): string {
  const wording = PARTNER_CONSENT_WORDING[version as keyof typeof PARTNER_CONSENT_WORDING] ?? "";
  return translate(lang, wording).replaceAll("{partner}", partnerName);
}

/** What a form shows for the box (null: no partner credited, so no box). */
export function partnerConsentField(partner: { key: string; name: string } | null | undefined, lang?: Lang) {
  if (!partner) return null;
  return {
    version: CURRENT_PARTNER_CONSENT,
    text: partnerConsentText(CURRENT_PARTNER_CONSENT, partner.name, lang),
    partnerName: partner.name,
  };
}

/**
 * The consent row, for the submit's atomic write: recorded only for the partner the letter or
 * pledge is credited to. A repeated submit (same source) records nothing more.
 */
export function recordConsentStatement(
  deps: Pick<Deps, "db" | "clock" | "ids">,
  c: {
    partnerKey: string;
    source: PartnerConsentSource;
    sourceRef: string;
    email: string;
    name: string;
    version: string;
  },
): Statement {
  return deps.db
    .insert(partnerConsents)
    .values({
      id: deps.ids.uuid(),
      partnerKey: c.partnerKey,
      source: c.source,
      sourceRef: c.sourceRef,
      emailNorm: c.email.trim().toLowerCase(),
      name: c.name,
      wordingVersion: c.version,
      consentedAt: deps.clock.now(),
    })
    .onConflictDoNothing();
}

/** The consent given with letter `letterId` (its group) counts: run in the letter's confirm write. */
export function confirmLetterConsentStatement(
  deps: Pick<Deps, "db">,
  letterId: string,
  now: number,
): Statement {
  const ref = deps.db
    .select({ ref: sql`coalesce(${letters.groupId}, ${letters.id})` })
    .from(letters)
    .where(and(eq(letters.id, letterId), isNotNull(letters.confirmedAt)));
  return deps.db
    .update(partnerConsents)
    .set({ confirmedAt: now })
    .where(
      and(
        eq(partnerConsents.source, "letter"),
        isNull(partnerConsents.confirmedAt),
        inArray(partnerConsents.sourceRef, ref),
      ),
    );
}

/** The consents given with the pledges matching `which` count, once those are confirmed. */
export function confirmPledgeConsentStatement(deps: Pick<Deps, "db">, which: SQL, now: number): Statement {
  const refs = deps.db
    .select({ ref: supporterPledges.publicId })
    .from(supporterPledges)
    .where(and(which, eq(supporterPledges.status, "confirmed")));
  return deps.db
    .update(partnerConsents)
    .set({ confirmedAt: now })
    .where(
      and(
        eq(partnerConsents.source, "pledge"),
        isNull(partnerConsents.confirmedAt),
        inArray(partnerConsents.sourceRef, refs),
      ),
    );
}

// --- privacy -----------------------------------------------------------------------------------

/** A person's consents, for their data export. */
export async function consentsFor(deps: Pick<Deps, "db">, emails: readonly string[]) {
  const rows = await deps.db
    .select({
      partner: partnerConsents.partnerKey,
      partnerName: partners.name,
      source: partnerConsents.source,
      version: partnerConsents.wordingVersion,
      name: partnerConsents.name,
      consentedAt: partnerConsents.consentedAt,
      confirmedAt: partnerConsents.confirmedAt,
    })
    .from(partnerConsents)
    .innerJoin(partners, eq(partners.key, partnerConsents.partnerKey))
    .where(inArray(partnerConsents.emailNorm, [...emails]));
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return rows.map((r) => ({
    partner: r.partner,
    partnerName: r.partnerName,
    wording: partnerConsentText(r.version, r.partnerName),
    version: r.version,
    givenWith: r.source,
    name: r.name,
    consentedAt: iso(r.consentedAt),
    confirmedAt: iso(r.confirmedAt),
  }));
}

export const deleteConsentsStatement = (deps: Pick<Deps, "db">, emails: readonly string[]): Statement =>
  deps.db.delete(partnerConsents).where(inArray(partnerConsents.emailNorm, [...emails]));

/** Retention: unconfirmed consents after the confirm windows, confirmed ones after RETENTION_DAYS. */
export async function expireConsents(deps: Pick<Deps, "db" | "clock" | "config">): Promise<number> {
  const now = deps.clock.now();
  const c = deps.config;
  const confirmWindow = (Math.max(c.LETTER_CONFIRM_TTL_DAYS, c.PLEDGE_CONFIRM_TTL_DAYS) + 1) * DAY_MS;
  const gone = await deps.db
    .delete(partnerConsents)
    .where(
      or(
        and(isNull(partnerConsents.confirmedAt), lt(partnerConsents.consentedAt, now - confirmWindow)),
        lt(partnerConsents.consentedAt, now - c.RETENTION_DAYS * DAY_MS),
      ),
    )
    .returning({ id: partnerConsents.id });
  return gone.length;
}

/**
 * Erasure of a supporter: the partners' webhook events that carry their name and email (pledge
 * events; a letter's are stopped and scrubbed with the letter) are stopped if not yet sent, and
 * their bodies scrubbed either way. CASE keeps json_extract off bodies that are no longer JSON.
 */
export function eraseWebhookEventsStatements(
  deps: Pick<Deps, "db" | "config" | "clock">,
  emails: readonly string[],
) {
  const carries = and(
    eq(outbox.kind, "webhook"),
    inArray(
      sql`(case when json_valid(${outbox.bodyText}) then json_extract(${outbox.bodyText}, '$.data.supporter.email') end)`,
      [...emails],
    ),
  ) as SQL;
  return [
    ...transitionStatements(
      deps,
      "cancel",
      { where: carries },
      { set: { cancelReason: "erased at the supporter's request" } },
    ).statements,
    deps.db.update(outbox).set({ bodyText: SCRUBBED_EVENT }).where(carries),
  ];
}

/** What an erased event's body becomes (not JSON: a delivery still in flight is given up). */
export const SCRUBBED_EVENT = "[removed]";

/**
 * The consent ticked with this letter (group) or pledge, still waiting for its confirmation: the
 * confirm page shows it, ticked, so the address's owner sees what they are agreeing to (someone
 * else may have typed their address) and can untick it.
 */
export async function pendingConsentFor(
  deps: Pick<Deps, "db">,
  input: { source: PartnerConsentSource; ref: string },
): Promise<{ partnerName: string; text: string } | null> {
  const [row] = await deps.db
    .select({ name: partners.name, version: partnerConsents.wordingVersion })
    .from(partnerConsents)
    .innerJoin(partners, eq(partners.key, partnerConsents.partnerKey))
    .where(
      and(
        eq(partnerConsents.source, input.source),
        eq(partnerConsents.sourceRef, input.ref),
        isNull(partnerConsents.confirmedAt),
      ),
    )
    .limit(1);
  return row ? { partnerName: row.name, text: partnerConsentText(row.version, row.name) } : null;
}

/** Unticked on the confirm page: the consent goes (before anything is confirmed). */
export async function withdrawConsent(
  deps: Pick<Deps, "db" | "logger">,
  input: { source: PartnerConsentSource; ref: string },
): Promise<void> {
  const gone = await deps.db
    .delete(partnerConsents)
    .where(
      and(
        eq(partnerConsents.source, input.source),
        eq(partnerConsents.sourceRef, input.ref),
        isNull(partnerConsents.confirmedAt),
      ),
    )
    .returning({ id: partnerConsents.id });
  if (gone.length) deps.logger.info("partner consent withdrawn before confirming", { source: input.source });
}
