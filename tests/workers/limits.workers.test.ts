/**
 * D1's limits in the real Workers runtime (local D1 enforces them: 100 bound parameters per
 * statement, 50-byte LIKE patterns, and the Worker counts its own queries per invocation):
 * thousands of rows through erasure, the unconfirmed-letter sweep and retention, the search box
 * with long input, database errors that must not carry what supporters typed into the logs, and
 * rate limits that hold across isolates.
 */
import { afterEach, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { BASE_URL, LIVE_MAIL, mailApi, postJson, startWorker, type TestWorker, until } from "./support";

let w: TestWorker | undefined;
afterEach(async () => {
  await w?.dispose();
  w = undefined;
});

const DAY = 86_400_000;
const SECRET = "workers-test-token-secret-0123456789";

/** The Worker's JSON log lines. */
const logLines = (worker: TestWorker) =>
  worker.logs
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * `n` letters from `email` to the ZZ9 9ZZ test MP, written straight into D1 (one statement each
 * for letters and their outbox rows), in `state` and created at `createdAt`.
 */
async function bulkLetters(
  worker: TestWorker,
  o: { n: number; prefix: string; email: string; createdAt: number; state?: string; expiresAt?: number },
) {
  const state = o.state ?? "awaiting_confirmation";
  // The letter's status as the state machine derives it from its letter row.
  const status = state === "awaiting_confirmation" || state === "sent" ? state : "confirmed";
  await worker.db
    .prepare(
      `with recursive n(i) as (select 1 union all select i + 1 from n where i < ?1)
       insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id,
         recipient_name, status, asks, subject, body, supporter_name, supporter_email,
         supporter_email_key, supporter_address, supporter_postcode, idempotency_key, created_at)
       select ?2 || i, 'manifesto-for-babies', 'Z00000001', 'mp', -1, 'Test MP', ?3, '["prevention"]',
         'A letter', 'My own words, number ' || i, 'Sam Supporter', ?4, lower(?4), '1 Test Street',
         'ZZ9 9ZZ', ?2 || 'k' || i, ?5 from n`,
    )
    .bind(o.n, o.prefix, status, o.email, o.createdAt)
    .run();
  await worker.db
    .prepare(
      `insert into outbox (id, kind, letter_id, state, to_email, reflect_to, always_reflect, from_name,
         subject, body_text, message_id, next_attempt_at, expires_at, created_at, updated_at)
       select 'o-' || id, 'letter', id, ?1, 'testmp@speakup.invalid', supporter_email, 1, supporter_name,
         subject, body, '<o-' || id || '@speakup.invalid>', created_at, ?2, created_at, created_at
       from letters where substr(id, 1, length(?3)) = ?3`,
    )
    .bind(state, o.expiresAt ?? o.createdAt + 7 * DAY, o.prefix)
    .run();
}

const count = async (worker: TestWorker, sql: string, ...binds: unknown[]) =>
  Number(
    (
      (await worker.db
        .prepare(sql)
        .bind(...binds)
        .first()) as { n: number }
    ).n,
  );

describe("D1's limits on Workers", () => {
  it("erases a supporter with 3,000 letters and a long address in one request", async () => {
    w = await startWorker({ bindings: { TOKEN_SECRET: SECRET, LOG_LEVEL: "info" } });
    const worker = w;
    // 137 characters (a 64-character local part, RFC 5321's most): far past the 48 a LIKE pattern can hold in D1.
    const email = `${"a".repeat(54)}.supporter@${"b".repeat(60)}.example.org`;
    await bulkLetters(worker, { n: 3000, prefix: "bulk-", email, createdAt: Date.now() - DAY });
    const form = (path: string, fields: Record<string, string>) =>
      worker.fetch(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE_URL },
        body: new URLSearchParams(fields).toString(),
      });
    await expectStatus(await form("/privacy/request", { email, kind: "erase" }), 202);
    // Capture mode: the link mail is stored in D1, by the queue's consumer.
    const text = await until(
      async () =>
        (
          (await worker.db
            .prepare("select text from captured_mail where to_address = ?")
            .bind(email)
            .first()) as { text: string } | null
        )?.text,
      { what: "the erasure link" },
    );
    const token = /\/privacy\/erase\?token=([A-Za-z0-9_.%-]+)/.exec(text)?.[1] ?? "";
    const erased = await form("/privacy/erase", { token: decodeURIComponent(token) });
    expect(erased.status, await erased.clone().text()).toBe(200);

    expect(await count(worker, "select count(*) n from letters where supporter_email = ?", email)).toBe(0);
    expect(await count(worker, "select count(*) n from letters where body like '%own words%'")).toBe(0);
    expect(await count(worker, "select count(*) n from outbox where state = 'cancelled'")).toBe(3000);
    expect(await count(worker, "select count(*) n from captured_mail where to_address = ?", email)).toBe(0);
    // Every count stays: the rows are scrubbed, not deleted.
    expect(await count(worker, "select count(*) n from letters where id like 'bulk-%'")).toBe(3000);
  });

  it("reminds and expires thousands of unconfirmed letters over several cron runs, each within its query budget", async () => {
    const budget = 120;
    w = await startWorker({
      bindings: { TOKEN_SECRET: SECRET, QUERY_BUDGET: String(budget), LOG_LEVEL: "debug" },
    });
    const worker = w;
    const now = Date.now();
    // 2,000 past their confirmation window (expire), 250 half-way through it (remind).
    await bulkLetters(worker, {
      n: 2000,
      prefix: "old-",
      email: "old@example.org",
      createdAt: now - 8 * DAY,
      expiresAt: now - DAY,
    });
    await bulkLetters(worker, { n: 250, prefix: "mid-", email: "mid@example.org", createdAt: now - 4 * DAY });
    const runs: Record<string, unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      expect(await worker.scheduled("* * * * *")).toMatchObject({ outcome: "ok" });
      const reminded = await count(
        worker,
        "select count(*) n from outbox where kind = 'letter' and reminded_at is not null",
      );
      if (reminded === 250) break;
    }
    for (const l of logLines(worker)) if (l.msg === "cron run") runs.push(l);
    expect(runs.length).toBeGreaterThan(1);
    for (const r of runs) expect(Number(r.queries)).toBeLessThanOrEqual(budget);
    expect(await count(worker, "select count(*) n from letters where status = 'expired'")).toBe(2000);
    expect(
      await count(worker, "select count(*) n from outbox where kind = 'letter' and reminded_at is not null"),
    ).toBe(250);
    // One reminder each, however many runs it took.
    await until(
      async () =>
        (await count(worker, "select count(*) n from outbox where kind = 'reminder' and state = 'sent'")) ===
        250,
      {
        what: "the reminders to be sent",
        timeoutMs: 60_000,
      },
    );
    expect(await count(worker, "select count(*) n from outbox where kind = 'reminder'")).toBe(250);
  });

  it("scrubs 3,000 letters past retention within the hourly run's query budget", async () => {
    const budget = 60;
    w = await startWorker({
      bindings: { TOKEN_SECRET: SECRET, QUERY_BUDGET: String(budget), LOG_LEVEL: "debug" },
    });
    const worker = w;
    await bulkLetters(worker, {
      n: 3000,
      prefix: "ret-",
      email: "ret@example.org",
      createdAt: Date.now() - 200 * DAY,
      state: "sent",
    });
    const left = () => count(worker, "select count(*) n from letters where body <> '[removed]'");
    for (let i = 0; i < 5 && (await left()) > 0; i++) await worker.scheduled("17 * * * *");
    expect(await left()).toBe(0);
    const runs = logLines(worker).filter((l) => l.msg === "cron run");
    expect(runs.length).toBeGreaterThan(1);
    for (const r of runs) expect(Number(r.queries)).toBeLessThanOrEqual(budget);
  });

  it("caps the constituency search box and answers long input with a clear error, never a 500", async () => {
    w = await startWorker();
    const worker = w;
    const search = (q: string) => worker.fetch(`/api/lookup?q=${encodeURIComponent(q)}`);
    const long = "Birmingham Hodge Hill and Solihull North, West Midlands";
    expect(long.length).toBeGreaterThan(48);
    expect(await expectStatus(await search(long), 200)).toEqual({ query: long, results: [] });
    expect(await expectStatus(await search("x".repeat(61)), 400)).toMatchObject({
      code: "validation_failed",
    });
    const found = (await expectStatus(await search("Hodge Hill and Solihull"), 200)) as {
      results: { constituency: { name: string } }[];
    };
    expect(found.results.map((r) => r.constituency.name)).toEqual([
      "Birmingham Hodge Hill and Solihull North",
    ]);
    // Accents don't matter, and D1's 50-byte pattern limit can't be reached from the page either.
    const glyndwr = (await expectStatus(await search("glyndwr"), 200)) as {
      results: { constituency: { name: string } }[];
    };
    expect(glyndwr.results.map((r) => r.constituency.name)).toEqual(["Montgomeryshire and Glyndŵr"]);
    const page = await worker.fetch(`/find?q=${"ŵ".repeat(90)}`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("at most 60 characters");
  });

  it("keeps what supporters typed out of the logs and outbox.last_error when the database fails", async () => {
    w = await startWorker({ bindings: { TOKEN_SECRET: SECRET, LOG_LEVEL: "debug" } });
    const worker = w;
    const email = "private.person@example.org";
    const story = "PRIVATE-STORY-5b1e: our baby was born early";
    // Capture mode stores each email in D1; make that write fail (the statement binds the
    // address and the text), as a full or broken database would.
    await worker.db
      .prepare(
        "create trigger no_capture before insert on captured_mail begin select raise(abort, 'simulated fault'); end",
      )
      .run();
    const letter = {
      recipient: { kind: "mp" },
      asks: ["prevention"],
      story,
      supporter: {
        name: "Pat Private",
        email,
        address: { line1: "9 Secret Lane", town: "Hidden", postcode: "ZZ9 9ZZ" },
      },
    };
    await expectStatus(await postJson(worker, "/api/letters", letter), 201);
    await until(
      async () => (await worker.outbox()).some((r) => r.kind === "confirm" && r.state === "failed"),
      {
        what: "the failed send",
      },
    );
    // A request that fails inside the database: its statement binds the story and the address.
    await worker.db
      .prepare(
        "create trigger no_letters before insert on letters begin select raise(abort, 'simulated fault'); end",
      )
      .run();
    const res = await postJson(worker, "/api/letters", { ...letter, story: `${story} (again)` });
    expect(res.status).toBe(500);
    const body = await res.text();
    const errors = (await worker.outbox()).map((r) => r.lastError ?? "").join("\n");
    expect(errors).toMatch(/SQLITE_CONSTRAINT/);
    const logs = worker.logs.join("");
    expect(logs).toMatch(/SQLITE_CONSTRAINT/);
    for (const secret of [email, "PRIVATE-STORY-5b1e", "9 Secret Lane", "Pat Private"])
      for (const [where, text] of [
        ["logs", logs],
        ["outbox.last_error", errors],
        ["response", body],
      ])
        expect(text, `${secret} in ${where}`).not.toContain(secret);
  });
});

describe("rate limits on Workers", () => {
  it("counts per-address limits with Cloudflare's Rate Limiting binding, by CF-Connecting-IP", async () => {
    w = await startWorker({
      bindings: { TOKEN_SECRET: SECRET },
      ratelimits: { RATE_LIMIT_LOOKUP: { simple: { limit: 2, period: 60 } } },
    });
    const worker = w;
    const lookup = (ip: string) =>
      worker.fetch("/api/lookup?postcode=ZZ99ZZ", { headers: { "cf-connecting-ip": ip } });
    await expectStatus(await lookup("203.0.113.1"), 200);
    await expectStatus(await lookup("203.0.113.1"), 200);
    const refused = await lookup("203.0.113.1");
    expect(await expectStatus(refused, 429)).toMatchObject({ code: "rate_limited" });
    expect(refused.headers.get("retry-after")).toBe("60");
    await expectStatus(await lookup("2001:db8:5:6::1"), 200);
  });

  it("holds letters per email per day and per MP per day exactly across isolates (D1 counters)", async () => {
    const api = mailApi();
    w = await startWorker({
      bindings: {
        ...LIVE_MAIL,
        LETTER_LIMIT_PER_EMAIL_DAY: "3",
        LETTER_RECIPIENT_DAILY_CAP: "5",
        LETTER_SAME_RECIPIENT_DAYS: "0",
      },
      outbound: api.outbound,
      replicas: 2,
    });
    const worker = w;
    const letter = (email: string, n: number) => ({
      recipient: { kind: "mp" },
      asks: ["prevention"],
      story: `Letter number ${n} in my own words.`,
      supporter: {
        name: "Sam",
        email,
        address: { line1: "1 Test Street", town: "Testtown", postcode: "ZZ9 9ZZ" },
      },
    });
    const submit = (i: number, email: string, n: number) =>
      worker.fetchOn(i % 2, "/api/letters", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(letter(email, n)),
      });
    // Alternating between two isolates: each alone would allow three.
    for (let n = 0; n < 3; n++) await expectStatus(await submit(n, "same@example.org", n), 201);
    expect(await expectStatus(await submit(3, "same@example.org", 3), 429)).toMatchObject({
      code: "rate_limited",
    });
    expect(await expectStatus(await submit(4, "same@example.org", 4), 429)).toMatchObject({
      code: "rate_limited",
    });
    // The MP's daily cap (5): three letters so far, two more from others, then no more today.
    await expectStatus(await submit(5, "other1@example.org", 5), 201);
    await expectStatus(await submit(6, "other2@example.org", 6), 201);
    const capped = await submit(7, "other3@example.org", 7);
    expect(await expectStatus(capped, 429)).toMatchObject({ code: "recipient_daily_cap" });
    expect(Number(capped.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("counts a per-address limit in D1, across isolates, when its binding is not configured", async () => {
    w = await startWorker({
      bindings: { TOKEN_SECRET: SECRET, LOOKUP_LIMIT_PER_IP_HOUR: "2" },
      ratelimits: {},
      replicas: 2,
    });
    const worker = w;
    const lookup = (i: number) =>
      worker.fetchOn(i, "/api/lookup?postcode=ZZ99ZZ", { headers: { "cf-connecting-ip": "198.51.100.7" } });
    await expectStatus(await lookup(0), 200);
    await expectStatus(await lookup(1), 200);
    expect(await expectStatus(await lookup(0), 429)).toMatchObject({ code: "rate_limited" });
    expect(await expectStatus(await lookup(1), 429)).toMatchObject({ code: "rate_limited" });
  });
});
