/**
 * HOSTILE 35: SIGKILL while rows are sending. The real Node process (`npm start`'s entry point) draining a real outbox into a real SMTP
 * server is killed with SIGKILL mid-drain, then started again. Every confirmed letter must
 * arrive exactly once, except a message the relay had accepted when the process died before
 * recording it (its row was still `sending`): that one may arrive twice, with the same
 * Message-ID: the documented at-least-once window, and nothing else.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { buildNodeDeps } from "../../src/adapters/node/deps";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { startServer, until } from "../support/processes";
import { startSmtp } from "../support/smtp";

const LETTERS = 60;
const WORDS =
  "health visitors nursery parents babies early years midwife support family hubs perinatal mental care funding waiting lists neonatal grandparents childcare breastfeeding community centre local council speech language therapy sleep nights twins premature toddler playgroup library rhymes".split(
    " ",
  );
/** A distinct story per supporter (its own words differ, so no letter is held as a copy of another). */
const story = (i: number) =>
  `${Array.from({ length: 14 }, (_, k) => WORDS[(i * 7 + k * k * 3 + i * k) % WORDS.length]).join(" ")} from family${i} in street${i}`;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("35: SIGKILL during a drain", () => {
  it("after a restart every confirmed letter has arrived once, or twice with the same Message-ID only inside the window", async () => {
    const dir = mkdtempSync(join(tmpdir(), "speakup-kill-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // A relay that takes a little while over each message, so the kill lands mid-drain.
    const sink = await startSmtp({ delayMs: 40 });
    cleanups.push(() => sink.close());
    const env = {
      DATABASE_PATH: join(dir, "speakup.sqlite"),
      PORT: "0",
      SEED: "off",
      REMOTE_LOOKUP: "off",
      MAIL_MODE: "reflect",
      MAIL_FROM: "campaign@example.org",
      SMTP_URL: sink.url,
      TOKEN_SECRET: "sigkill-test-secret-0123456789",
      SMTP_POOL_SIZE: "4",
      OUTBOX_BATCH: "10",
      OUTBOX_POLL_MS: "50",
      OUTBOX_LEASE_SECONDS: "5",
      RETENTION_INTERVAL_MINUTES: "0",
      LOG_LEVEL: process.env.KILL_TEST_LOG ?? "error",
      LETTER_LIMIT_PER_IP_HOUR: "1000",
      LETTER_LIMIT_PER_EMAIL_DAY: "100",
      // Distinct supporters' own words; the near-duplicate hold is not what this test is about.
      LETTER_SIMILARITY_HOLD: "1",
    };

    // Confirmed letters, written by the real verbs into the file the server will open.
    {
      const { deps, sqlite } = buildNodeDeps(parseEnv(env));
      await ensureTestSeat(deps);
      const app = createApp(() => deps);
      const post = (path: string, body: unknown) =>
        app.request(path, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      for (let i = 0; i < LETTERS; i++) {
        const base = letterInput({ story: story(i) });
        const { id } = (await expectStatus(
          await post("/api/letters", {
            ...base,
            supporter: { ...base.supporter, email: `k${i}@example.org` },
          }),
          201,
        )) as { id: string };
        const row = sqlite
          .prepare("select body_text b from outbox where letter_id = ? and kind = 'confirm'")
          .get(id) as { b: string };
        const token = /token=([A-Za-z0-9_.-]+)/.exec(row.b)?.[1];
        await expectStatus(await post("/api/letters/confirm", { token }), 200);
      }
      sqlite.close();
    }
    const db = new Database(env.DATABASE_PATH, { readonly: true });
    cleanups.push(() => db.close());
    const letterIds = db
      .prepare("select message_id m from outbox where kind = 'letter'")
      .all()
      .map((r) => (r as { m: string }).m);
    expect(letterIds).toHaveLength(LETTERS);
    const arrived = () => [...sink.messages, ...sink.stored].map((m) => m.messageId ?? "");

    // Kill it once a third of the letters are through.
    const first = startServer(env);
    await until(
      "the first third of the letters",
      () => arrived().filter((id) => letterIds.includes(id)).length >= LETTERS / 3,
    );
    first.kill("SIGKILL");
    await new Promise((r) => first.once("exit", r));
    // Let the relay finish reading what reached it before the process died.
    await new Promise((r) => setTimeout(r, 300));
    // The window: messages the relay had received when the process died, whose row still said
    // `sending` (the acceptance was never recorded). Only these may arrive a second time.
    const atKill = new Set(sink.received);
    const inWindow = new Set(
      db
        .prepare("select message_id m from outbox where state = 'sending'")
        .all()
        .map((r) => (r as { m: string }).m)
        .filter((m) => atKill.has(m)),
    );
    const arrivedAtKill = arrived().length;
    expect(arrivedAtKill).toBeLessThan(2 * LETTERS); // it really died mid-drain
    for (const id of inWindow) sink.allowSecondCopy.add(id);
    if (process.env.KILL_TEST_LOG)
      process.stderr.write(`at kill: ${arrivedAtKill} arrived, ${inWindow.size} in the window\n`);

    // Start again: lapsed leases are reclaimed, everything due goes.
    startServer(env);
    const done = () =>
      (
        db.prepare("select count(*) n from outbox where kind <> 'followup' and state <> 'sent'").get() as {
          n: number;
        }
      ).n === 0;
    await until("the outbox to drain after the restart", done).catch((e) => {
      const states = db.prepare("select kind, state, count(*) n from outbox group by kind, state").all();
      const relay = db.prepare("select * from relay_status").all();
      throw new Error(`${e.message}: ${JSON.stringify({ states, relay })}`);
    });

    const copies = new Map<string, number>();
    for (const id of arrived()) copies.set(id, (copies.get(id) ?? 0) + 1);
    for (const id of letterIds) {
      const n = copies.get(id) ?? 0;
      expect(n, `letter ${id}`).toBeGreaterThanOrEqual(1);
      if (n > 1) expect(inWindow.has(id), `letter ${id} arrived ${n} times outside the window`).toBe(true);
      expect(n).toBeLessThanOrEqual(2);
    }
    // Every message, not just letters: nothing outside the window twice.
    for (const [id, n] of copies) if (n > 1) expect(inWindow.has(id), `${id} arrived twice`).toBe(true);
    expect(db.prepare("select count(*) n from letters where status <> 'sent'").get()).toEqual({ n: 0 });
    // The window is at most what was in flight at the kill: one message per SMTP connection.
    expect(inWindow.size).toBeLessThanOrEqual(4);
  }, 90_000);
});
