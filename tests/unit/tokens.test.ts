/**
 * Keys and ids in links.
 * Findings: one key signed links and fingerprinted the suppression list, so rotating it orphaned
 * the list; pledge tokens carried sequential ids.
 */
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../src/env";
import { fingerprint, signToken, verifyToken } from "../../src/lib/tokens";
import { emailFingerprint } from "../../src/modules/pledges/pledges.fingerprint";
import { json, pledgeTestApp, tokenIn } from "../support/pledges";

const SECRET = "a-long-and-real-secret-4f9c1";
const NOW = Date.parse("2026-11-23T10:00:00Z");
const claims = { purpose: "letter.confirm", subject: "abc", expiresAt: NOW + 60_000 };
const keys = (LINK_KEY_ID: string, LINK_KEY_IDS_PREVIOUS = "") =>
  parseEnv({ TOKEN_SECRET: SECRET, LINK_KEY_ID, LINK_KEY_IDS_PREVIOUS });

const payloadOf = (token: string) =>
  JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as { s: string };

describe("link keys", () => {
  it("put the key id in the token and verify it under that key", async () => {
    const token = await signToken(keys("1"), claims);
    expect(token.split(".")[0]).toBe("1");
    expect(await verifyToken(keys("1"), token, "letter.confirm", NOW)).toMatchObject({ subject: "abc" });
  });

  it("rotate: old links verify while their key id is listed as previous, and not after", async () => {
    const old = await signToken(keys("1"), claims);
    const fresh = await signToken(keys("2", "1"), claims);
    expect(fresh.split(".")[0]).toBe("2");
    await verifyToken(keys("2", "1"), old, "letter.confirm", NOW);
    await verifyToken(keys("2", "1"), fresh, "letter.confirm", NOW);
    await expect(verifyToken(keys("2"), old, "letter.confirm", NOW)).rejects.toMatchObject({
      code: "token_invalid",
    });
    // A token naming a key id we never had, or relabelled with another id, is refused.
    await expect(
      verifyToken(keys("2", "1"), `9${old.slice(1)}`, "letter.confirm", NOW),
    ).rejects.toMatchObject({
      code: "token_invalid",
    });
    await expect(
      verifyToken(keys("2", "1"), `2${old.slice(1)}`, "letter.confirm", NOW),
    ).rejects.toMatchObject({
      code: "token_invalid",
    });
  });

  it("are derived keys, never the secret itself, and differ per key id and from the fingerprint key", async () => {
    const t1 = await signToken(keys("1"), claims);
    const t2 = await signToken(keys("2"), claims);
    expect(t1.split(".")[2]).not.toBe(t2.split(".")[2]);
    const raw = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const rawMac = new Uint8Array(
      await crypto.subtle.sign("HMAC", raw, new TextEncoder().encode(t1.split(".").slice(0, 2).join("."))),
    );
    const b64 = btoa(String.fromCharCode(...rawMac))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    expect(t1.split(".")[2]).not.toBe(b64);
  });
});

describe("fingerprints (the suppression list)", () => {
  it("do not change when the link key rotates", async () => {
    // emailFingerprint takes only the root secret: LINK_KEY_ID is not an input at all.
    const a = await emailFingerprint(keys("1").TOKEN_SECRET, "ada@example.org");
    const b = await emailFingerprint(keys("7", "1").TOKEN_SECRET, "ada@example.org");
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).not.toBe(await fingerprint("another-real-secret-0123456789", "email:ada@example.org"));
  });
});

describe("ids in links", () => {
  it("pledge links name a random id, not the row number", async () => {
    const t = pledgeTestApp();
    for (const email of ["a@example.org", "b@example.org", "c@example.org"])
      await t.request(
        "/api/pledges",
        json({ name: "A", email, postcode: "GU11 1AA", pledgeConsent: "pledge-2026-11" }),
      );
    const subjects = t.sent.map((m) => payloadOf(decodeURIComponent(tokenIn(m, "/pledge/confirm"))).s);
    expect(subjects).toHaveLength(3);
    for (const s of subjects) expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(subjects.some((s) => /^\d+$/.test(s))).toBe(false);
    expect(new Set(subjects).size).toBe(3);
    // And the link still confirms.
    const res = await t.request(
      "/api/pledges/confirm",
      json({ token: tokenIn(t.sent[0], "/pledge/confirm") }),
    );
    expect(res.status).toBe(200);
  });
});
