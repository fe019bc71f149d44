/**
 * Who a request is from (src/http/client.ts), and the per-address limits keyed by it.
 * Findings: behind a TLS proxy every request shared the proxy's address (the whole site got 30
 * letters an hour; 100 people at a university got 30 accepted and 70 refused), while the sign-in
 * limiter believed a forged CF-Connecting-IP on Node.
 */
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../src/env";
import { resolveClient } from "../../src/http/client";
import { expectStatus, PEER } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";

const config = (TRUSTED_PROXY = "") => parseEnv({ TRUSTED_PROXY });

describe("resolving the client address", () => {
  it("believes no header unless the peer is a trusted proxy", () => {
    expect(resolveClient(config(), "198.51.100.7", "203.0.113.1")).toMatchObject({ ip: "198.51.100.7" });
    expect(resolveClient(config("10.0.0.0/8"), "198.51.100.7", "203.0.113.1")).toMatchObject({
      ip: "198.51.100.7",
    });
  });

  it("walks X-Forwarded-For from the right past trusted proxies only", () => {
    const c = config("10.0.0.0/8, 192.168.1.1");
    // client-supplied junk, the real client, then two of our proxies
    const xff = "1.2.3.4, 203.0.113.9, 192.168.1.1";
    expect(resolveClient(c, "10.0.0.2", xff)).toMatchObject({ ip: "203.0.113.9", key: "203.0.113.9" });
    // A malformed hop stops the walk at the last address we could vouch for.
    expect(resolveClient(c, "10.0.0.2", "203.0.113.9, not-an-ip")).toMatchObject({ ip: "10.0.0.2" });
    expect(resolveClient(c, "10.0.0.2", "1.2.3")).toMatchObject({ ip: "10.0.0.2" });
    // Ports and brackets some proxies add.
    expect(resolveClient(c, "10.0.0.2", "[2001:db8::5]:443")).toMatchObject({ ip: "2001:db8::5" });
    expect(resolveClient(c, "10.0.0.2", "203.0.113.9:5123")).toMatchObject({ ip: "203.0.113.9" });
  });

  it("keys IPv6 clients by their /64 and unwraps IPv4-mapped addresses", () => {
    const c = config();
    expect(resolveClient(c, "2001:db8:1:2:aaaa::1", undefined).key).toBe("2001:db8:1:2::/64");
    expect(resolveClient(c, "2001:db8:1:2:ffff:ffff:ffff:ffff", undefined).key).toBe("2001:db8:1:2::/64");
    expect(resolveClient(c, "2001:db8:1:3::1", undefined).key).toBe("2001:db8:1:3::/64");
    expect(resolveClient(c, "::ffff:198.51.100.7", undefined)).toMatchObject({
      ip: "198.51.100.7",
      key: "198.51.100.7",
    });
  });

  it("calls a request local only when the loopback peer connected directly", () => {
    expect(resolveClient(config(), "127.0.0.1", undefined).loopback).toBe(true);
    expect(resolveClient(config(), "::1", undefined).loopback).toBe(true);
    expect(resolveClient(config("loopback"), "127.0.0.1", "203.0.113.9").loopback).toBe(false);
    expect(resolveClient(config(), undefined, undefined)).toEqual({
      ip: undefined,
      key: "unknown",
      loopback: false,
    });
  });
});

describe("per-address limits through the app", () => {
  const submit = (t: Awaited<ReturnType<typeof lettersApp>>, email: string, peer: string, headers = {}) =>
    t.app.request(
      "/api/letters",
      {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(
          letterInput({
            story: `My own words, from ${email}.`,
            supporter: { ...letterInput().supporter, email },
          }),
        ),
      },
      PEER(peer),
    );

  it("ignores a forged CF-Connecting-IP or X-Forwarded-For on Node: one socket, one allowance", async () => {
    const t = await lettersApp({ LETTER_LIMIT_PER_IP_HOUR: "3" });
    for (let i = 0; i < 3; i++)
      await expectStatus(
        await submit(t, `f${i}@example.org`, "198.51.100.7", {
          "cf-connecting-ip": `203.0.113.${i}`,
          "x-forwarded-for": `192.0.2.${i}`,
        }),
        201,
      );
    const res = await submit(t, "f9@example.org", "198.51.100.7", { "cf-connecting-ip": "203.0.113.99" });
    expect(await expectStatus(res, 429)).toMatchObject({ code: "rate_limited" });
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("lets 100 people behind one proxy address write, look up, preview and pledge in an afternoon", async () => {
    const t = await lettersApp({ TRUSTED_PROXY: "10.0.0.0/8", LETTER_LIMIT_PER_IP_HOUR: "200" });
    const via = { "x-forwarded-for": "203.0.113.50" }; // the university's one public address
    const ask = (path: string, init: RequestInit = {}) =>
      t.app.request(path, { ...init, headers: { ...via, ...(init.headers ?? {}) } }, PEER("10.0.0.2"));
    for (let i = 0; i < 100; i++) {
      const email = `student${i}@uni.example.org`;
      await expectStatus(await ask("/api/lookup?postcode=ZZ9+9ZZ"), 200);
      await expectStatus(
        await ask("/api/letters/preview", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(letterInput()),
        }),
        200,
      );
      await expectStatus(
        await ask("/api/letters", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(
            letterInput({
              story: `Student ${i} writes in their own words.`,
              supporter: { ...letterInput().supporter, email },
            }),
          ),
        }),
        201,
      );
      await expectStatus(
        await ask("/api/pledges", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "S", email, postcode: "ZZ9 9ZZ", pledgeConsent: "pledge-2026-11" }),
        }),
        202,
      );
    }
    // Someone else behind the same proxy is counted apart.
    const other = await t.app.request(
      "/api/lookup?postcode=ZZ9+9ZZ",
      { headers: { "x-forwarded-for": "198.51.100.20" } },
      PEER("10.0.0.2"),
    );
    await expectStatus(other, 200);
  }, 60_000);

  it("refuses a flood from one address, and a second /64 is a different client", async () => {
    const t = await lettersApp({ LOOKUP_LIMIT_PER_IP_HOUR: "5" });
    const lookup = (peer: string) => t.app.request("/api/lookup?postcode=ZZ9+9ZZ", {}, PEER(peer));
    for (let i = 0; i < 5; i++) await expectStatus(await lookup(`2001:db8:1:2::${i + 1}`), 200);
    expect(await expectStatus(await lookup("2001:db8:1:2::99"), 429)).toMatchObject({ code: "rate_limited" });
    await expectStatus(await lookup("2001:db8:1:3::1"), 200);
  });
});
