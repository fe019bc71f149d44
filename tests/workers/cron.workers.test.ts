/** The Worker's cron triggers, fired as Cloudflare fires them, over local D1. */
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import {
  DEAD_LETTER_QUEUE,
  MEMBERS_SYNC_CRON,
  RATE_LIMIT_BINDINGS,
  RATE_LIMIT_PERIOD_S,
  RETENTION_CRON,
} from "../../src/adapters/workers/names";
import { ROOT_DIR, startWorker, type TestWorker } from "./support";

let w: TestWorker;
beforeAll(async () => {
  w = await startWorker();
});
afterAll(() => w?.dispose());

describe("cron triggers on Workers + D1", () => {
  it("drains an empty outbox every minute without error", async () => {
    expect(await w.scheduled("* * * * *")).toMatchObject({ outcome: "ok" });
  });

  it("runs the hourly retention job against D1 without error", async () => {
    expect(await w.scheduled("17 * * * *")).toMatchObject({ outcome: "ok" });
  });

  it("finds in wrangler.toml the crons, queues and rate limiters the Worker names", async () => {
    const toml = await import("node:fs").then((fs) =>
      fs.readFileSync(resolve(ROOT_DIR, "wrangler.toml"), "utf8"),
    );
    for (const cron of [RETENTION_CRON, MEMBERS_SYNC_CRON]) expect(toml).toContain(`"${cron}"`);
    const { workerOptions } = unstable_getMiniflareWorkerOptions(resolve(ROOT_DIR, "wrangler.toml"));
    const consumers = workerOptions.queueConsumers as Record<string, { deadLetterQueue?: string }>;
    expect(Object.values(workerOptions.queueProducers ?? {})).toEqual([{ queueName: "speakup-outbox" }]);
    expect(consumers["speakup-outbox"]?.deadLetterQueue).toBe(DEAD_LETTER_QUEUE);
    expect(Object.keys(consumers)).toContain(DEAD_LETTER_QUEUE);
    const limits = workerOptions.ratelimits as Record<string, { simple: { period: number } }>;
    for (const name of Object.values(RATE_LIMIT_BINDINGS))
      expect(limits[name]?.simple.period, name).toBe(RATE_LIMIT_PERIOD_S);
  });
});
