/**
 * The Node outbox loop polls (OUTBOX_POLL_MS); a row made ready wakes it, so a confirmation is
 * sent now instead of at the next poll, and a burst of wake-ups costs one extra pass, not one each.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startOutboxWorker } from "../../src/adapters/node/mailer";

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("the Node outbox loop", () => {
  it("runs a pass soon after a wake-up, and one pass for a burst of them", async () => {
    let passes = 0;
    const worker = startOutboxWorker(
      async () => {
        passes++;
        return { claimed: 0 };
      },
      { pollMs: 60_000, batch: 50, onError: () => {} },
    );
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toBe(1);
    for (let i = 0; i < 50; i++) worker.wake();
    await vi.advanceTimersByTimeAsync(300);
    expect(passes).toBe(2);
    // Nothing more until the next wake-up or poll.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toBe(2);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(passes).toBe(3);
    await worker.stop();
  });
});
