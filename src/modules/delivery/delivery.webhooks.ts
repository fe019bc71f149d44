/**
 * Bounce reports from the mail provider: Resend's webhooks, signed by Svix.
 *
 * Rules:
 * - The signature is checked before anything is read: HMAC-SHA256 over
 *   `${svix-id}.${svix-timestamp}.${raw body}` with the base64 key after `whsec_`, compared
 *   (constant time) with each `v1,<base64>` in svix-signature; a timestamp more than five minutes
 *   from our clock is refused too, so a captured request cannot be replayed later.
 * - `email.bounced` with bounce.type "Permanent" is a hard bounce of the message named by our
 *   `speakup_bounce` tag (the same signed token as the VERP address); "Transient" and
 *   "Undetermined" are soft. Every other event type is acknowledged and ignored.
 * - The answer tells Svix whether to retry: 2xx (done, or ignored on purpose), 401 (bad
 *   signature), 503 when the message is being sent at this very moment (try again shortly).
 * Web Crypto only, so the same code runs on Node and Workers.
 */
import { z } from "zod";
import type { Deps } from "../../deps";
import { AppError } from "../../lib/errors";
import { type BounceResult, recordBounce } from "./delivery.bounces";

/** Svix's tolerance for the svix-timestamp header. */
export const WEBHOOK_TOLERANCE_S = 5 * 60;
export const BOUNCE_TAG = "speakup_bounce";

const enc = new TextEncoder();

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const toBase64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The Svix signature of a body (what a sender puts after "v1,"). Exported for tests. */
export async function svixSignature(secret: string, id: string, timestamp: string, body: string) {
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return toBase64(await crypto.subtle.sign("HMAC", key, enc.encode(`${id}.${timestamp}.${body}`)));
}

export async function verifySvix(
  secret: string,
  headers: { id?: string; timestamp?: string; signature?: string },
  body: string,
  nowMs: number,
): Promise<boolean> {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_S) return false;
  const expected = await svixSignature(secret, id, timestamp, body);
  return signature
    .split(" ")
    .map((s) => s.split(","))
    .some(([version, sig]) => version === "v1" && !!sig && sameText(sig, expected));
}

/** The parts of Resend's event we read (payload shape: resend-node's EmailBouncedEvent). */
const ResendEvent = z.object({
  type: z.string(),
  created_at: z.string().optional(),
  data: z
    .object({
      email_id: z.string().optional(),
      bounce: z
        .object({ type: z.string(), subType: z.string().optional(), message: z.string().optional() })
        .optional(),
      // An object ({ name: value }) in Resend's webhooks; an array of { name, value } is accepted too.
      tags: z
        .union([z.record(z.string(), z.string()), z.array(z.object({ name: z.string(), value: z.string() }))])
        .optional(),
    })
    .passthrough(),
});

const tagValue = (tags: z.infer<typeof ResendEvent>["data"]["tags"], name: string) =>
  Array.isArray(tags) ? tags.find((t) => t.name === name)?.value : tags?.[name];

export type WebhookAnswer = { status: 200 | 503; result: BounceResult | "ignored" };

/** Check and act on one Resend webhook call. Throws signature_invalid (401) on a bad signature. */
export async function resendWebhook(
  deps: Deps,
  input: { body: string; headers: { id?: string; timestamp?: string; signature?: string } },
): Promise<WebhookAnswer> {
  const secret = deps.config.RESEND_WEBHOOK_SECRET;
  if (!secret) throw new AppError("not_found", "There is nothing at this address.");
  if (!(await verifySvix(secret, input.headers, input.body, deps.clock.now()))) {
    deps.logger.warn("webhook refused: bad or stale signature", { provider: "resend" });
    throw new AppError("signature_invalid");
  }
  let event: z.infer<typeof ResendEvent>;
  try {
    event = ResendEvent.parse(JSON.parse(input.body));
  } catch {
    deps.logger.warn("webhook ignored: not an event we understand", { provider: "resend" });
    return { status: 200, result: "ignored" };
  }
  if (event.type !== "email.bounced") return { status: 200, result: "ignored" };
  const token = tagValue(event.data.tags, BOUNCE_TAG);
  if (!token) {
    deps.logger.warn("bounce webhook without our tag ignored (not sent by this service?)", {
      provider: "resend",
    });
    return { status: 200, result: "unknown" };
  }
  const bounce = event.data.bounce;
  const result = await recordBounce(deps, {
    token,
    hard: bounce?.type === "Permanent",
    status: bounce ? `${bounce.type}${bounce.subType ? `/${bounce.subType}` : ""}` : undefined,
    detail: bounce?.message ?? "",
    source: "webhook",
  });
  return { status: result === "busy" ? 503 : 200, result };
}
