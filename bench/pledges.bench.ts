/**
 * Pledges and dashboard benchmark: `npm run bench:pledges [-- --duration 10 --connections 20
 * --pledges 1000000 --letters 200000 --keep]`.
 *
 * 1. A fresh SQLite file in a temp dir (real migrations) with data/ loaded (650 seats, MPs,
 *    sample postcodes).
 * 2. Pledges recorded per second: the real server (child process, MAIL_MODE=capture, so every
 *    pledge also writes its confirmation mail) driven by autocannon with POST /api/pledges, each
 *    request a new email address. Then the same for confirms.
 * 3. Bulk load: 1,000,000 confirmed pledges and 200,000 letters (with outbox rows), inserted
 *    directly with better-sqlite3 for speed; pledge_tallies rebuilt from them exactly as
 *    confirms would have left it.
 * 4. Query and page times at that size, in process (the real app via app.request with a signed-in
 *    session): counter, wall, dashboard, constituency table, outbox, moderation; then the full
 *    CSV export of 1M pledges.
 * 5. Writes the figures into the "Pledges and dashboard" block of bench/REPORT.md.
 *
 * Bounded: autocannon runs for --duration seconds, the child server is always stopped, loopback
 * only, and the temp dir is removed unless --keep.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import autocannon, { type RawRequest } from "autocannon";
import { buildNodeDeps, ROOT_DIR } from "../src/adapters/node/deps";
import { seed } from "../src/adapters/node/seed";
import { createApp } from "../src/app";
import { parseEnv } from "../src/env";
import { createUser, signIn } from "../src/modules/admin/admin.auth";
import { dashboard } from "../src/modules/admin/admin.service";
import { tallyLetters } from "../src/modules/admin/admin.tallies";
import { pledgeCounter } from "../src/modules/pledges/pledges.service";
import { prng } from "./support/nspl";
import { updateReport } from "./support/report";
import { startServer } from "./support/server";

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "20" },
    pledges: { type: "string", default: "1000000" },
    letters: { type: "string", default: "200000" },
    runs: { type: "string", default: "15" },
    keep: { type: "boolean", default: false },
  },
});
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);
const N_PLEDGES = Number(args.pledges);
const N_LETTERS = Number(args.letters);
const RUNS = Number(args.runs);
const TARGET_MS = 100;
const DAY = 86_400_000;

const dir = mkdtempSync(join(tmpdir(), "speakup-pledges-bench-"));
const dbPath = join(dir, "bench.sqlite");
const log = (s: string) => process.stderr.write(`${s}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-GB");

async function main() {
  const env = {
    DATABASE_PATH: dbPath,
    SEED: "off",
    LOG_LEVEL: "warn",
    MAIL_MODE: "capture",
    OUTBOX_POLL_MS: "0",
    RETENTION_INTERVAL_MINUTES: "0",
    REMOTE_LOOKUP: "off",
  };
  const config = parseEnv(env);
  const { deps, sqlite } = buildNodeDeps(config);
  await seed(deps, resolve(ROOT_DIR, "data"));
  const postcodes = (
    sqlite
      .prepare(
        "select p.postcode from postcodes p join constituencies c on c.ons_code = p.constituency_code where p.terminated = 0 and c.is_test = 0",
      )
      .all() as { postcode: string }[]
  ).map((r) => r.postcode);
  const seats = (
    sqlite.prepare("select ons_code from constituencies where is_test = 0").all() as { ons_code: string }[]
  ).map((r) => r.ons_code);
  log(`seeded: ${seats.length} seats, ${postcodes.length} usable sample postcodes`);

  // --- 2. pledges/s over HTTP ----------------------------------------------------------------
  const server = await startServer({ root: ROOT_DIR, env: { ...env, PORT: "0" } });
  let submit: { rps: number; p50: number; p99: number; ok: number; non2xx: number };
  try {
    let i = 0;
    const result = await autocannon({
      url: server.url,
      connections: CONNECTIONS,
      duration: DURATION,
      requests: [
        {
          method: "POST",
          path: "/api/pledges",
          headers: { "content-type": "application/json" },
          setupRequest: (req: RawRequest) => {
            i++;
            return {
              ...req,
              body: JSON.stringify({
                name: `Bench ${i}`,
                email: `bench-${i}@example.org`,
                postcode: postcodes[i % postcodes.length],
                pledgeConsent: "pledge-2026-11",
                updatesConsent: i % 3 === 0 ? "updates-2026-11" : undefined,
                partner: i % 4 === 0 ? "partner-a" : undefined,
              }),
            } as RawRequest;
          },
        },
      ],
    });
    const rows = (sqlite.prepare("select count(*) n from supporter_pledges").get() as { n: number }).n;
    submit = {
      rps: rows / DURATION,
      p50: result.latency.p50,
      p99: result.latency.p99,
      ok: rows,
      non2xx: result.non2xx,
    };
    log(`submit: ${fmt(submit.rps)} pledges/s (${rows} rows, non2xx ${result.non2xx})`);
  } finally {
    await server.stop();
  }

  // --- 3. bulk load -----------------------------------------------------------------------------
  const t0 = performance.now();
  const now = Date.now();
  const rnd = prng(42);
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)] as T;
  const partners = ["", "", "", "partner-a", "partner-b", "partner-c", "nct", "home-start"];
  sqlite.exec("delete from captured_mail; delete from pledge_tallies;");
  const insPledge = sqlite.prepare(
    `insert into supporter_pledges (campaign_id, email_norm, email_hash, name, postcode, constituency_code, partner_key,
      status, pledge_consent_version, pledge_consent_at, updates_consent_version, updates_consent_at, counted,
      created_at, confirm_sent_at, confirmed_at)
     values ('manifesto-for-babies', ?, ?, 'Synthetic Supporter', 'AB1 0AA', ?, ?, 'confirmed', 'pledge-2026-11', ?, ?, ?, 1, ?, ?, ?)`,
  );
  const loadPledges = sqlite.transaction((from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const created = now - Math.floor(rnd() * 365 * DAY);
      const upd = k % 3 === 0;
      const partner = pick(partners);
      insPledge.run(
        `synthetic-${k}@example.org`,
        k.toString(16).padStart(64, "0"),
        pick(seats),
        partner || null,
        created,
        upd ? "updates-2026-11" : null,
        upd ? created : null,
        created,
        created,
        created + 3_600_000,
      );
    }
  });
  for (let k = 0; k < N_PLEDGES; k += 50_000) loadPledges(k, Math.min(N_PLEDGES, k + 50_000));
  // Tallies as confirms leave them (one bump per confirmed pledge per dimension).
  sqlite.exec(`
    insert into pledge_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'day', strftime('%Y-%m-%d', confirmed_at / 1000, 'unixepoch'), count(*) from supporter_pledges where status = 'confirmed' group by 1, 3;
    insert into pledge_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'constituency', constituency_code, count(*) from supporter_pledges where status = 'confirmed' group by 1, 3;
    insert into pledge_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'partner', coalesce(partner_key, ''), count(*) from supporter_pledges where status = 'confirmed' group by 1, 3;
  `);
  const tPledges = performance.now() - t0;

  const members = new Map(
    (
      sqlite
        .prepare("select constituency_code c, name, parliament_id p from members where status = 'sitting'")
        .all() as {
        c: string;
        name: string;
        p: number;
      }[]
    ).map((m) => [m.c, m]),
  );
  const body = "Dear MP, ".padEnd(1800, "I am writing about the first 1001 days of my baby's life. ");
  const statuses = [
    "sent",
    "sent",
    "sent",
    "sent",
    "sent",
    "sent",
    "confirmed",
    "awaiting_confirmation",
    "expired",
    "undeliverable",
  ];
  const insLetter = sqlite.prepare(
    `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id, recipient_name, partner_key,
      status, asks, subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode,
      idempotency_key, created_at, confirmed_at, sent_at)
     values (?, 'manifesto-for-babies', ?, 'mp', ?, ?, ?, ?, '["a1","a2"]', 'Please speak up for babies', ?, 'Synthetic Supporter', ?,
      '1 High Street\nTown', 'AB1 0AA', ?, ?, ?, ?)`,
  );
  const insOutbox = sqlite.prepare(
    `insert into outbox (id, kind, letter_id, state, to_name, to_email, reflect_to, from_name, subject, body_text, message_id,
      attempts, next_attempt_at, created_at, updated_at, sent_at, last_error)
     values (?, 'letter', ?, ?, ?, 'mp@parliament.invalid', 'supporter@example.org', 'Synthetic Supporter', 's', ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const outboxState: Record<string, string> = {
    sent: "sent",
    confirmed: "queued",
    awaiting_confirmation: "awaiting_confirmation",
    expired: "expired",
    undeliverable: "dead",
    held: "held",
  };
  const t1 = performance.now();
  const loadLetters = sqlite.transaction((from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const code = pick(seats);
      const m = members.get(code);
      // Rows arrive in time order, as they do in production (rowid follows created_at).
      const created = now - 120 * DAY + Math.floor((k / N_LETTERS) * 120 * DAY);
      let status = pick(statuses);
      if (k % 1000 === 0) status = "held";
      const id = `L${k}`;
      insLetter.run(
        id,
        code,
        m?.p ?? null,
        m?.name ?? "Candidate",
        pick(partners) || null,
        status,
        body,
        `letter-${k}@example.org`,
        `idem-${k}`,
        created,
        status === "awaiting_confirmation" || status === "expired" ? null : created + 600_000,
        status === "sent" ? created + 700_000 : null,
      );
      let state = outboxState[status] ?? "sent";
      if (k % 997 === 0 && state === "queued") state = "failed";
      insOutbox.run(
        `O${k}`,
        id,
        state,
        m?.name ?? "Candidate",
        body,
        `<O${k}@bench.invalid>`,
        state === "failed" ? 3 : state === "dead" ? 8 : 1,
        created,
        created,
        created + 700_000,
        state === "sent" ? created + 700_000 : null,
        state === "failed" || state === "dead" ? "451 try later" : null,
      );
    }
  });
  for (let k = 0; k < N_LETTERS; k += 20_000) loadLetters(k, Math.min(N_LETTERS, k + 20_000));
  // Letter tallies as the confirm hook (admin.tallies.ts) leaves them.
  sqlite.exec(`
    insert into letter_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'day', strftime('%Y-%m-%d', confirmed_at / 1000, 'unixepoch'), count(*) from letters where confirmed_at is not null group by 1, 3;
    insert into letter_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'constituency', constituency_code, count(*) from letters where confirmed_at is not null group by 1, 3;
    insert into letter_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'partner', coalesce(partner_key, ''), count(*) from letters where confirmed_at is not null group by 1, 3;
    insert into letter_tallies (campaign_id, dimension, key, n)
      select campaign_id, 'recipient', recipient_kind || '|' || constituency_code || '|' || recipient_name, count(*) from letters where confirmed_at is not null group by 1, 3;
    insert into letter_counted (letter_id) select id from letters where confirmed_at is not null;
  `);
  const tLetters = performance.now() - t1;
  sqlite.exec("analyze");
  log(
    `loaded ${fmt(N_PLEDGES)} pledges in ${(tPledges / 1000).toFixed(1)} s, ${fmt(N_LETTERS)} letters in ${(tLetters / 1000).toFixed(1)} s`,
  );

  // A few verified MP pledges for the wall.
  sqlite.exec(`insert into rep_pledges (id, campaign_id, kind, person_id, constituency_code, name, party, status, verified_by,
      verified_note, requested_at, verified_at)
    select 'rp-' || parliament_id, 'manifesto-for-babies', 'mp', parliament_id, constituency_code, name, party, 'verified', 'admin',
      'bench', ${now}, ${now} from members where status = 'sitting' and parliament_id is not null limit 120`);

  // --- 4. timings -------------------------------------------------------------------------------
  const app = createApp(() => deps);
  await createUser(deps, { email: "bench@speakup.invalid", password: "bench-password-long" });
  const { token } = await signIn(deps, {
    email: "bench@speakup.invalid",
    password: "bench-password-long",
    clientKey: "bench",
  });
  const cookie = `speakup_admin=${token}`;

  async function time(label: string, fn: () => Promise<unknown>) {
    for (let w = 0; w < 2; w++) await fn();
    const ms: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const s = performance.now();
      await fn();
      ms.push(performance.now() - s);
    }
    ms.sort((a, b) => a - b);
    const res = { label, p50: ms[Math.floor(ms.length / 2)] as number, max: ms[ms.length - 1] as number };
    log(`${label}: median ${res.p50.toFixed(1)} ms, max ${res.max.toFixed(1)} ms`);
    return res;
  }
  const page = (path: string) => async () => {
    const res = await app.request(path, { headers: { cookie } });
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    await res.text();
  };
  const timings = [
    await time("pledgeCounter() (total + by nation)", () => pledgeCounter(deps)),
    await time("GET /api/pledges/counter", page("/api/pledges/counter")),
    await time("GET /api/pledges/wall (120 verified MPs)", page("/api/pledges/wall")),
    await time("dashboard() queries", () => dashboard(deps)),
    await time("GET /admin (dashboard page: chart, hex map, tables)", page("/admin")),
    await time("GET /admin?map=letters", page("/admin?map=letters")),
    await time("GET /admin/constituencies (650 rows)", page("/admin/constituencies")),
    await time("GET /admin/outbox", page("/admin/outbox")),
    await time("GET /admin/moderation", page("/admin/moderation")),
    await time("GET /admin/export/constituencies.csv", page("/admin/export/constituencies.csv")),
  ];
  // The background catch-up with nothing new to count (cursor from a first full pass).
  const tFirst = performance.now();
  await tallyLetters(deps);
  const firstPassMs = performance.now() - tFirst;
  timings.push(await time("tallyLetters() catch-up pass, nothing new", () => tallyLetters(deps)));

  const tCsv = performance.now();
  const csvRes = await app.request("/admin/export/pledges.csv", { headers: { cookie } });
  let bytes = 0;
  let firstByteMs = 0;
  const reader = (csvRes.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (bytes === 0) firstByteMs = performance.now() - tCsv;
    bytes += value.length;
  }
  const csvMs = performance.now() - tCsv;
  log(`CSV export: ${fmt(N_PLEDGES)} rows, ${(bytes / 1e6).toFixed(0)} MB in ${(csvMs / 1000).toFixed(1)} s`);
  sqlite.close();

  // --- 5. report --------------------------------------------------------------------------------
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const rows = [
    ["measure", "figure"],
    [
      `pledges recorded over HTTP (autocannon, ${CONNECTIONS} connections, ${DURATION} s, each writes its confirm mail)`,
      `**${fmt(submit.rps)} pledges/s** (p50 ${submit.p50} ms, p99 ${submit.p99} ms; ${fmt(submit.ok)} rows, non-2xx ${submit.non2xx})`,
    ],
    [`bulk load: ${fmt(N_PLEDGES)} confirmed pledges + tallies`, `${(tPledges / 1000).toFixed(1)} s`],
    [
      `bulk load: ${fmt(N_LETTERS)} letters + outbox rows + letter tallies`,
      `${(tLetters / 1000).toFixed(1)} s`,
    ],
    [
      `tallyLetters() first pass over ${fmt(N_LETTERS)} letters (all already counted)`,
      `${firstPassMs.toFixed(0)} ms`,
    ],
    ...timings.map((t) => [
      t.label,
      `${t.p50 < TARGET_MS ? "**" : ""}${t.p50.toFixed(1)} ms${t.p50 < TARGET_MS ? "**" : ""} median, ${t.max.toFixed(1)} ms max (${RUNS} runs)`,
    ]),
    [
      `CSV export of all ${fmt(N_PLEDGES)} pledges (streamed)`,
      `first bytes after ${firstByteMs.toFixed(0)} ms; ${(bytes / 1e6).toFixed(0)} MB in ${(csvMs / 1000).toFixed(1)} s (${fmt(N_PLEDGES / (csvMs / 1000))} rows/s)`,
    ],
  ];
  const worst = Math.max(...timings.map((t) => t.p50));
  const widths = [0, 1].map((c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c] as number)).join(" | ")} |`;
  const table = [line(rows[0] as string[]), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`]
    .concat(rows.slice(1).map((r) => line(r as string[])))
    .join("\n");
  const bodyText = `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${cpus().length} cores (${cpu}), load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}, Node ${process.version}.

${table}

Target: counts and dashboard pages under ${TARGET_MS} ms at ${fmt(N_PLEDGES)} pledges / ${fmt(N_LETTERS)} letters: ${
    worst < TARGET_MS ? "met" : `NOT met (slowest median ${worst.toFixed(1)} ms)`
  }.`;
  updateReport(resolve(ROOT_DIR, "bench/REPORT.md"), {
    section: "Pledges and dashboard",
    key: "pledges",
    body: bodyText,
  });
  log("bench/REPORT.md updated");
}

main()
  .catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  });
