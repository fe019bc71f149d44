/**
 * Property: whatever happens, in whatever order (submit, confirm, send, temporary and permanent
 * failures, a relay that fails as a whole, lease expiry, crashes before and after the relay
 * accepted, cancel, moderation, bounces, requeues, erasure, the MP leaving the seat or changing
 * address (members sync), time passing), against the real database:
 * - every letter's status is what its outbox row's state says (LETTER_STATUS_OF);
 * - every change of an outbox row's state was one the state machine's table allows, and every
 *   new row started in an initial state (SQLite triggers record each change as it is written);
 * - no message reached a recipient twice, except one more copy (same Message-ID) for each time
 *   the relay accepted it just before a crash or a dropped connection (the documented window).
 */

import { eq } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { memberSyncs, privacyRequests } from "../../src/db/schema";
import type { OutboxState } from "../../src/db/schema.letters";
import { letters, outbox } from "../../src/db/schema.letters";
import { signToken } from "../../src/lib/tokens";
import { cancelOutbox, clearFlag, moderateLetter } from "../../src/modules/admin/admin.service";
import { recordBounce } from "../../src/modules/delivery/delivery.bounces";
import {
  canTransition,
  claimDue,
  INITIAL_STATES,
  LETTER_STATUS_OF,
} from "../../src/modules/delivery/delivery.machine";
import { drainOnce, messageFor, requeueOutbox } from "../../src/modules/delivery/delivery.service";
import { bounceToken } from "../../src/modules/delivery/delivery.verp";
import {
  notifyStoppedLetters,
  redirectLettersToNewAddress,
  stopLettersToFormerMembers,
} from "../../src/modules/letters/letters.reroute";
import { TEST_SEAT } from "../../src/modules/lookup/lookup.import";
import { erasePersonalData } from "../../src/modules/privacy/privacy.service";
import { letterInput, lettersApp } from "../support/letters";
import { countingMailer, mailError } from "../support/mail";

const MP_EMAIL = "mp.office@example.net";
const EMAILS = ["ann@example.org", "bob@example.org", "cat@example.org"];
const STORIES = [
  "As a grandmother of three I have watched our local children's centre close and the waiting list for health visitors grow every single month since then.",
  "Our son was born at twenty nine weeks and the neonatal team saved him; the follow-up support afterwards was almost nothing at all.",
  "I am a health visitor and my caseload has doubled in five years, so families who need us most are seen least often.",
];
type Outcome = "ok" | "451" | "554" | "550" | "535" | "drop";

const event = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ type: fc.constant("submit" as const), who: fc.nat(2), story: fc.nat(2) }),
  },
  { weight: 6, arbitrary: fc.record({ type: fc.constant("confirm" as const), pick: fc.nat() }) },
  {
    weight: 9,
    arbitrary: fc.record({
      type: fc.constant("drain" as const),
      outcome: fc.constantFrom<Outcome>(
        "ok",
        "ok",
        "ok",
        "ok",
        "ok",
        "ok",
        "451",
        "554",
        "550",
        "535",
        "drop",
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ type: fc.constant("crash" as const), afterAccept: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      type: fc.constant("time" as const),
      ms: fc.constantFrom(31_000, 130_000, 3 * 3_600_000, 4 * 86_400_000),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("cancel" as const), pick: fc.nat() }) },
  // A members sync: the MP leaves the seat (pending letters stop, supporters told) or their
  // address changes (unsent letters follow it).
  { weight: 1, arbitrary: fc.record({ type: fc.constant("mpLeaves" as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("mpMoves" as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant("moderate" as const), pick: fc.nat(), release: fc.boolean() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant("bounce" as const), pick: fc.nat(), hard: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("requeue" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("clearFlag" as const) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant("erase" as const), who: fc.nat(2) }) },
);

async function world() {
  const t = await lettersApp({
    MAIL_MODE: "live",
    SMTP_URL: "smtp://127.0.0.1:1",
    TOKEN_SECRET: "a-real-secret-for-the-property-test",
    MAIL_FROM: "campaign@example.org",
    OUTBOX_LEASE_SECONDS: "120",
    OUTBOX_MAX_ATTEMPTS: "3",
    LOG_LEVEL: "silent",
  });
  t.sqlite
    .prepare("update members set email = ?, reflects_to_sender = 0 where constituency_code = ?")
    .run(MP_EMAIL, TEST_SEAT.onsCode);
  // Every state change, as the database sees it.
  t.sqlite.exec(`
    create table _changes (tbl text, id text, old text, new text);
    create trigger _outbox_ins after insert on outbox begin insert into _changes values ('outbox', new.id, null, new.state); end;
    create trigger _outbox_upd after update of state on outbox when old.state <> new.state begin insert into _changes values ('outbox', new.id, old.state, new.state); end;
  `);
  let outcome: Outcome = "ok";
  const mailer = countingMailer((m) => {
    const toMp = !EMAILS.includes(m.to.address);
    switch (outcome) {
      case "451":
        return mailError("451 4.3.0 try again later", { smtpCode: 451, command: "DATA" });
      case "554":
        return toMp ? mailError("554 5.6.0 rejected", { smtpCode: 554, command: "DATA" }) : null;
      case "550":
        return toMp ? mailError("550 5.1.1 user unknown", { smtpCode: 550, command: "RCPT TO" }) : null;
      case "535":
        return mailError("535 5.7.8 bad credentials", {
          smtpCode: 535,
          command: "AUTH PLAIN",
          errorCode: "EAUTH",
        });
      default:
        return null;
    }
  });
  /** Per Message-ID, how many times it was inside the window (each allows one more copy). */
  const windows = new Map<string, number>();
  const inWindow = (id: string) => {
    windows.set(id, (windows.get(id) ?? 0) + 1);
    mailer.allowSecondCopy.add(id);
  };
  t.deps.mailer = {
    async send(m) {
      const res = await mailer.send(m);
      if (outcome === "drop") {
        // The relay stored it; the connection dropped before we heard 250: the documented window.
        inWindow(m.messageId);
        throw mailError("Connection closed unexpectedly", { command: "CONN", errorCode: "ECONNECTION" });
      }
      return res;
    },
  };
  const w = {
    ...t,
    mailer,
    windows,
    inWindow,
    setOutcome: (o: Outcome) => (outcome = o),
    /** The seat's MP as the members table has it now. */
    mp: { id: TEST_SEAT.parliamentId as number, name: TEST_SEAT.mpName as string, email: MP_EMAIL },
  };
  return w;
}

type World = Awaited<ReturnType<typeof world>>;
type Ev = typeof event extends fc.Arbitrary<infer T> ? T : never;

const pickOf = <T>(list: T[], n: number) => (list.length ? list[n % list.length] : undefined);

async function apply(w: World, e: Ev) {
  const ids = async () => (await w.deps.db.select({ id: letters.id }).from(letters)).map((r) => r.id);
  const rows = async () => w.deps.db.select().from(outbox);
  const swallow = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (err) {
      // Refusals (409/410/404/422) are answers, not failures of the property.
      if (!(err instanceof Error && err.name === "AppError")) throw err;
    }
  };
  switch (e.type) {
    case "submit": {
      const base = letterInput({ story: STORIES[e.story] });
      await w.post("/api/letters", { ...base, supporter: { ...base.supporter, email: EMAILS[e.who] } });
      return;
    }
    case "confirm": {
      const id = pickOf(await ids(), e.pick);
      if (!id) return;
      // The link as the confirmation email carries it (minted here: an erased letter's email is gone).
      const token = await signToken(w.deps.config.TOKEN_SECRET, {
        purpose: "letter.confirm",
        subject: id,
        expiresAt: w.clock.now() + 86_400_000,
      });
      await w.confirm(token);
      return;
    }
    case "drain":
      w.setOutcome(e.outcome);
      await drainOnce(w.deps);
      w.setOutcome("ok");
      return;
    case "crash": {
      // A worker claims a batch and dies: before sending, or just after the relay accepted one.
      const claimed = await claimDue(w.deps, 5);
      const first = claimed[0];
      if (e.afterAccept && first) {
        const m = await messageFor(w.deps, first);
        w.inWindow(m.messageId);
        await w.mailer.send(m);
      }
      return;
    }
    case "time":
      w.clock.advance(e.ms);
      return;
    case "cancel": {
      const row = pickOf(await rows(), e.pick);
      if (row) await swallow(cancelOutbox(w.deps, { id: row.id }));
      return;
    }
    case "mpLeaves":
    case "mpMoves": {
      const now = w.clock.now();
      const syncId = crypto.randomUUID();
      await w.deps.db.insert(memberSyncs).values({
        id: syncId,
        trigger: "cli",
        source: "property test",
        status: "applied",
        startedAt: now,
        finishedAt: now,
      });
      const mp = w.mp;
      if (e.type === "mpLeaves") {
        w.mp = { id: mp.id - 1, name: `MP number ${-mp.id}`, email: `mp${-mp.id}@example.net` };
        w.sqlite
          .prepare("update members set parliament_id = ?, name = ?, email = ? where constituency_code = ?")
          .run(w.mp.id, w.mp.name, w.mp.email, TEST_SEAT.onsCode);
        await w.deps.atomic(stopLettersToFormerMembers(w.deps, { syncId, now }));
        await notifyStoppedLetters(w.deps);
      } else {
        w.mp = { ...mp, email: `moved.${mp.email}` };
        w.sqlite
          .prepare("update members set email = ? where constituency_code = ?")
          .run(w.mp.email, TEST_SEAT.onsCode);
        await w.deps.atomic([
          redirectLettersToNewAddress(w.deps, { parliamentId: mp.id, from: mp.email, to: w.mp.email, now }),
        ]);
      }
      return;
    }
    case "moderate": {
      const held = (
        await w.deps.db.select({ id: letters.id }).from(letters).where(eq(letters.status, "held"))
      ).map((r) => r.id);
      const id = pickOf(held, e.pick);
      if (id) await swallow(moderateLetter(w.deps, { id, decision: e.release ? "release" : "reject" }));
      return;
    }
    case "bounce": {
      const row = pickOf(await rows(), e.pick);
      if (!row) return;
      const token = await bounceToken(w.deps.config.TOKEN_SECRET, row.id);
      if (token)
        await recordBounce(w.deps, {
          token,
          hard: e.hard,
          status: "5.1.1",
          detail: "user unknown",
          source: "webhook",
        });
      return;
    }
    case "requeue": {
      const row = pickOf(await rows(), e.pick);
      if (row) await requeueOutbox(w.deps, { id: row.id });
      return;
    }
    case "clearFlag":
      await swallow(clearFlag(w.deps, { address: MP_EMAIL }));
      return;
    case "erase": {
      const now = w.clock.now();
      const id = crypto.randomUUID();
      await w.deps.db.insert(privacyRequests).values({
        id,
        kind: "erase",
        emailNorm: EMAILS[e.who] as string,
        email: EMAILS[e.who] as string,
        createdAt: now,
        expiresAt: now + 3_600_000,
        // As processPrivacyRequests leaves a request whose link it mailed.
        processedAt: now,
        mailed: true,
      });
      const token = await signToken(w.deps.config.TOKEN_SECRET, {
        purpose: "privacy.erase",
        subject: id,
        expiresAt: now + 3_600_000,
      });
      await erasePersonalData(w.deps, { token });
      return;
    }
  }
}

function check(w: World, step: string) {
  const changes = w.sqlite.prepare("select tbl, id, old, new from _changes").all() as {
    id: string;
    old: OutboxState | null;
    new: OutboxState;
  }[];
  w.sqlite.exec("delete from _changes");
  for (const c of changes) {
    if (c.old === null)
      expect(INITIAL_STATES as readonly string[], `${step}: new row in ${c.new}`).toContain(c.new);
    else expect(canTransition(c.old, c.new), `${step}: ${c.old} -> ${c.new} is not in the table`).toBe(true);
  }
  const disagree = w.sqlite
    .prepare(
      `select l.id, l.status, o.state from letters l join outbox o on o.letter_id = l.id and o.kind = 'letter'`,
    )
    .all() as { id: string; status: string; state: OutboxState }[];
  for (const r of disagree)
    expect(r.status, `${step}: letter ${r.id} is ${r.status} while its outbox row is ${r.state}`).toBe(
      LETTER_STATUS_OF[r.state],
    );
  // Every letter has exactly one letter row.
  expect(
    w.sqlite
      .prepare(
        "select count(*) n from letters l where (select count(*) from outbox o where o.letter_id = l.id and o.kind = 'letter') <> 1",
      )
      .get(),
  ).toEqual({ n: 0 });
  // Nothing twice (the counting mailer records duplicates; only the window's are allowed).
  const twice = new Map<string, number>();
  for (const m of w.mailer.sent) twice.set(m.messageId, (twice.get(m.messageId) ?? 0) + 1);
  for (const [id, n] of twice)
    expect(n, `${step}: ${id} arrived ${n} times`).toBeLessThanOrEqual(1 + (w.windows.get(id) ?? 0));
}

describe("delivery state, under random sequences of events", () => {
  it("letter and outbox always agree, every transition is in the table, and nothing is sent twice outside the window", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 15, maxLength: 45 }), async (events) => {
        const w = await world();
        try {
          for (const [i, e] of events.entries()) {
            await apply(w, e);
            check(w, `step ${i} ${JSON.stringify(e)}`);
          }
        } finally {
          if (process.env.FC_STATS)
            process.stderr.write(
              `${events.map((e) => (e.type === "drain" ? `drain:${e.outcome}` : e.type)).join(",")} ${JSON.stringify(w.sqlite.prepare("select (select count(*) from letter_stops) stops, (select count(*) from outbox where state='sent') sent, (select count(*) from outbox where state='bounced') bounced, (select count(*) from recipient_flags) flags, (select count(*) from outbox where state = 'dead') dead").get())}\n`,
            );
          w.sqlite.close();
        }
      }),
      {
        numRuns: Number(process.env.FC_RUNS ?? 40),
        seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31),
      },
    );
  }, 120_000);
});
