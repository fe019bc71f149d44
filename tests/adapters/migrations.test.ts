/**
 * Migration 0004 (the devolved parliaments) over a database that already holds letters, their
 * outbox rows, bands, stops and delivery log, a members sync with its change log, and pledges:
 * the migrations run as they do at start-up (one transaction each, foreign keys on), and every
 * row comes through with its references intact.
 */
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { describe, expect, it } from "vitest";
import { MIGRATIONS_DIR } from "../../src/adapters/node/db";
import { migrationsBefore } from "../support/migrations";

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

describe("migration 0007_partners on a database in use", () => {
  it("keeps leads, their sessions, partners, outbox rows and their log, and tallies; back-fills partners' tallies", () => {
    const raw = new Database(":memory:");
    raw.pragma("foreign_keys = ON");
    const db = drizzle(raw);
    migrate(db, { migrationsFolder: migrationsBefore("0007_partners") });
    const now = Date.parse("2026-11-20T12:00:00Z");
    raw.exec(`
      insert into constituencies (ons_code, name, nation, region_code, region_name)
        values ('W07000081', 'Cardiff East', 'Wales', 'W92000004', 'Wales');
      insert into admin_users (id, email, password_hash, created_at) values ('lead-1', 'lead@example.org', 'h', ${now});
      insert into admin_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
        values ('t1', 'lead-1', 'c1', ${now}, ${now + 3_600_000});
      insert into partners (key, name, allowed_origins, active, created_at, updated_at)
        values ('acme', 'Acme', '["https://acme.example"]', 1, ${now}, ${now});
      insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_name, partner_key, status, asks,
          subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode, idempotency_key,
          created_at, confirmed_at)
        values ('l-1', 'manifesto-for-babies', 'W07000081', 'mp', 'Stephen Doughty', 'acme', 'sent', '[]', 's', 'b', 'n',
          'e@example.org', 'a', 'CF24 1AA', 'k1', ${now}, ${now});
      insert into letter_counted (letter_id) values ('l-1');
      insert into letter_tallies (campaign_id, dimension, key, n) values ('manifesto-for-babies', 'partner', 'acme', 1);
      insert into outbox (id, kind, letter_id, state, to_email, reflect_to, from_name, subject, body_text, message_id,
          next_attempt_at, created_at, updated_at, attempts)
        values ('o-1', 'letter', 'l-1', 'sent', 'mp@parliament.uk', 'e@example.org', 'n', 's', 'b', '<o-1@x>', ${now}, ${now}, ${now}, 1);
      insert into delivery_log (outbox_id, attempt, outcome, at) values ('o-1', 1, 'sent', ${now});
      insert into supporter_pledges (id, public_id, campaign_id, email_norm, email_hash, name, postcode, constituency_code,
          partner_key, status, pledge_consent_version, pledge_consent_at, counted, created_at, confirmed_at)
        values (1, 'p1', 'manifesto-for-babies', 'p@example.org', 'h', 'P', 'CF24 1AA', 'W07000081', 'acme', 'confirmed',
          'v1', ${now}, 1, ${now}, ${now});
      insert into pledge_tallies (campaign_id, dimension, key, n) values ('manifesto-for-babies', 'partner', 'acme', 1);
    `);
    const count = (table: string) =>
      (raw.prepare(`select count(*) n from ${table}`).get() as { n: number }).n;
    const tables = [
      "admin_users",
      "admin_sessions",
      "partners",
      "outbox",
      "delivery_log",
      "letter_tallies",
      "pledge_tallies",
    ];
    const before = Object.fromEntries(tables.map((t) => [t, count(t)]));

    migrate(db, { migrationsFolder: MIGRATIONS_DIR });

    for (const t of tables.filter((t) => !t.endsWith("_tallies"))) expect(count(t), t).toBe(before[t]);
    expect(raw.pragma("foreign_key_check")).toEqual([]);
    expect(raw.prepare("select role, partner_key from admin_users").all()).toEqual([
      { role: "lead", partner_key: null },
    ]);
    expect(raw.prepare("select embed_enabled, accent, lang from partners").all()).toEqual([
      { embed_enabled: 1, accent: null, lang: "en" },
    ]);
    expect(raw.prepare("select partner_key, event_key from outbox").all()).toEqual([
      { partner_key: null, event_key: null },
    ]);
    // The partner's history is on its page from the start.
    expect(raw.prepare("select dimension, key, n from letter_tallies order by dimension, key").all()).toEqual(
      [
        { dimension: "partner", key: "acme", n: 1 },
        { dimension: "partner_day", key: "acme|2026-11-20", n: 1 },
        { dimension: "partner_nation", key: "acme|Wales", n: 1 },
      ],
    );
    expect(raw.prepare("select dimension, key, n from pledge_tallies order by dimension, key").all()).toEqual(
      [
        { dimension: "partner", key: "acme", n: 1 },
        { dimension: "partner_day", key: "acme|2026-11-20", n: 1 },
        { dimension: "partner_nation", key: "acme|Wales", n: 1 },
      ],
    );
    // The new rules hold: a partner account names its partner; a webhook row names its partner.
    expect(() =>
      raw.exec(
        `insert into admin_users (id, email, password_hash, role, created_at) values ('x', 'x@example.org', 'h', 'partner', ${now})`,
      ),
    ).toThrow(/CHECK constraint failed: admin_users_partner_ck/);
    expect(() =>
      raw.exec(`insert into outbox (id, kind, state, to_email, reflect_to, from_name, subject, body_text, message_id,
          next_attempt_at, created_at, updated_at) values ('w', 'webhook', 'queued', '', '', '', 'e', '{}', 'evt', ${now}, ${now}, ${now})`),
    ).toThrow(/CHECK constraint failed: outbox_webhook_partner_ck/);
    // A lead's session survived, and still ends with the account (the cascade was rebuilt).
    raw.exec("delete from admin_users where id = 'lead-1'");
    expect(count("admin_sessions")).toBe(0);
  });
});

describe("migration 0008_campaign_front on a database in use", () => {
  it("takes the test seat's letters and pledges out of every tally, leaving the real ones", () => {
    const raw = new Database(":memory:");
    raw.pragma("foreign_keys = ON");
    const db = drizzle(raw);
    migrate(db, { migrationsFolder: migrationsBefore("0008_campaign_front") });
    const day = Date.parse("2026-11-20T10:00:00Z");
    raw.exec(`
      insert into constituencies (ons_code, name, nation, region_code, region_name, is_test) values
        ('Z00000001', 'Test Constituency (ZZ9 9ZZ)', 'Test', 'Z00000001', 'Test', 1),
        ('E14001063', 'Aldershot', 'England', 'E12000008', 'South East', 0);
    `);
    const letter = raw.prepare(
      `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_name, partner_key, status,
         asks, subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode,
         idempotency_key, created_at, confirmed_at)
       values (?, 'manifesto-for-babies', ?, 'mp', ?, ?, 'sent', '[]', 's', 'b', 'n', 'e@example.org', 'a', 'p', ?, ?, ?)`,
    );
    letter.run("t1", "Z00000001", "Test MP", "acme", "k1", day, day);
    letter.run("r1", "E14001063", "MP Aldershot", "acme", "k2", day, day);
    raw.exec(`
      insert into letter_counted (letter_id) values ('t1'), ('r1');
      insert into letter_tallies (campaign_id, dimension, key, n) values
        ('manifesto-for-babies', 'day', '2026-11-20', 2),
        ('manifesto-for-babies', 'partner', 'acme', 2),
        ('manifesto-for-babies', 'constituency', 'Z00000001', 1),
        ('manifesto-for-babies', 'constituency', 'E14001063', 1),
        ('manifesto-for-babies', 'recipient', 'mp|Z00000001|Test MP', 1),
        ('manifesto-for-babies', 'recipient', 'mp|E14001063|MP Aldershot', 1),
        ('manifesto-for-babies', 'partner_day', 'acme|2026-11-20', 2),
        ('manifesto-for-babies', 'partner_nation', 'acme|Test', 1),
        ('manifesto-for-babies', 'partner_nation', 'acme|England', 1);
      insert into supporter_pledges (public_id, campaign_id, email_norm, email_hash, name, postcode, constituency_code,
          status, pledge_consent_version, pledge_consent_at, counted, created_at, confirmed_at) values
        ('p1', 'manifesto-for-babies', 'a@example.org', 'h1', 'A', 'ZZ9 9ZZ', 'Z00000001', 'confirmed', 'v', ${day}, 1, ${day}, ${day}),
        ('p2', 'manifesto-for-babies', 'b@example.org', 'h2', 'B', 'GU11 1AA', 'E14001063', 'confirmed', 'v', ${day}, 1, ${day}, ${day});
      insert into pledge_tallies (campaign_id, dimension, key, n) values
        ('manifesto-for-babies', 'day', '2026-11-20', 2),
        ('manifesto-for-babies', 'partner', '', 2),
        ('manifesto-for-babies', 'constituency', 'Z00000001', 1),
        ('manifesto-for-babies', 'constituency', 'E14001063', 1);
    `);
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const tallies = (table: string) =>
      raw.prepare(`select dimension, key, n from ${table} order by dimension, key`).all();
    expect(tallies("letter_tallies")).toEqual([
      { dimension: "constituency", key: "E14001063", n: 1 },
      { dimension: "day", key: "2026-11-20", n: 1 },
      { dimension: "partner", key: "acme", n: 1 },
      { dimension: "partner_day", key: "acme|2026-11-20", n: 1 },
      { dimension: "partner_nation", key: "acme|England", n: 1 },
      { dimension: "recipient", key: "mp|E14001063|MP Aldershot", n: 1 },
    ]);
    expect(tallies("pledge_tallies")).toEqual([
      { dimension: "constituency", key: "E14001063", n: 1 },
      { dimension: "day", key: "2026-11-20", n: 1 },
      { dimension: "partner", key: "", n: 1 },
    ]);
  });
});
