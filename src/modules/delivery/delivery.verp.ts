/**
 * VERP: each message's envelope sender (Return-Path) carries a signed token naming the outbox
 * row, `bounces+<token>@domain`, so a bounce report comes back to exactly that message without
 * our having to parse anything the remote server chose to quote.
 *
 * Rules:
 * - token = the row id (32 hex digits, the UUID without dashes) + the first 16 hex digits of an
 *   HMAC-SHA256 of it under a key derived from TOKEN_SECRET for this purpose alone (HKDF,
 *   "speakup bounce", lib/tokens.ts). Hex only: it survives relays that
 *   lower-case local parts, and fits Resend's tag alphabet. 48 characters, so the base
 *   address's local part may have at most 15 (RFC 5321 allows 64); parseEnv checks.
 * - A token whose MAC does not match is forged (or from another installation): ignored and
 *   logged by the caller, never trusted. The comparison is constant-time.
 * - The derived key keeps these MACs apart from every other use of TOKEN_SECRET (links,
 *   fingerprints), and does not change when link keys are rotated (LINK_KEY_ID): a bounce for a
 *   message sent before a rotation still names it.
 */
import type { Config } from "../../env";
import { keyedHex } from "../../lib/tokens";

export const BOUNCE_PURPOSE = "speakup bounce";
const MAC_HEX = 16;
export const BOUNCE_TOKEN_LENGTH = 32 + MAC_HEX;
/** Longest local part of the base address that leaves room for "+token" within 64. */
export const MAX_BOUNCE_LOCAL_PART = 64 - 1 - BOUNCE_TOKEN_LENGTH;

const mac = async (secret: string, hex: string) =>
  (await keyedHex(secret, BOUNCE_PURPOSE, hex)).slice(0, MAC_HEX);

/** The token for an outbox row, or null when its id is not a UUID (then no VERP). */
export async function bounceToken(secret: string, outboxId: string): Promise<string | null> {
  const hex = outboxId.replace(/-/g, "").toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return null;
  return hex + (await mac(secret, hex));
}

function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type TokenCheck = { ok: true; outboxId: string } | { ok: false; why: "malformed" | "forged" };

/** Check a token's MAC; gives back the outbox row id it names. */
export async function readBounceToken(secret: string, token: string): Promise<TokenCheck> {
  const t = token.trim().toLowerCase();
  if (!new RegExp(`^[0-9a-f]{${BOUNCE_TOKEN_LENGTH}}$`).test(t)) return { ok: false, why: "malformed" };
  const hex = t.slice(0, 32);
  if (!sameText(t.slice(32), await mac(secret, hex))) return { ok: false, why: "forged" };
  const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { ok: true, outboxId: id };
}

/** The base address bounces come back to: BOUNCE_ADDRESS, else MAIL_FROM. */
export const bounceBase = (config: Pick<Config, "BOUNCE_ADDRESS" | "MAIL_FROM">) =>
  (config.BOUNCE_ADDRESS ?? config.MAIL_FROM).toLowerCase();

/** `local+token@domain` for the configured base address. */
export function verpAddress(config: Pick<Config, "BOUNCE_ADDRESS" | "MAIL_FROM">, token: string): string {
  const base = bounceBase(config);
  const at = base.lastIndexOf("@");
  return `${base.slice(0, at)}+${token}@${base.slice(at + 1)}`;
}

/**
 * The token in a recipient address of a bounce, if the address is one of ours
 * (`local+token@domain` for the base address, any case); null otherwise.
 */
export function tokenFromAddress(
  config: Pick<Config, "BOUNCE_ADDRESS" | "MAIL_FROM">,
  address: string,
): string | null {
  const base = bounceBase(config);
  const at = base.lastIndexOf("@");
  const local = base.slice(0, at);
  const domain = base.slice(at + 1);
  const a = address.trim().toLowerCase();
  const m = /^([^@]+)\+([^@+]+)@([^@]+)$/.exec(a);
  if (!m || m[1] !== local || m[3] !== domain) return null;
  return m[2] ?? null;
}
