/**
 * HOSTILE 36: two server processes and several CLI drains, all on one database file and one
 * relay, at the same time: every message is sent exactly once (the test SMTP server fails the
 * test on a second copy of any Message-ID).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it, onTestFinished } from "vitest";
import { buildNodeDeps } from "../../src/adapters/node/deps";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { runCli, startServer, until } from "../support/processes";
import { startSmtp } from "../support/smtp";

const LETTERS = 40;

describe("36: two servers and several CLI drains on one database", () => {
  it("send each message once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "speakup-many-"));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const sink = await startSmtp({ delayMs: 10 });
    onTestFinished(() => sink.close());
    const env = {
      DATABASE_PATH: join(dir, "speakup.sqlite"),
      PORT: "0",
      SEED: "off",
      REMOTE_LOOKUP: "off",
      MAIL_MODE: "reflect",
      MAIL_FROM: "campaign@example.org",
      SMTP_URL: sink.url,
      TOKEN_SECRET: "many-senders-test-secret-0123456789",
      SMTP_POOL_SIZE: "3",
      OUTBOX_BATCH: "5",
      OUTBOX_POLL_MS: "20",
      RETENTION_INTERVAL_MINUTES: "0",
      MEMBERS_SYNC_INTERVAL_HOURS: "0",
      LOG_LEVEL: "error",
      LETTER_LIMIT_PER_IP_HOUR: "1000",
      LETTER_LIMIT_PER_EMAIL_DAY: "100",
    };
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
        const base = letterInput({ story: `Letter number ${i}.` });
        const { id } = (await expectStatus(
          await post("/api/letters", {
            ...base,
            supporter: { ...base.supporter, email: `m${i}@example.org` },
          }),
          201,
        )) as { id: string };
        const { b } = sqlite
          .prepare("select body_text b from outbox where letter_id = ? and kind = 'confirm'")
          .get(id) as {
          b: string;
        };
        await expectStatus(
          await post("/api/letters/confirm", { token: /token=([A-Za-z0-9_.-]+)/.exec(b)?.[1] }),
          200,
        );
      }
      sqlite.close();
    }
    const db = new Database(env.DATABASE_PATH, { readonly: true });
    onTestFinished(() => {
      db.close();
    });
    const due = () =>
      (
        db.prepare("select count(*) n from outbox where kind <> 'followup' and state <> 'sent'").get() as {
          n: number;
        }
      ).n;
    // Each letter and its confirmation email wait to be sent.
    expect(due()).toBe(2 * LETTERS);

    // All at once: two servers, two CLI drains, and a third drain once they are under way.
    startServer(env);
    startServer(env);
    const drains = [runCli(["drain"], env), runCli(["drain"], env)];
    await until("some letters to arrive", () => sink.messages.length > 5);
    drains.push(runCli(["drain"], env));
    await until("every message to be sent", () => due() === 0, 60_000);
    expect(await Promise.all(drains)).toEqual([0, 0, 0]);

    const ids = [...sink.messages, ...sink.stored].map((m) => m.messageId);
    expect(new Set(ids).size).toBe(ids.length);
    const letters = db.prepare("select message_id m, attempts a from outbox where kind = 'letter'").all() as {
      m: string;
      a: number;
    }[];
    expect(letters).toHaveLength(LETTERS);
    for (const l of letters) {
      expect(ids.filter((id) => id === l.m)).toHaveLength(1);
      expect(l.a).toBe(1);
    }
    expect(db.prepare("select count(*) n from letters where status <> 'sent'").get()).toEqual({ n: 0 });
  }, 90_000);
});
