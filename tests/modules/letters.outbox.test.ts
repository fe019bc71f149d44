/**
 * The outbox: its state machine, and every point where a send can fail, driven through the real
 * verbs over a real (in-memory) database. Every message goes through the counting mailer, which
 * fails the test on any second copy of a Message-ID.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { and, eq, lte } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { deliveryLog, letters, OUTBOX_STATES, type OutboxState, outbox } from "../../src/db/schema.letters";
import type { MailMessage, Statement } from "../../src/deps";
import {
  BACKOFF_CAP_MS,
  backoffMs,
  canTransition,
  claimDue,
  EVENTS,
  fromStates,
  ID_CHUNK,
  LETTER_STATUS_OF,
  MAILBOX_FULL_RETRY_MS,
  TRANSITIONS,
  transitionStatements,
} from "../../src/modules/delivery/delivery.machine";
import {
  drainOnce,
  drainOutbox,
  requeueOutbox,
  sendClaimed,
} from "../../src/modules/delivery/delivery.service";
import { redirectLettersToNewAddress } from "../../src/modules/letters/letters.reroute";
import { TEST_SEAT } from "../../src/modules/lookup/lookup.import";
import { expectStatus } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";
import { countingMailer, type FailWith, mailError } from "../support/mail";

const LIVE = {
  MAIL_MODE: "live",
  SMTP_URL: "smtp://127.0.0.1:1",
  TOKEN_SECRET: "a-real-secret-for-outbox-tests",
  MAIL_FROM: "campaign@example.org",
};
const MP_EMAIL = "mp.office@example.net";

/** Whether this atomic write records a `sent` outcome (the accept transition's UPDATE). */
const recordsSent = (statements: Statement[]) =>
  statements.some((s) => {
    const q = (s as unknown as { toSQL(): { sql: string; params: unknown[] } }).toSQL();
    return q.sql.startsWith('update "outbox" set "state"') && q.params[0] === "sent";
  });

/**
 * Confirmed letters waiting in the outbox, with the counting mailer as the transport. In live
 * mode the test seat's MP gets a real-looking address (mail to it is not reflected), so what the
 * MP's server says is what the letter's fate is.
 */
async function queuedLetters(
  n: number,
  opts: {
    env?: Record<string, string>;
    fail?: FailWith;
    live?: boolean;
    afterAccept?: (m: MailMessage) => void;
  } = {},
) {
  const t = await lettersApp({
    ...(opts.live
      ? LIVE
      : { MAIL_MODE: "reflect", SMTP_URL: "smtp://127.0.0.1:1", MAIL_FROM: "campaign@example.org" }),
    ...opts.env,
  });
  if (opts.live)
    t.sqlite
      .prepare("update members set email = ?, reflects_to_sender = 0 where constituency_code = ?")
      .run(MP_EMAIL, TEST_SEAT.onsCode);
  const mailer = countingMailer(opts.fail, { afterAccept: opts.afterAccept });
  t.deps.mailer = mailer;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const base = letterInput({ story: `Supporter number ${i} writes in their own words, briefly.` });
    const { id } = await t.submit({ ...base, supporter: { ...base.supporter, email: `s${i}@example.org` } });
    await t.confirm(await t.confirmToken(id));
    ids.push(id);
  }
  // Only the letters are due: the confirmation emails have done their job.
  await t.deps.db
    .update(outbox)
    .set({ nextAttemptAt: t.clock.now() + 10 * 365 * 86_400_000 })
    .where(eq(outbox.kind, "confirm"));
  const rows = async () => t.deps.db.select().from(outbox).where(eq(outbox.kind, "letter"));
  const row = async (i = 0) =>
    (
      await t.deps.db
        .select()
        .from(outbox)
        .where(eq(outbox.letterId, ids[i] as string))
    ).find((r) => r.kind === "letter")!;
  const letter = async (i = 0) =>
    (
      await t.deps.db
        .select()
        .from(letters)
        .where(eq(letters.id, ids[i] as string))
    )[0]!;
  const lettersSent = () => mailer.sent.filter((m) => m.subject.includes("babies"));
  const log = async (outboxId: string) =>
    (await t.deps.db.select().from(deliveryLog).where(eq(deliveryLog.outboxId, outboxId))).map((l) => [
      l.attempt,
      l.outcome,
    ]);
  return { ...t, mailer, ids, rows, row, letter, lettersSent, log };
}

describe("the outbox state machine", () => {
  it("lists every state; only sent may still change (bounce) among the ends; claims come from queued and failed", () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...OUTBOX_STATES].sort());
    for (const s of ["cancelled", "expired"] as OutboxState[]) expect(TRANSITIONS[s]).toEqual([]);
    expect(TRANSITIONS.sent).toEqual(["bounced"]);
    expect(canTransition("awaiting_confirmation", "sending")).toBe(false);
    expect(canTransition("sent", "queued")).toBe(false);
    expect(fromStates("sending").sort()).toEqual(["failed", "queued"]);
    expect(Object.keys(LETTER_STATUS_OF).sort()).toEqual([...OUTBOX_STATES].sort());
    // Every event names real states.
    for (const e of Object.values(EVENTS))
      for (const s of e.from) expect(OUTBOX_STATES as readonly string[]).toContain(s);
  });

  it("is the only code that writes outbox states or letter statuses (a source scan)", () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) files.push(p);
      }
    };
    walk(join(ROOT_DIR, "src"));
    const owner = join("src", "modules", "delivery", "delivery.machine.ts");
    const offenders = files
      .map((f) => ({ f: relative(ROOT_DIR, f), text: readFileSync(f, "utf8") }))
      .filter(({ f }) => f !== owner)
      .filter(
        ({ text }) =>
          /\.update\(outbox\)\s*\.set\(\{[^}]*\bstate\s*:/s.test(text) ||
          /\.update\(letters\)\s*\.set\(\{[^}]*\bstatus\s*:/s.test(text) ||
          /\.insert\(outbox\)/.test(text),
      )
      .map(({ f }) => f);
    expect(offenders).toEqual([]);
  });

  it("keeps every statement of a chunked transition within D1's 100 bound variables", async () => {
    const t = await queuedLetters(0);
    const ids = Array.from({ length: ID_CHUNK }, () => crypto.randomUUID());
    const now = t.clock.now();
    const cases = [
      transitionStatements(
        t.deps,
        "lapse",
        { ids },
        { guard: and(eq(outbox.state, "sending"), lte(outbox.leaseUntil, now)) },
      ),
      transitionStatements(t.deps, "lapse_final", { ids }, { guard: lte(outbox.leaseUntil, now) }),
      transitionStatements(
        t.deps,
        "cancel",
        { letterIds: ids },
        { set: { cancelReason: "erased at the supporter's request" } },
      ),
      transitionStatements(t.deps, "requeue", { ids }),
    ];
    for (const c of cases)
      for (const st of c.statements)
        expect(
          (st as unknown as { toSQL(): { params: unknown[] } }).toSQL().params.length,
        ).toBeLessThanOrEqual(100);
  });

  it("the database refuses a state outside the set", async () => {
    const t = await queuedLetters(1);
    expect(() => t.sqlite.prepare("update outbox set state = 'lost' where kind = 'letter'").run()).toThrow(
      /CHECK constraint failed: outbox_state_ck/,
    );
  });

  it("backs off exponentially with full jitter, capped", () => {
    expect(backoffMs(1, () => 0.999)).toBeLessThanOrEqual(30_000);
    expect(backoffMs(3, () => 0.999)).toBeGreaterThan(60_000);
    expect(backoffMs(30, () => 0.999)).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    expect(backoffMs(5, () => 0)).toBe(1000);
  });
});

describe("claiming, leases and crashes", () => {
  it("claims a row once: a second claim finds nothing while the lease holds", async () => {
    const t = await queuedLetters(1);
    const first = await claimDue(t.deps, 10);
    expect(first.map((r) => r.kind)).toEqual(["letter"]);
    expect(first[0]).toMatchObject({ state: "sending", attempts: 1 });
    expect(first[0]?.claimToken).toBeTruthy();
    expect(await claimDue(t.deps, 10)).toEqual([]);
  });

  it("process killed after claiming: the row is reclaimed after its lease, exactly one more attempt", async () => {
    const t = await queuedLetters(1, { env: { OUTBOX_LEASE_SECONDS: "60" } });
    await claimDue(t.deps, 10); // ...and the worker dies before sending
    expect((await drainOutbox(t.deps)).sent).toBe(0); // lease still held
    t.clock.advance(61_000);
    const report = await drainOutbox(t.deps);
    expect(report.reclaimed).toBe(1);
    expect(t.lettersSent()).toHaveLength(1);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    expect(await t.log((await t.row()).id)).toEqual([
      [1, "reclaimed"],
      [2, "sent"],
    ]);
  });

  it("a worker whose claim was taken over sends nothing and records nothing", async () => {
    const t = await queuedLetters(1, { env: { OUTBOX_LEASE_SECONDS: "60" } });
    const [stale] = await claimDue(t.deps, 10);
    t.clock.advance(61_000);
    await drainOutbox(t.deps); // reclaimed and sent as attempt 2
    expect(await sendClaimed(t.deps, t.mailer, stale!)).toBe("skipped"); // the old worker wakes up
    expect(t.lettersSent()).toHaveLength(1);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    const kinds = (
      await t.deps.db.select({ kind: outbox.kind }).from(outbox).where(eq(outbox.letterId, t.ids[0]!))
    ).map((r) => r.kind);
    expect(kinds.filter((k) => k === "sent_notice")).toHaveLength(1);
    expect(kinds.filter((k) => k === "followup")).toHaveLength(1);
  });

  it("a lease that lapses mid-batch: later rows are not sent by the slow worker, and are sent once by whoever reclaims them", async () => {
    // Each send takes 60% of the lease: the third row of the batch is past its lease by its turn.
    let t!: Awaited<ReturnType<typeof queuedLetters>>;
    t = await queuedLetters(3, {
      env: { OUTBOX_LEASE_SECONDS: "10" },
      afterAccept: (m) => {
        if (m.subject.includes("babies")) t.clock.advance(6_000);
      },
    });
    const first = await drainOnce(t.deps, { concurrency: 1 });
    expect(first).toMatchObject({ claimed: 3, sent: 2, skipped: 1 });
    const rest = await drainOutbox(t.deps, { concurrency: 1 });
    expect(rest.reclaimed).toBeGreaterThanOrEqual(1);
    expect(t.lettersSent()).toHaveLength(3);
    expect(new Set(t.lettersSent().map((m) => m.messageId)).size).toBe(3);
    expect((await t.rows()).every((r) => r.state === "sent")).toBe(true);
  });
});

describe("several workers on one database", () => {
  it("parallel drains (two servers, a CLI drain) send each message once", async () => {
    const t = await queuedLetters(12);
    await Promise.all([
      drainOutbox(t.deps, { batch: 3 }),
      drainOutbox(t.deps, { batch: 5 }),
      drainOutbox(t.deps),
    ]);
    expect(t.lettersSent()).toHaveLength(12);
    expect(new Set(t.mailer.sent.map((m) => m.messageId)).size).toBe(t.mailer.sent.length);
    expect((await t.rows()).every((r) => r.state === "sent")).toBe(true);
  });
});

describe("accepted means sent", () => {
  it("a database write that fails after the relay accepted the message: recorded once it can be, never sent again", async () => {
    const t = await queuedLetters(1, { env: { OUTBOX_LEASE_SECONDS: "30" } });
    const atomic = t.deps.atomic;
    let failAccept = 20; // longer than the in-process retries: held until the next pass
    t.deps.atomic = async (statements: Statement[]) => {
      if (failAccept > 0 && recordsSent(statements)) {
        failAccept--;
        throw new Error("SQLITE_BUSY: database is locked");
      }
      return atomic(statements);
    };
    const first = await drainOnce(t.deps);
    expect(first).toMatchObject({ claimed: 1, sent: 0, pending: 1 });
    expect(t.lettersSent()).toHaveLength(1);
    expect(t.logger.lines.some((l) => l.level === "error" && l.msg.includes("not yet recorded"))).toBe(true);
    // The lease runs out while the database is unwell; the acceptance is still held.
    t.clock.advance(31_000);
    failAccept = 0;
    const next = await drainOutbox(t.deps);
    expect(next.reclaimed).toBe(0);
    expect(next.sent).toBeGreaterThanOrEqual(1);
    expect(t.lettersSent()).toHaveLength(1);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 1 });
    expect((await t.letter()).status).toBe("sent");
    expect(await t.log((await t.row()).id)).toEqual([[1, "sent"]]);
  });

  it("a database hiccup right after acceptance is retried at once: sent, once", async () => {
    const t = await queuedLetters(1);
    const atomic = t.deps.atomic;
    let once = true;
    t.deps.atomic = async (statements: Statement[]) => {
      if (once && recordsSent(statements)) {
        once = false;
        throw new Error("SQLITE_BUSY");
      }
      return atomic(statements);
    };
    expect(await drainOutbox(t.deps)).toMatchObject({ sent: 2, pending: 0 }); // the letter and its notice
    expect(t.lettersSent()).toHaveLength(1);
  });

  it("failing to queue the sent notice never causes a resend: the notice follows on the next pass", async () => {
    const t = await queuedLetters(1);
    const atomic = t.deps.atomic;
    let failNotices = 1;
    t.deps.atomic = async (statements: Statement[]) => {
      const sql = statements.map((s) => (s as unknown as { toSQL(): { sql: string } }).toSQL().sql).join(";");
      if (failNotices > 0 && sql.startsWith('insert into "outbox"')) {
        failNotices--;
        throw new Error("disk I/O error");
      }
      return atomic(statements);
    };
    await drainOnce(t.deps);
    expect(await t.row()).toMatchObject({ state: "sent" });
    const notices = async () =>
      (await t.deps.db.select().from(outbox).where(eq(outbox.letterId, t.ids[0]!))).filter(
        (r) => r.kind === "sent_notice",
      );
    expect(await notices()).toHaveLength(0);
    await drainOutbox(t.deps);
    expect(await notices()).toHaveLength(1);
    expect(t.lettersSent()).toHaveLength(1);
    expect(t.mailer.sent.filter((m) => m.subject.includes("has been sent"))).toHaveLength(1);
  });

  it("an acceptance whose claim was taken over is reported as lost, not as sent", async () => {
    let t!: Awaited<ReturnType<typeof queuedLetters>>;
    t = await queuedLetters(1, {
      afterAccept: (m) => {
        // Another worker takes the row over while this send is in flight (a send outliving its lease).
        if (m.subject.includes("babies"))
          t.sqlite
            .prepare(
              "update outbox set claim_token = 'someone-else', attempts = attempts + 1 where kind = 'letter'",
            )
            .run();
      },
    });
    const report = await drainOnce(t.deps);
    expect(report).toMatchObject({ sent: 0, lost: 1 });
    expect((await t.row()).state).toBe("sending");
    expect(await t.log((await t.row()).id)).toEqual([[1, "lost"]]);
    expect(
      t.logger.lines.some((l) => l.level === "error" && l.msg.includes("claim had been taken over")),
    ).toBe(true);
  });
});

describe("per-message failures", () => {
  it("451: retried later with the same Message-ID, then sent", async () => {
    const t = await queuedLetters(1, {
      fail: (_m, n) =>
        n === 0 ? mailError("451 4.3.0 try later", { smtpCode: 451, command: "DATA" }) : null,
    });
    expect((await drainOutbox(t.deps)).retrying).toBe(1);
    const failed = await t.row();
    expect(failed.state).toBe("failed");
    expect(failed.nextAttemptAt).toBeGreaterThan(t.clock.now());
    expect((await t.letter()).status).toBe("confirmed");
    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    expect(t.mailer.copiesOf(failed.messageId)).toBe(1);
  });

  it("552 (mailbox full): retried, but not sooner than two hours later", async () => {
    const t = await queuedLetters(1, {
      fail: (_m, n) =>
        n === 0 ? mailError("552 5.2.2 mailbox full", { smtpCode: 552, command: "RCPT TO" }) : null,
    });
    await drainOutbox(t.deps);
    const row = await t.row();
    expect(row.state).toBe("failed");
    expect(row.nextAttemptAt).toBeGreaterThanOrEqual(t.clock.now() + MAILBOX_FULL_RETRY_MS);
    t.clock.advance(MAILBOX_FULL_RETRY_MS - 60_000);
    expect((await drainOutbox(t.deps)).claimed).toBe(0);
    t.clock.advance(BACKOFF_CAP_MS);
    await drainOutbox(t.deps);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
  });

  it("DATA 5xx gives the message up (dead, letter undeliverable); a requeue sends it with a fresh allowance", async () => {
    let refuse = true;
    const t = await queuedLetters(1, {
      fail: (m) =>
        refuse && m.subject.includes("babies")
          ? mailError("554 5.6.0 content rejected", { smtpCode: 554, command: "DATA" })
          : null,
    });
    await drainOutbox(t.deps);
    expect(await t.row()).toMatchObject({ state: "dead", attempts: 1 });
    expect((await t.letter()).status).toBe("undeliverable");
    refuse = false;
    expect(await requeueOutbox(t.deps, { id: (await t.row()).id })).toBe(true);
    expect((await t.letter()).status).toBe("confirmed");
    await drainOutbox(t.deps);
    expect(await t.row()).toMatchObject({ state: "sent", attempts: 2 });
    expect((await t.letter()).status).toBe("sent");
    expect(await t.log((await t.row()).id)).toEqual([
      [1, "permanent_failure"],
      [2, "sent"],
    ]);
  });

  it("gives up after OUTBOX_MAX_ATTEMPTS temporary failures: dead, letter undeliverable", async () => {
    const t = await queuedLetters(1, {
      env: { OUTBOX_MAX_ATTEMPTS: "3" },
      fail: () => mailError("451 4.7.1 greylisted", { smtpCode: 451, command: "RCPT TO" }),
    });
    for (let i = 0; i < 3; i++) {
      await drainOutbox(t.deps);
      t.clock.advance(BACKOFF_CAP_MS);
    }
    expect(await t.row()).toMatchObject({ state: "dead", attempts: 3 });
    const status = await t.request(`/api/letters/${t.ids[0]}`);
    expect(await status.json()).toMatchObject({ status: "undeliverable" });
  });
});

describe("relay-wide failures pause the outbox and consume nothing", () => {
  for (const [what, err] of [
    [
      "535 at AUTH",
      mailError("535 5.7.8 Authentication credentials invalid", {
        smtpCode: 535,
        command: "AUTH PLAIN",
        errorCode: "EAUTH",
      }),
    ],
    [
      "550 at MAIL FROM",
      mailError("550 5.7.1 sender rejected", { smtpCode: 550, command: "MAIL FROM", errorCode: "EENVELOPE" }),
    ],
    [
      "a refused connection",
      mailError("connect ECONNREFUSED 127.0.0.1:1", { command: "CONN", errorCode: "ECONNECTION" }),
    ],
    ["TLS", mailError("self-signed certificate", { command: "CONN", errorCode: "ETLS" })],
    ["HTTP 401 from the mail API", mailError("mail API answered HTTP 401", { httpStatus: 401 })],
  ] as const) {
    it(`${what}: every letter waits untouched, an alert is raised, and sending resumes once the relay works`, async () => {
      let down = true;
      const t = await queuedLetters(3, { fail: () => (down ? err : null) });
      const report = await drainOnce(t.deps);
      expect(report).toMatchObject({ paused: true, sent: 0, dead: 0, retrying: 0 });
      for (const r of await t.rows()) expect(r).toMatchObject({ state: "queued", attempts: 0 });
      expect(t.logger.lines.some((l) => l.level === "error" && l.msg.startsWith("outbox paused"))).toBe(true);
      expect(await t.deps.db.select().from(deliveryLog)).toEqual([]);
      // While paused, nothing is tried.
      const tries = t.mailer.sent.length;
      expect(await drainOnce(t.deps)).toMatchObject({ claimed: 0, paused: true });
      // Fixed; after the back-off one message probes the relay, then the rest go.
      down = false;
      t.clock.advance(31_000);
      const after = await drainOutbox(t.deps);
      expect(after.paused).toBe(false);
      expect(t.lettersSent()).toHaveLength(3);
      expect(t.mailer.sent.length).toBeGreaterThan(tries);
      for (const r of await t.rows()) expect(r).toMatchObject({ state: "sent", attempts: 1 });
      expect(t.sqlite.prepare("select state, failures from relay_status").get()).toEqual({
        state: "ok",
        failures: 0,
      });
    });
  }

  it("a transport that can check itself is probed with verify, and the pause grows while it fails", async () => {
    let down = true;
    const t = await queuedLetters(1, {
      fail: () =>
        down
          ? mailError("535 5.7.8 bad credentials", {
              smtpCode: 535,
              command: "AUTH PLAIN",
              errorCode: "EAUTH",
            })
          : null,
    });
    let verifies = 0;
    t.mailer.verify = async () => {
      verifies++;
      if (down)
        throw mailError("535 5.7.8 bad credentials", {
          smtpCode: 535,
          command: "AUTH PLAIN",
          errorCode: "EAUTH",
        });
    };
    await drainOnce(t.deps);
    t.clock.advance(31_000);
    await drainOnce(t.deps);
    expect(verifies).toBe(1);
    const paused = t.sqlite
      .prepare("select state, reason, failures, next_probe_at n from relay_status")
      .get() as {
      failures: number;
      n: number;
    };
    expect(paused).toMatchObject({ state: "paused", reason: "auth", failures: 2 });
    // 60 s after the second failure, jittered down by up to a fifth.
    expect(paused.n - t.clock.now()).toBeGreaterThanOrEqual(48_000);
    expect(paused.n - t.clock.now()).toBeLessThanOrEqual(60_000);
    down = false;
    t.clock.advance(60_000);
    await drainOutbox(t.deps);
    expect(verifies).toBe(2);
    expect(t.lettersSent()).toHaveLength(1);
  });

  it("the dashboard shows the pause and can ask for a check now", async () => {
    const { adminApp } = await import("../support/admin");
    const t = await adminApp({
      MAIL_MODE: "reflect",
      SMTP_URL: "smtp://127.0.0.1:1",
      MAIL_FROM: "campaign@example.org",
    });
    const { pauseRelay } = await import("../../src/modules/delivery/delivery.relay");
    await pauseRelay(t.deps, { reason: "auth", detail: "535 5.7.8 Authentication credentials invalid" });
    const dash = (await expectStatus(await t.get("/admin"), 200)) as string;
    expect(dash).toContain("Sending is paused");
    expect(dash).toContain("check the user and password in SMTP_URL");
    expect((await t.post("/admin/outbox/relay/probe")).status).toBe(303);
    expect((t.sqlite.prepare("select next_probe_at n from relay_status").get() as { n: number }).n).toBe(
      t.clock.now(),
    );
  });
});

describe("hard bounces at RCPT", () => {
  it("550 5.1.1 from the MP's server: bounced, the supporter gets a copy and what to do, the address is flagged and stops further letters", async () => {
    const t = await queuedLetters(2, {
      live: true,
      fail: (m) =>
        m.to.address === MP_EMAIL
          ? mailError("550 5.1.1 <mp.office@example.net>: user unknown", {
              smtpCode: 550,
              command: "RCPT TO",
              errorCode: "EENVELOPE",
            })
          : null,
    });
    const report = await drainOnce(t.deps, { concurrency: 1, batch: 1 });
    expect(report.bounced).toBe(1);
    expect(await t.row(0)).toMatchObject({ state: "bounced", attempts: 1 });
    expect((await t.letter(0)).status).toBe("undeliverable");
    const flag = t.sqlite.prepare("select address, detail, source from recipient_flags").get() as Record<
      string,
      string
    >;
    expect(flag).toMatchObject({ address: MP_EMAIL, source: "smtp" });
    expect(flag.detail).not.toContain("@");
    // The second letter to the same address waits; nothing more is sent to it.
    await drainOutbox(t.deps);
    expect(await t.row(1)).toMatchObject({ state: "queued", attempts: 0 });
    expect(t.mailer.sent.filter((m) => m.to.address === MP_EMAIL)).toHaveLength(0);
    const notice = t.mailer.sent.find((m) => m.subject.includes("could not be delivered"));
    expect(notice?.to.address).toBe("s0@example.org");
    expect(notice?.text).toContain("does not exist");
    expect(notice?.text).toContain("Supporter number 0 writes in their own words");
    expect(notice?.text).toContain("members.parliament.uk");
    // A new letter to that address is refused up front.
    const res = await t.post(
      "/api/letters",
      letterInput({ supporter: { ...letterInput().supporter, email: "new@example.org" } }),
    );
    expect(await expectStatus(res, 422)).toMatchObject({ code: "recipient_address_bouncing" });
    // The address changes (a Members API sync): unsent letters follow it and go.
    await t.deps.atomic([
      redirectLettersToNewAddress(t.deps, {
        parliamentId: TEST_SEAT.parliamentId,
        from: MP_EMAIL,
        to: "mp.new@example.net",
        now: t.clock.now(),
      }),
    ]);
    await drainOutbox(t.deps);
    expect(await t.row(1)).toMatchObject({ state: "sent", toEmail: "mp.new@example.net" });
  });

  it("a letter reflected back to the supporter bounces without flagging anyone or mailing the dead address", async () => {
    const t = await queuedLetters(1, {
      fail: (m) =>
        m.subject.includes("babies")
          ? mailError("550 5.1.1 no such user", { smtpCode: 550, command: "RCPT TO" })
          : null,
    });
    await drainOutbox(t.deps);
    expect(await t.row()).toMatchObject({ state: "bounced" });
    expect(t.sqlite.prepare("select count(*) n from recipient_flags").get()).toEqual({ n: 0 });
    expect((await t.deps.db.select().from(outbox)).filter((r) => r.kind === "bounce_notice")).toEqual([]);
  });
});
