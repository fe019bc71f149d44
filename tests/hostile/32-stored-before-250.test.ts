/**
 * HOSTILE 32: the relay stores the message and drops the connection before answering 250: we
 * can't know it was taken, so it is sent again, at most once more, with the same Message-ID
 * (the documented at-least-once window), and the letter is then recorded as sent.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { confirmedLetters, lettersAt, withRealSmtp } from "./support";

describe("32: stored, then dropped before 250", () => {
  it("at most one more copy, with the same Message-ID; then sent", async () => {
    let drop = 1;
    const t = await withRealSmtp({
      onData: (_n, parsed) => (parsed.subject?.includes("babies") && drop-- > 0 ? "drop" : null),
    });
    const [id] = await confirmedLetters(t, 1);
    const { message_id: messageId } = t.sqlite
      .prepare("select message_id from outbox where letter_id = ? and kind = 'letter'")
      .get(id) as { message_id: string };
    t.sink.allowSecondCopy.add(messageId);
    await drainOutbox(t.deps);
    expect(t.sink.stored.map((m) => m.messageId)).toEqual([messageId]);
    t.clock.advance(60_000);
    await drainOutbox(t.deps);
    t.clock.advance(6 * 60 * 60 * 1000);
    await drainOutbox(t.deps);
    const copies = [...t.sink.stored, ...lettersAt(t.sink)].map((m) => m.messageId);
    expect(copies).toEqual([messageId, messageId]);
    expect(
      t.sqlite.prepare("select state from outbox where letter_id = ? and kind = 'letter'").get(id),
    ).toEqual({
      state: "sent",
    });
  });
});
