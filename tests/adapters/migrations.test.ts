/**
 * Migration 0004 (the devolved parliaments) over a database that already holds letters, their
 * outbox rows, bands, stops and delivery log, a members sync with its change log, and pledges:
 * the migrations run as they do at start-up (one transaction each, foreign keys on), and every
 * row comes through with its references intact.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR } from "../../src/adapters/node/db";

/** The migrations folder as it was before `tag` (the journal cut there). */
function migrationsBefore(tag: string) {
  const dir = mkdtempSync(join(tmpdir(), "speakup-migrations-"));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, "meta/_journal.json");
  const journal = JSON.parse(readFileSync(journalPath, "utf8")) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

describe("migration 0004_devolved on a database in use", () => {
  it("keeps every letter, band, outbox row, stop, log line, sync, change and pledge, with the new columns defaulted", () => {
    const raw = new Database(":memory:");
    raw.pragma("foreign_keys = ON");
    const db = drizzle(raw);
    migrate(db, { migrationsFolder: migrationsBefore("0004_devolved") });
    const now = 1_790_000_000_000;
    raw.exec(`
      insert into constituencies (ons_code, name, nation, region_code, region_name)
        values ('S14000078', 'Edinburgh East and Musselburgh', 'Scotland', 'S92000003', 'Scotland');
      insert into members (constituency_code, status, name, parliament_id, email, updated_at)
        values ('S14000078', 'sitting', 'Chris Murray', 5245, 'chris.murray.mp@parliament.uk', ${now});
      insert into member_syncs (id, trigger, source, status, started_at, finished_at)
        values ('sync-1', 'cron', 'members-api', 'applied', ${now}, ${now});
      insert into member_changes (sync_id, constituency_code, kind, parliament_id, member_name, recorded_at)
        values ('sync-1', 'S14000078', 'gained', 5245, 'Chris Murray', ${now});
    `);
    for (const [id, status, state] of [
      ["letter-1", "sent", "sent"],
      ["letter-2", "cancelled", "cancelled"],
      ["letter-3", "awaiting_confirmation", "awaiting_confirmation"],
    ] as const) {
      raw
        .prepare(
          `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id, recipient_name,
             status, asks, subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode,
             idempotency_key, signature, created_at, confirm_sent_at)
           values (?, 'manifesto-for-babies', 'S14000078', 'mp', 5245, 'Chris Murray', ?, '["strategy"]', 'Subject',
             'Dear Chris Murray', 'Ann', 'ann@example.org', '1 High Street', 'EH1 2NG', ?, '[1,2,3]', ${now}, ${now})`,
        )
        .run(id, status, `key-${id}`);
      raw
        .prepare(
          `insert into outbox (id, kind, letter_id, state, to_email, reflect_to, from_name, subject, body_text, message_id,
             next_attempt_at, created_at, updated_at, attempts)
           values (?, 'letter', ?, ?, 'chris.murray.mp@parliament.uk', 'ann@example.org', 'Ann via us', 'Subject', 'Body', ?,
             ${now}, ${now}, ${now}, 1)`,
        )
        .run(`out-${id}`, id, state, `<${id}@speakup.test>`);
      raw
        .prepare("insert into letter_bands (band, letter_id) values (?, ?), (?, ?)")
        .run(`b1-${id}`, id, `b2-${id}`, id);
    }
    raw.exec(`
      insert into delivery_log (outbox_id, attempt, outcome, at) values ('out-letter-1', 1, 'sent', ${now});
      insert into letter_stops (letter_id, sync_id, reason, at) values ('letter-2', 'sync-1', 'member_left', ${now});
      insert into rep_pledges (id, campaign_id, kind, person_id, constituency_code, name, status, requested_at)
        values ('rp-1', 'manifesto-for-babies', 'mp', 5245, 'S14000078', 'Chris Murray', 'requested', ${now});
      insert into supporter_pledges (id, campaign_id, email_norm, email_hash, name, postcode, constituency_code, status,
          pledge_consent_version, pledge_consent_at, created_at, letter_id)
        values (1, 'manifesto-for-babies', 'ann@example.org', 'h', 'Ann', 'EH1 2NG', 'S14000078', 'unconfirmed',
          'v1', ${now}, ${now}, 'letter-3');
    `);
    const count = (table: string) =>
      (raw.prepare(`select count(*) n from ${table}`).get() as { n: number }).n;
    const before = Object.fromEntries(
      [
        "letters",
        "letter_bands",
        "outbox",
        "delivery_log",
        "letter_stops",
        "member_syncs",
        "member_changes",
        "rep_pledges",
        "supporter_pledges",
      ].map((t) => [t, count(t)]),
    );

    migrate(db, { migrationsFolder: MIGRATIONS_DIR });

    for (const [table, n] of Object.entries(before)) expect(count(table), table).toBe(n);
    expect(raw.pragma("foreign_key_check")).toEqual([]);
    expect(
      raw.prepare("select id, status, area_code, group_id, confirm_sent_at from letters order by id").all(),
    ).toEqual([
      { id: "letter-1", status: "sent", area_code: null, group_id: null, confirm_sent_at: now },
      { id: "letter-2", status: "cancelled", area_code: null, group_id: null, confirm_sent_at: now },
      {
        id: "letter-3",
        status: "awaiting_confirmation",
        area_code: null,
        group_id: null,
        confirm_sent_at: now,
      },
    ]);
    expect(raw.prepare("select body from member_syncs").all()).toEqual([{ body: "uk_parliament" }]);
    expect(raw.prepare("select body, constituency_code, area_code from member_changes").all()).toEqual([
      { body: "uk_parliament", constituency_code: "S14000078", area_code: null },
    ]);
    expect(raw.prepare("select kind, constituency_code, area_code from rep_pledges").all()).toEqual([
      { kind: "mp", constituency_code: "S14000078", area_code: null },
    ]);
    // The new rules hold on the rebuilt tables: an MSP's letter names its area.
    const msp = (area: string | null) =>
      raw
        .prepare(
          `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_name, area_code, status, asks,
             subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode, idempotency_key, created_at)
           values ('letter-msp', 'c', 'S14000078', 'msp', 'Lorna Slater', ?, 'awaiting_confirmation', '[]', 's', 'b', 'n',
             'e@example.org', 'a', 'EH1 2NG', 'k-msp', ${now})`,
        )
        .run(area);
    expect(() => msp(null)).toThrow(/CHECK constraint failed: letters_area_ck/);
    raw.exec(`
      insert into devolved_areas (code, body, kind, name, seats) values ('S17000022', 'scottish_parliament', 'region', 'Edinburgh and Lothians East', 7);
      insert into devolved_areas (code, body, kind, name, region_code, seats) values ('S16000182', 'scottish_parliament', 'constituency', 'Edinburgh Central', 'S17000022', 1);
    `);
    msp("S16000182");
    expect(count("letters")).toBe(4);
  });
});
