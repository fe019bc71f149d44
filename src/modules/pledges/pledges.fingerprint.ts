/**
 * A keyed fingerprint of a normalised email address: HMAC-SHA256(TOKEN_SECRET, "email:" + address),
 * hex. Used for the suppression list (kept after erasure) and to join pledges to it, so the
 * list never holds an address and can't be reversed by hashing a list of guesses without the key.
 * Changing TOKEN_SECRET orphans existing fingerprints: rotate with care.
 */
import { hmacSha256Hex } from "../../lib/tokens";

export const emailFingerprint = (secret: string, emailNorm: string): Promise<string> =>
  hmacSha256Hex(secret, `email:${emailNorm}`);
