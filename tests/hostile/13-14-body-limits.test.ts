/**
 * HOSTILE 13 and 14: oversized bodies, with and without Content-Length, on every route.
 * Finding: /pledge, /embed/pledge and /privacy/request had no limit at all; a 200 MB chunked POST
 * took 8-18 s and left the server at about 1 GB.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { supporterPledges } from "../../src/db/schema";
import { MAX_BODY, MAX_STORY } from "../../src/modules/letters/letters.schemas";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { expectStatus, testApp, testDeps } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";
import { countingStream, everyRoute } from "./support";

const KB = 1024;
const MB = 1024 * KB;

describe("13: a body over the limit with a Content-Length", () => {
  it("is refused with 413 problem+json before parsing, on every route and method", async () => {
    const t = testApp();
    const body = "a".repeat(MB);
    const routes = everyRoute(t.app, ["GET", "POST"]);
    expect(routes.length).toBeGreaterThan(60);
    for (const { path } of routes) {
      const res = await t.request(path, {
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": String(body.length),
        },
        body,
      });
      const problem = await expectStatus(res, 413);
      expect(problem, path).toMatchObject({ code: "payload_too_large" });
      expect(res.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(t.logger.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("accepts the longest letter the schemas allow, written in four-byte characters and form-encoded", async () => {
    const t = testApp();
    await ensureTestSeat(t.deps);
    // 20,000 emoji body + 5,000 emoji story: the largest real request, about 300 KB on the wire.
    const form = new URLSearchParams({
      postcode: "ZZ9 9ZZ",
      to: "mp",
      asks: "prevention",
      story: "👶".repeat(5000),
      subject: "Please speak up for babies",
      body: "👶".repeat(20_000),
      from: "details",
    }).toString();
    expect(form.length).toBeGreaterThan(290 * KB);
    const res = await t.request("/write/preview", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "content-length": String(form.length) },
      body: form,
    });
    await expectStatus(res, 200);
  });
});

describe("13: the longest letter, and one character more", () => {
  it("a body or story of exactly the maximum is accepted; one more character is 422 text_too_long", async () => {
    const t = await lettersApp();
    const cases: [string, number, (s: string) => Record<string, unknown>][] = [
      ["body", MAX_BODY, (body) => ({ body })],
      ["story", MAX_STORY, (story) => ({ story })],
    ];
    let n = 0;
    for (const [field, max, over] of cases)
      for (const unit of ["a", "\u{1F476}"]) {
        const write = (text: string) => {
          const input = letterInput(over(text));
          return t.post("/api/letters", {
            ...input,
            supporter: { ...input.supporter, email: `max${n++}@example.org` },
          });
        };
        await expectStatus(await write(unit.repeat(max)), 201);
        const problem = await expectStatus(await write(unit.repeat(max + 1)), 422);
        expect(problem, `${field} in ${unit}`).toMatchObject({
          code: "text_too_long",
          errors: [{ path: field, message: expect.stringContaining(`at most ${max} characters`) }],
        });
        await expectStatus(
          await t.post("/api/letters/preview", letterInput(over(unit.repeat(max + 1)))),
          422,
        );
      }
    // The journey's preview step says so inside the form, keeping the text.
    const form = new URLSearchParams({
      postcode: "ZZ9 9ZZ",
      to: "mp",
      asks: "prevention",
      story: "s".repeat(MAX_STORY + 1),
    });
    const page = await t.request("/write/preview", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "text/html" },
      body: form.toString(),
    });
    expect(page.status).toBe(422);
    expect(await page.text()).toContain(`at most ${MAX_STORY} characters`);
  });
});

describe("14: a chunked body over the limit, without Content-Length", () => {
  it("is refused with 413 on every route after reading no more than the limit", async () => {
    const t = testApp();
    const limit = t.deps.config.BODY_LIMIT_KB * KB;
    for (const { path } of everyRoute(t.app, ["GET", "POST"])) {
      const { stream, state } = countingStream(MB);
      const res = await t.request(path, {
        method: "POST",
        headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expect(await expectStatus(res, 413), path).toMatchObject({ code: "payload_too_large" });
      // Streamed, not buffered: the rest of the megabyte was never pulled.
      expect(state.pulled, path).toBeLessThanOrEqual(limit + 32 * KB);
    }
  });
});

describe("14: 200 MB chunked POSTs to a real server", () => {
  const t = testDeps();
  const app = createApp(() => t.deps);
  let server: http.Server;
  let port = 0;

  beforeAll(async () => {
    await ensureTestSeat(t.deps);
    server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as http.Server;
    await new Promise((r) => server.once("listening", r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server?.close();
    t.sqlite.close();
  });

  /** Streams up to `total` bytes as fast as the socket takes them; resolves on the answer. */
  function upload(path: string, total: number) {
    return new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      const req = http.request({
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "transfer-encoding": "chunked",
          origin: `http://127.0.0.1:${port}`,
        },
      });
      const chunk = Buffer.alloc(64 * KB, "a");
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, sent }));
      });
      req.on("error", (e) => {
        // The server hangs up on the rest of the upload once it has answered: expected.
        if (!/EPIPE|ECONNRESET/.test(e.message)) reject(e);
      });
      const pump = () => {
        while (sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    });
  }

  it.each(["/pledge", "/embed/pledge", "/privacy/request", "/write/send", "/api/pledges"])(
    "%s answers 413 within moments, reads a few MB at most, keeps memory flat and stores nothing",
    async (path) => {
      const rss = process.memoryUsage().rss;
      const res = await upload(path, 200 * MB);
      expect(res.status, res.body).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: "payload_too_large" });
      expect(res.sent).toBeLessThan(32 * MB);
      expect(process.memoryUsage().rss - rss).toBeLessThan(64 * MB);
      expect(await t.deps.db.select().from(supporterPledges)).toEqual([]);
    },
  );

  it("still answers a normal request on the same server afterwards", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/lookup?postcode=ZZ99ZZ`);
    expect(res.status).toBe(200);
    const ok = await fetch(`http://127.0.0.1:${port}/api/letters/preview`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(letterInput()),
    });
    expect(ok.status).toBe(200);
  });
});
