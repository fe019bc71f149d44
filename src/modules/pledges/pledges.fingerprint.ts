/**
 * A keyed fingerprint of a normalised email address: HMAC-SHA256 under the fingerprint key
 * (derived from TOKEN_SECRET with HKDF, see lib/tokens.ts) of "email:" + address, hex. Used for
 * the suppression list (kept after erasure) and to join pledges to it, so the list never holds an
 * address and can't be reversed by hashing a list of guesses without the key. The key does not
 * depend on the link key id: rotating link keys (LINK_KEY_ID) leaves every fingerprint valid.
 */
import { fingerprint } from "../../lib/tokens";

export const emailFingerprint = (secret: string, emailNorm: string): Promise<string> =>
  fingerprint(secret, `email:${emailNorm}`);
