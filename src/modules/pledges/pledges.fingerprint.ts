/**
 * A keyed fingerprint of a normalised email address: HMAC-SHA256(TOKEN_SECRET, "email:" + address),
 * hex. Used for the suppression list (kept after erasure) and to join pledges to it, so the
 * list never holds an address and can't be reversed by hashing a list of guesses without the key.
 * Changing TOKEN_SECRET orphans existing fingerprints: rotate with care.
 */
const keys = new Map<string, Promise<CryptoKey>>();

export async function emailFingerprint(secret: string, emailNorm: string): Promise<string> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    keys.set(secret, key);
  }
  const mac = await crypto.subtle.sign("HMAC", await key, new TextEncoder().encode(`email:${emailNorm}`));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
