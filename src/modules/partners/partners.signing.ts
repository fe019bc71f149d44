/**
 * Signing partners' webhook deliveries: Standard Webhooks (standardwebhooks.com, the scheme Svix
 * and Resend use), so a partner can verify with an off-the-shelf library or ten lines of code
 * (docs/webhooks.md).
 *
 * Rules:
 * - Headers: `webhook-id` (the event's id, the same on every retry: de-duplicate on it),
 *   `webhook-timestamp` (Unix seconds of this attempt) and `webhook-signature`: "v1,<base64>"
 *   where the MAC is HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" keyed with the
 *   base64 bytes after "whsec_". A receiver should refuse a timestamp more than 5 minutes from
 *   its clock (replay window) and compare signatures in constant time.
 * - Rotation: two signatures. For WEBHOOK_SECRET_GRACE_HOURS after a rotation the header carries
 *   both, "v1,<new> v1,<old>", space-separated; a receiver accepts the delivery if any one
 *   matches a secret it holds, so it can switch secrets whenever it likes within the window.
 * - Secrets are derived, never stored: HMAC(HKDF(TOKEN_SECRET, "speakup webhook secret"), nonce),
 *   the nonce being random and kept in partner_webhooks. A copy of the database alone can't sign.
 * - Everything is prepared from the row and the partner's webhook as they are at send time: the
 *   URL a partner corrected applies to deliveries still waiting; a switched-off webhook or an
 *   address we refuse to call ends the delivery (dead, visible to the partner, requeue-able).
 */
import { eq } from "drizzle-orm";
import { partners, partnerWebhooks } from "../../db/schema";
import type { outbox } from "../../db/schema.letters";
import type { Deps, WebhookRequest } from "../../deps";
import { derivedKey } from "../../lib/tokens";
import { checkWebhookUrl } from "../../lib/webhook-url";
import { svixSignature } from "../delivery/delivery.webhooks";

const enc = new TextEncoder();
const toBase64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/** The signing secret ("whsec_<base64 of 32 bytes>") a nonce stands for. */
export async function webhookSecret(config: Pick<Deps["config"], "TOKEN_SECRET">, nonce: string) {
  const key = await derivedKey(config.TOKEN_SECRET, "speakup webhook secret");
  return `whsec_${toBase64(await crypto.subtle.sign("HMAC", key, enc.encode(nonce)))}`;
}

/** The secrets deliveries are signed with now: the current one, and the previous during its grace. */
export async function signingSecrets(
  deps: Pick<Deps, "config">,
  hook: { secretNonce: string; previousNonce: string | null; previousUntil: number | null },
  now: number,
): Promise<string[]> {
  const out = [await webhookSecret(deps.config, hook.secretNonce)];
  if (hook.previousNonce && (hook.previousUntil ?? 0) > now)
    out.push(await webhookSecret(deps.config, hook.previousNonce));
  return out;
}

/** The `webhook-signature` header value for these secrets. */
export async function signatureHeader(secrets: string[], id: string, timestamp: string, body: string) {
  const sigs = await Promise.all(secrets.map((s) => svixSignature(s, id, timestamp, body)));
  return sigs.map((s) => `v1,${s}`).join(" ");
}

/** The body as sent: the event id first, then what was stored when the event happened. */
export function eventBody(row: Pick<typeof outbox.$inferSelect, "messageId" | "bodyText">): string | null {
  try {
    const stored = JSON.parse(row.bodyText) as Record<string, unknown>;
    if (!stored || typeof stored !== "object" || Array.isArray(stored)) return null;
    return JSON.stringify({ id: row.messageId, ...stored });
  } catch {
    return null; // scrubbed by an erasure while it was being sent
  }
}

export type Prepared = { ok: true; request: WebhookRequest } | { ok: false; reason: string };

/** The signed request for a claimed webhook row, or why it can't be sent at all. */
export async function prepareWebhookRequest(
  deps: Pick<Deps, "db" | "config" | "clock">,
  row: typeof outbox.$inferSelect,
): Promise<Prepared> {
  if (!row.partnerKey) return { ok: false, reason: "no partner" };
  const [hook] = await deps.db
    .select({
      url: partnerWebhooks.url,
      enabled: partnerWebhooks.enabled,
      secretNonce: partnerWebhooks.secretNonce,
      previousNonce: partnerWebhooks.previousNonce,
      previousUntil: partnerWebhooks.previousUntil,
      active: partners.active,
    })
    .from(partnerWebhooks)
    .innerJoin(partners, eq(partners.key, partnerWebhooks.partnerKey))
    .where(eq(partnerWebhooks.partnerKey, row.partnerKey));
  if (!hook) return { ok: false, reason: "the partner has no webhook any more" };
  if (!hook.enabled) return { ok: false, reason: "the webhook is switched off" };
  if (!hook.active) return { ok: false, reason: "the partner is switched off" };
  const allowPrivate = deps.config.WEBHOOK_ALLOW_PRIVATE;
  const verdict = checkWebhookUrl(hook.url, allowPrivate);
  if (!verdict.ok) return { ok: false, reason: `the URL ${verdict.reason}` };
  const body = eventBody(row);
  if (body === null) return { ok: false, reason: "the event was erased" };
  const now = deps.clock.now();
  const timestamp = String(Math.floor(now / 1000));
  const secrets = await signingSecrets(deps, hook, now);
  return {
    ok: true,
    request: {
      url: verdict.url.toString(),
      body,
      timeoutMs: deps.config.WEBHOOK_TIMEOUT_MS,
      allowPrivate,
      headers: {
        "content-type": "application/json",
        "user-agent": `speakup-webhooks/1 (+${deps.config.PUBLIC_URL})`,
        "webhook-id": row.messageId,
        "webhook-timestamp": timestamp,
        "webhook-signature": await signatureHeader(secrets, row.messageId, timestamp, body),
      },
    },
  };
}
