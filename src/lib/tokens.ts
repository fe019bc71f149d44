/**
 * Keys, signed link tokens and keyed fingerprints (crypto.subtle only, so the same code runs on
 * Node and Workers).
 *
 * Keys: TOKEN_SECRET is a root secret and is never used as a key itself. HKDF-SHA256 derives one
 * key per use, so each can change (or leak) without touching the others:
 * - link keys, one per key id ("speakup link <kid>"): sign emailed links. The kid travels in the
 *   token, so after LINK_KEY_ID changes, links signed under an id listed in LINK_KEY_IDS_PREVIOUS
 *   keep verifying until they expire.
 * - the fingerprint key ("speakup fingerprint"): keyed hashes of email addresses (the suppression
 *   list). It does not depend on the link key id, so rotating link keys never orphans the list.
 * - the pseudonym key ("speakup pseudonym"): keys of rate-limit counters (client addresses,
 *   accounts), so those tables hold no address that a list of guesses could recover.
 *
 * A token is `kid "." base64url(JSON {p, s, e}) "." base64url(mac)`, the MAC over `kid.payload`:
 * p = purpose ("letter.confirm"), s = subject id (random, never sequential), e = expiry (ms).
 * The purpose is inside the MAC, so a token minted for one action can never be replayed against
 * another. Tokens carry ids, never personal data. Expiry is checked after the MAC, so "expired" is
 * only ever said about a token we issued.
 */
import { AppError } from "./errors";

const enc = new TextEncoder();
const SALT = enc.encode("speakup/hkdf/v1");
const DEFAULT_KEY_ID = "1";

/** What signing and verifying need from config; a bare string is a root secret with key id "1". */
export type LinkKeys = { TOKEN_SECRET: string; LINK_KEY_ID?: string; LINK_KEY_IDS_PREVIOUS?: string[] };

const keyCache = new Map<string, Promise<CryptoKey>>();

/** HMAC-SHA256 key derived from `secret` for one `purpose` (HKDF-SHA256, fixed salt). */
export function derivedKey(secret: string, purpose: string): Promise<CryptoKey> {
  const cacheKey = `${purpose}\u0000${secret}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = (async () => {
      const root = await crypto.subtle.importKey("raw", enc.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: SALT, info: enc.encode(purpose) },
        root,
        { name: "HMAC", hash: "SHA-256", length: 256 },
        false,
        ["sign", "verify"],
      );
    })();
    keyCache.set(cacheKey, key);
  }
  return key;
}

const linkKey = (secret: string, kid: string) => derivedKey(secret, `speakup link ${kid}`);

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

const asKeys = (keys: string | LinkKeys): LinkKeys =>
  typeof keys === "string" ? { TOKEN_SECRET: keys } : keys;

export type TokenClaims = { purpose: string; subject: string; expiresAt: number };

export async function signToken(keys: string | LinkKeys, claims: TokenClaims): Promise<string> {
  const k = asKeys(keys);
  const kid = k.LINK_KEY_ID ?? DEFAULT_KEY_ID;
  const payload = b64url(
    enc.encode(JSON.stringify({ p: claims.purpose, s: claims.subject, e: claims.expiresAt })),
  );
  const signed = `${kid}.${payload}`;
  const mac = await crypto.subtle.sign("HMAC", await linkKey(k.TOKEN_SECRET, kid), enc.encode(signed));
  return `${signed}.${b64url(new Uint8Array(mac))}`;
}

const altered = () => new AppError("token_invalid", "This link has been altered or was not issued by us.");

/**
 * Verify a token for `purpose` at time `now`. Throws token_malformed (not a token at all),
 * token_invalid (bad MAC, unknown or retired key id, another purpose) or token_expired; returns
 * the subject id.
 */
export async function verifyToken(
  keys: string | LinkKeys,
  token: string,
  purpose: string,
  now: number,
): Promise<{ subject: string; expiresAt: number }> {
  const k = asKeys(keys);
  const m = /^([A-Za-z0-9]{1,16})\.([A-Za-z0-9_-]{8,1024})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m)
    throw new AppError("token_malformed", "The link is incomplete. Copy the whole link from the email.");
  const [, kid, payload, mac] = m as unknown as [string, string, string, string];
  const current = k.LINK_KEY_ID ?? DEFAULT_KEY_ID;
  // Same work whether or not the key id is known, so timing says nothing about which ids exist.
  const known = kid === current || (k.LINK_KEY_IDS_PREVIOUS ?? []).includes(kid);
  const key = await linkKey(k.TOKEN_SECRET, known ? kid : current);
  // crypto.subtle.verify compares in constant time.
  const ok = await crypto.subtle.verify("HMAC", key, fromB64url(mac), enc.encode(`${kid}.${payload}`));
  if (!ok || !known) throw altered();
  let claims: { p?: unknown; s?: unknown; e?: unknown };
  try {
    claims = JSON.parse(new TextDecoder().decode(fromB64url(payload)));
  } catch {
    throw altered();
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

/** Hex HMAC-SHA256 of `text` under the key derived from `secret` for `purpose`. */
export async function keyedHex(secret: string, purpose: string, text: string): Promise<string> {
  return hex(await crypto.subtle.sign("HMAC", await derivedKey(secret, purpose), enc.encode(text)));
}

/** A keyed fingerprint (suppression list, pledge join): can't be reversed by hashing guesses. */
export const fingerprint = (secret: string, text: string) => keyedHex(secret, "speakup fingerprint", text);

/** A stable pseudonym for a rate-limit key (an address, an account), under its own derived key. */
export const pseudonym = (secret: string, text: string) =>
  keyedHex(secret, "speakup pseudonym", text).then((h) => h.slice(0, 32));

/** 128 random bits, base64url: ids that go into links (never sequential, never guessable). */
export function randomId(): string {
  return b64url(crypto.getRandomValues(new Uint8Array(16)));
}
