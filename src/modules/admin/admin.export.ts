/**
 * CSV exports for campaign leads, streamed: rows are read in pages by keyset (id > last id) and
 * each page is stringified by csv-stringify as the client reads, so a million pledges never sit
 * in memory at once and the first bytes leave immediately.
 *
 * Formula injection: a spreadsheet treats a cell starting with = + - @ (or tab / carriage
 * return, which some strip before parsing) as a formula. Every string cell starting with one of
 * those is prefixed with a single quote, which spreadsheets show as text.
 */
import { stringify } from "csv-stringify/sync";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { constituencies, supporterPledges, suppressions } from "../../db/schema";
import type { Deps } from "../../deps";
import { byConstituency, repPledgeList } from "./admin.service";

const PAGE = 2000;
/** = + - @ first, after any spaces or control characters a spreadsheet might skip. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: the characters spreadsheets skip
const FORMULA_START = /^[\s\u0000-\u001f]*[=+\-@]|^[\t\r\n]/;

/** Neutralise a cell a spreadsheet would run as a formula. */
export const safeCell = (v: string) => (FORMULA_START.test(v) ? `'${v}` : v);

export const toCsv = (rows: unknown[][]) =>
  stringify(rows, {
    cast: {
      string: safeCell,
      boolean: (b) => (b ? "yes" : "no"),
      date: (d) => d.toISOString(),
    },
  });

const iso = (ms: number | null) => (ms === null ? "" : new Date(ms).toISOString());

export function streamOf(pages: () => Promise<string | null>): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await pages();
      if (chunk === null) controller.close();
      else controller.enqueue(enc.encode(chunk));
    },
  });
}

/**
 * Confirmed supporter pledges. `may_email` is the updates consent minus the suppression list: an
 * address erased at its owner's request may be emailed again only if they ticked the updates box
 * anew after the erasure (a consent given before it was withdrawn with everything else).
 */
export function pledgesCsv(deps: Deps): ReadableStream<Uint8Array> {
  let lastId = 0;
  let header = true;
  return streamOf(async () => {
    if (header) {
      header = false;
      return toCsv([
        [
          "id",
          "name",
          "email",
          "postcode",
          "constituency_code",
          "constituency",
          "nation",
          "partner",
          "pledged_at",
          "confirmed_at",
          "pledge_consent_version",
          "updates_consent_version",
          "may_email",
        ],
      ]);
    }
    const rows = await deps.db
      .select({
        id: supporterPledges.id,
        name: supporterPledges.name,
        // As typed (rows from before it was kept: the key).
        email: sql<string>`coalesce(${supporterPledges.email}, ${supporterPledges.emailNorm})`,
        postcode: supporterPledges.postcode,
        code: supporterPledges.constituencyCode,
        constituency: constituencies.name,
        nation: constituencies.nation,
        partner: supporterPledges.partnerKey,
        createdAt: supporterPledges.createdAt,
        confirmedAt: supporterPledges.confirmedAt,
        pledgeConsent: supporterPledges.pledgeConsentVersion,
        updatesConsent: supporterPledges.updatesConsentVersion,
        suppressed: sql<
          number | null
        >`${suppressions.emailHash} is not null and ${suppressions.createdAt} >= coalesce(${supporterPledges.updatesConsentAt}, 0)`,
      })
      .from(supporterPledges)
      .innerJoin(constituencies, eq(constituencies.onsCode, supporterPledges.constituencyCode))
      .leftJoin(suppressions, eq(suppressions.emailHash, supporterPledges.emailHash))
      .where(
        and(
          gt(supporterPledges.id, lastId),
          eq(supporterPledges.status, "confirmed"),
          eq(supporterPledges.campaignId, deps.config.CAMPAIGN_ID),
        ),
      )
      .orderBy(asc(supporterPledges.id))
      .limit(PAGE);
    if (rows.length === 0) return null;
    lastId = rows[rows.length - 1]?.id ?? lastId;
    return toCsv(
      rows.map((r) => [
        r.id,
        r.name,
        r.email,
        r.postcode,
        r.code,
        r.constituency,
        r.nation,
        r.partner ?? "",
        iso(r.createdAt),
        iso(r.confirmedAt),
        r.pledgeConsent,
        r.updatesConsent ?? "",
        !!r.updatesConsent && !r.suppressed,
      ]),
    );
  });
}

/** Pledges and letters per constituency (650 rows: built in one go, still sent as a stream). */
export function constituenciesCsv(deps: Deps): ReadableStream<Uint8Array> {
  let done = false;
  return streamOf(async () => {
    if (done) return null;
    done = true;
    const seats = await byConstituency(deps);
    return toCsv([
      ["constituency_code", "constituency", "nation", "region", "mp", "party", "pledges", "letters"],
      ...seats.map((s) => [
        s.code,
        s.name,
        s.nation,
        s.region,
        s.mp ?? "",
        s.party ?? "",
        s.pledges,
        s.letters,
      ]),
    ]);
  });
}

export function representativesCsv(deps: Deps): ReadableStream<Uint8Array> {
  let done = false;
  return streamOf(async () => {
    if (done) return null;
    done = true;
    const rows = await repPledgeList(deps);
    return toCsv([
      ["kind", "name", "party", "constituency", "status", "verified_by", "note"],
      ...rows.map((r) => [
        r.kind,
        r.name,
        r.party ?? "",
        r.constituency,
        r.status,
        r.verifiedBy ?? "",
        r.verifiedNote ?? "",
      ]),
    ]);
  });
}
