/**
 * A partner contact's own view of its partner: results, settings, and the supporters who asked
 * to hear from it.
 *
 * Rules:
 * - Every verb takes the partner's key from the signed-in session (never from the URL or a
 *   form), so a contact can only ever read or change its own partner. Routes pass
 *   `c.var.admin.partnerKey`; nothing here accepts another.
 * - Figures come from the dashboard's own tallies: totals from dimension `partner` (exactly what
 *   the campaign's dashboard shows for this partner), days and nations from `partner_day` and
 *   `partner_nation`, bumped in the same guarded writes (a test checks they agree).
 * - The supporters' CSV lists only consents confirmed from the supporter's inbox, one line per
 *   address (its latest consent), streamed in pages, each cell formula-neutralised.
 * - What a partner may change: its allowed origins, accent, default language and its own
 *   off-switch for the embed. Never its key, its name, or the campaign's switch (`active`).
 */
import { and, asc, eq, gt, isNotNull, like, sql } from "drizzle-orm";
import { letterTallies, partnerConsents, partners, pledgeTallies } from "../../db/schema";
import type { Deps } from "../../deps";
import { AppError } from "../../lib/errors";
import { streamOf, toCsv } from "../admin/admin.export";
import { getPartnerSettings, usableAccent } from "../widget/widget.service";
import { partnerConsentText } from "./partners.consent";
import type { PartnerSettingsInput } from "./partners.schemas";

const DAY_MS = 86_400_000;
/** Days on a partner's chart (as the dashboard's). */
export const PARTNER_CHART_DAYS = 90;
const CSV_PAGE = 2000;
const NATION_ORDER = ["England", "Scotland", "Wales", "Northern Ireland", "Test"];

/** The signed-in contact's partner (it exists: the account's foreign key says so). */
export async function ownPartner(deps: Pick<Deps, "db">, input: { partnerKey: string }) {
  const partner = await getPartnerSettings(deps, { key: input.partnerKey });
  if (!partner) throw new AppError("forbidden", "This account's partner no longer exists.");
  return partner;
}

/** This partner's tally rows of one dimension (keys "<partner>|<day or nation>"). */
async function partnerRows(
  deps: Pick<Deps, "db" | "config">,
  table: "letters" | "pledges",
  dimension: "partner_day" | "partner_nation",
  partnerKey: string,
) {
  // Partner keys are [a-z0-9-]: no LIKE wildcard can hide in one.
  const prefix = `${partnerKey}|%`;
  const rows =
    table === "letters"
      ? await deps.db
          .select({ key: letterTallies.key, n: sql<number>`sum(${letterTallies.n})` })
          .from(letterTallies)
          .where(and(eq(letterTallies.dimension, dimension), like(letterTallies.key, prefix)))
          .groupBy(letterTallies.key)
      : await deps.db
          .select({ key: pledgeTallies.key, n: sql<number>`sum(${pledgeTallies.n})` })
          .from(pledgeTallies)
          .where(
            and(
              eq(pledgeTallies.campaignId, deps.config.CAMPAIGN_ID),
              eq(pledgeTallies.dimension, dimension),
              like(pledgeTallies.key, prefix),
            ),
          )
          .groupBy(pledgeTallies.key);
  return rows.map((r) => ({ key: r.key.slice(partnerKey.length + 1), n: Number(r.n ?? 0) }));
}

/**
 * The partner's totals as the campaign's dashboard counts them (letters of every campaign file,
 * pledges of this campaign), from dimension `partner`.
 */
export async function partnerTotals(deps: Pick<Deps, "db" | "config">, input: { partnerKey: string }) {
  const [l] = await deps.db
    .select({ n: sql<number>`coalesce(sum(${letterTallies.n}), 0)` })
    .from(letterTallies)
    .where(and(eq(letterTallies.dimension, "partner"), eq(letterTallies.key, input.partnerKey)));
  const [p] = await deps.db
    .select({ n: sql<number>`coalesce(sum(${pledgeTallies.n}), 0)` })
    .from(pledgeTallies)
    .where(
      and(
        eq(pledgeTallies.campaignId, deps.config.CAMPAIGN_ID),
        eq(pledgeTallies.dimension, "partner"),
        eq(pledgeTallies.key, input.partnerKey),
      ),
    );
  return { letters: Number(l?.n ?? 0), pledges: Number(p?.n ?? 0) };
}

export async function partnerOverview(
  deps: Pick<Deps, "db" | "config" | "clock">,
  input: { partnerKey: string },
) {
  const totals = await partnerTotals(deps, input);
  const now = deps.clock.now();
  const start = Math.floor(now / DAY_MS) * DAY_MS - (PARTNER_CHART_DAYS - 1) * DAY_MS;
  const days: { day: string; letters: number; pledges: number }[] = [];
  for (let t = start; t <= now; t += DAY_MS)
    days.push({ day: new Date(t).toISOString().slice(0, 10), letters: 0, pledges: 0 });
  const index = new Map(days.map((d, i) => [d.day, i]));
  const [lDays, pDays, lNations, pNations] = await Promise.all([
    partnerRows(deps, "letters", "partner_day", input.partnerKey),
    partnerRows(deps, "pledges", "partner_day", input.partnerKey),
    partnerRows(deps, "letters", "partner_nation", input.partnerKey),
    partnerRows(deps, "pledges", "partner_nation", input.partnerKey),
  ]);
  for (const r of lDays) {
    const i = index.get(r.key);
    if (i !== undefined) (days[i] as { letters: number }).letters = r.n;
  }
  for (const r of pDays) {
    const i = index.get(r.key);
    if (i !== undefined) (days[i] as { pledges: number }).pledges = r.n;
  }
  const nations = new Map<string, { nation: string; letters: number; pledges: number }>();
  const at = (nation: string) => {
    const row = nations.get(nation) ?? { nation, letters: 0, pledges: 0 };
    nations.set(nation, row);
    return row;
  };
  for (const r of lNations) at(r.key).letters += r.n;
  for (const r of pNations) at(r.key).pledges += r.n;
  const byNation = [...nations.values()]
    .sort((a, b) => NATION_ORDER.indexOf(a.nation) - NATION_ORDER.indexOf(b.nation))
    .map((r) => ({ ...r, label: r.nation === "Test" ? "Test seat (ZZ9 9ZZ)" : r.nation }));
  const [consents] = await deps.db
    .select({ n: sql<number>`count(distinct ${partnerConsents.emailNorm})` })
    .from(partnerConsents)
    .where(and(eq(partnerConsents.partnerKey, input.partnerKey), isNotNull(partnerConsents.confirmedAt)));
  return {
    totals,
    days,
    byNation,
    /** Every confirmed letter and pledge by day since the first (the chart shows the last 90). */
    allTime: {
      letters: lDays.reduce((s, r) => s + r.n, 0),
      pledges: pDays.reduce((s, r) => s + r.n, 0),
    },
    optedIn: Number(consents?.n ?? 0),
  };
}

/** The partner's own settings. An accent too light for white text is refused, not silently dropped. */
export async function updatePartnerSettings(
  deps: Pick<Deps, "db" | "clock" | "logger">,
  input: PartnerSettingsInput & { partnerKey: string },
) {
  if (input.accent && !usableAccent(input.accent))
    throw new AppError(
      "validation_failed",
      "That colour is too light: white text on it would be hard to read.",
      {
        errors: [
          { path: "accent", message: "too light: white button text on it would be hard to read (WCAG AA)" },
        ],
      },
    );
  const origins = [...new Set(input.allowedOrigins)];
  const rows = await deps.db
    .update(partners)
    .set({
      allowedOrigins: origins,
      accent: input.accent ?? null,
      embedEnabled: input.embedEnabled,
      lang: input.lang,
      updatedAt: deps.clock.now(),
    })
    .where(eq(partners.key, input.partnerKey))
    .returning({ key: partners.key });
  if (!rows.length) throw new AppError("forbidden", "This account's partner no longer exists.");
  deps.logger.info("partner settings saved by partner", {
    partner: input.partnerKey,
    origins: origins.length,
    embedEnabled: input.embedEnabled,
  });
}

/**
 * The supporters who asked to hear from this partner, confirmed: name, email, when, how, and the
 * exact wording they agreed to. Streamed by address (keyset), one line per address.
 */
export function supportersCsv(deps: Pick<Deps, "db">, input: { partnerKey: string; partnerName: string }) {
  let after = "";
  let header = true;
  const mine = (c: typeof partnerConsents) =>
    and(eq(c.partnerKey, input.partnerKey), isNotNull(c.confirmedAt));
  return streamOf(async () => {
    if (header) {
      header = false;
      return toCsv([
        ["name", "email", "consented_at", "confirmed_at", "given_with", "consent_version", "consent_wording"],
      ]);
    }
    // The latest confirmed consent of each address (a correlated subquery picks its row).
    const rows = await deps.db
      .select({
        email: partnerConsents.emailNorm,
        name: partnerConsents.name,
        consentedAt: partnerConsents.consentedAt,
        confirmedAt: partnerConsents.confirmedAt,
        source: partnerConsents.source,
        version: partnerConsents.wordingVersion,
      })
      .from(partnerConsents)
      .where(
        and(
          mine(partnerConsents),
          gt(partnerConsents.emailNorm, after),
          sql`${partnerConsents.id} = (select c2.id from ${partnerConsents} c2 where c2.partner_key = ${input.partnerKey} and c2.email_norm = ${partnerConsents.emailNorm} and c2.confirmed_at is not null order by c2.confirmed_at desc, c2.rowid desc limit 1)`,
        ),
      )
      .orderBy(asc(partnerConsents.emailNorm))
      .limit(CSV_PAGE);
    if (!rows.length) return null;
    after = rows[rows.length - 1]?.email ?? after;
    const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());
    return toCsv(
      rows.map((r) => [
        r.name,
        r.email,
        iso(r.consentedAt),
        iso(r.confirmedAt),
        r.source,
        r.version,
        partnerConsentText(r.version, input.partnerName),
      ]),
    );
  });
}
