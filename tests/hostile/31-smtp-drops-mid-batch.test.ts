/**
 * HOSTILE 31: the relay goes away in the middle of a batch, after 3 of 10 letters: those 3 are
 * sent, the other 7 are retried and sent once the relay answers again, and nobody gets a copy
 * twice (the test SMTP server fails the test on a second copy of any Message-ID).
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { confirmedLetters, lettersAt, withRealSmtp } from "./support";

describe("31: SMTP drops mid-batch", () => {
  it("3 of 10 sent, 7 retried and sent once, no duplicates", async () => {
    let letters = 0;
    let up = true;
    const t = await withRealSmtp(
      {
        onData: (_n, parsed) => {
          if (!parsed.subject?.includes("babies")) return null;
          if (!up) return "reset";
          if (++letters === 3) up = false;
          return null;
        },
      },
      { SMTP_POOL_SIZE: "1" },
    );
    t.mailer.close?.();
    const { smtpMailer } = await import("../../src/adapters/node/mailer");
    // One connection, one message at a time: "after 3 of 10" is exact.
    t.deps.mailer = smtpMailer({ url: t.sink.url, poolSize: 1, timeoutMs: 3000 });
    await confirmedLetters(t, 10);
    const first = await drainOutbox(t.deps, { concurrency: 1 });
    expect(lettersAt(t.sink)).toHaveLength(3);
    expect(first.sent).toBeGreaterThanOrEqual(3);
    expect(
      t.sqlite.prepare("select count(*) n from outbox where kind = 'letter' and state = 'sent'").get(),
    ).toEqual({ n: 3 });
    up = true;
    t.clock.advance(6 * 60 * 60 * 1000);
    await drainOutbox(t.deps, { concurrency: 1 });
    expect(lettersAt(t.sink)).toHaveLength(10);
    expect(new Set(lettersAt(t.sink).map((m) => m.messageId)).size).toBe(10);
    expect(
      t.sqlite.prepare("select count(*) n from outbox where kind = 'letter' and state = 'sent'").get(),
    ).toEqual({ n: 10 });
    t.deps.mailer.close?.();
  });
});
