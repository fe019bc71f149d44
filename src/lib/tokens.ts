/**
 * Signed link tokens (HMAC-SHA256 via crypto.subtle, so the same code runs on Node and Workers).
 *
 * A token is `base64url(JSON {p, s, e}) "." base64url(mac)`: p = purpose ("letter.confirm"),
 * s = subject id, e = expiry (ms). The purpose is inside the MAC, so a token minted for one
 * action can never be replayed against another. Tokens carry ids, never personal data.
 * Expiry is checked after the MAC, so "expired" is only ever said about a token we issued.
 */
import { AppError } from "./errors";

const enc = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export type TokenClaims = { purpose: string; subject: string; expiresAt: number };

export async function signToken(secret: string, claims: TokenClaims): Promise<string> {
  const payload = b64url(
    enc.encode(JSON.stringify({ p: claims.purpose, s: claims.subject, e: claims.expiresAt })),
  );
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(payload));
  return `${payload}.${b64url(new Uint8Array(mac))}`;
}

/**
 * Verify a token for `purpose` at time `now`. Throws token_malformed (not a token at all),
 * token_invalid (bad MAC or another purpose) or token_expired; returns the subject id.
 */
export async function verifyToken(
  secret: string,
  token: string,
  purpose: string,
  now: number,
): Promise<{ subject: string; expiresAt: number }> {
  const m = /^([A-Za-z0-9_-]{8,1024})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m)
    throw new AppError("token_malformed", "The link is incomplete. Copy the whole link from the email.");
  const [, payload, mac] = m as unknown as [string, string, string];
  // crypto.subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), fromB64url(mac), enc.encode(payload));
  if (!ok) throw new AppError("token_invalid", "This link has been altered or was not issued by us.");
  let claims: { p?: unknown; s?: unknown; e?: unknown };
  try {
    claims = JSON.parse(new TextDecoder().decode(fromB64url(payload)));
  } catch {
    throw new AppError("token_invalid", "This link has been altered or was not issued by us.");
  }
  if (claims.p !== purpose || typeof claims.s !== "string" || typeof claims.e !== "number")
    throw new AppError("token_invalid", "This link is not meant for this page.");
  if (now > claims.e) throw new AppError("token_expired", "This link has expired.");
  return { subject: claims.s, expiresAt: claims.e };
}

const hex = (bytes: ArrayBuffer) =>
  [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** Hex SHA-256, for keys derived from personal data (idempotency keys) without storing it twice. */
export async function sha256Hex(text: string): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

/** Hex HMAC-SHA256 under `secret`: a keyed fingerprint that can't be reversed by hashing guesses. */
export async function hmacSha256Hex(secret: string, text: string): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", await hmacKey(secret), enc.encode(text)));
}
