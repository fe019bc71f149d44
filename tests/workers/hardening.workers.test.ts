/**
 * Issue 11 in the real Workers runtime: bodies are limited before parsing, /dev/mail needs a
 * signed-in lead, and a published TOKEN_SECRET on a public address refuses to serve. (Limits by
 * CF-Connecting-IP: limits.workers.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { startWorker, type TestWorker } from "./support";

let w: TestWorker;

beforeAll(async () => {
  w = await startWorker({
    bindings: { TOKEN_SECRET: "workers-test-token-secret-0123456789" },
  });
});
afterAll(() => w?.dispose());

describe("Workers hardening", () => {
  it("refuses an oversized body with 413 before parsing, and a malformed one with 400", async () => {
    const big = "a".repeat(400 * 1024);
    const res = await w.fetch("/api/pledges", {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": String(big.length) },
      body: big,
    });
    expect(await expectStatus(res, 413)).toMatchObject({ code: "payload_too_large" });
    const bad = await w.fetch("/api/pledges", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":',
    });
    expect(await expectStatus(bad, 400)).toMatchObject({ code: "malformed_body" });
  });

  it("shows captured mail only to a signed-in lead (a Worker has no loopback listener)", async () => {
    const res = await w.fetch("/dev/mail", { headers: { "cf-connecting-ip": "127.0.0.1" } });
    expect(res.status).toBe(401);
  });

  it("refuses to serve with the published TOKEN_SECRET on a public address, logging why", async () => {
    const bad = await startWorker({ bindings: { PUBLIC_URL: "https://speakup.example.org" } });
    try {
      const res = await bad.fetch("/healthz");
      expect(res.status).toBe(500);
      expect(await res.text()).not.toContain("TOKEN_SECRET");
      await expect.poll(() => bad.logs.join("")).toContain("TOKEN_SECRET: set a real secret");
    } finally {
      await bad.dispose();
    }
  });
});
