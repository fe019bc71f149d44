/** The Worker's cron triggers, fired as Cloudflare fires them, over local D1. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, type TestWorker } from "./support";

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
});
