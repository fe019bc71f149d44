/**
 * Email addresses as people type them, and the one key per mailbox that limits, pledges and
 * privacy requests are counted by.
 *
 * Rules:
 * - One addr-spec only: no display name, no second address, no whitespace or control characters
 *   anywhere (so nothing can reach a mail header but the address itself).
 * - RFC 5321 lengths: at most 64 octets before the @ and 254 in all (counted on the ASCII form).
 * - International domains are accepted: the domain is converted to its ASCII (punycode) form by
 *   the URL parser (IDNA, the same on Node and Workers) for validation and de-duplication; the
 *   address as typed (trimmed, NFC) is what mail is sent to.
 * - The key (`canonical`): the local part lower-cased and the ASCII domain lower-cased, plus what
 *   the mailbox's own provider ignores: dots for Gmail (googlemail.com is gmail.com), and a
 *   `+tag` for providers documented to deliver `name+tag` to `name`. Elsewhere a `+tag` is kept:
 *   at a domain without plus addressing `name+tag` is another mailbox, possibly someone else's.
 */
import { z } from "zod";

export const MAX_EMAIL_LENGTH = 254;
export const MAX_LOCAL_PART = 64;

/** Providers that deliver `name+tag@` to `name@` (their documentation says so). */
const PLUS_ADDRESSING = new Set([
  "gmail.com",
  "outlook.com",
  "hotmail.com",
  "hotmail.co.uk",
  "live.com",
  "live.co.uk",
  "msn.com",
  "icloud.com",
  "me.com",
  "mac.com",
  "fastmail.com",
  "fastmail.fm",
  "proton.me",
  "protonmail.com",
  "pm.me",
]);
/** Providers whose mailboxes ignore dots in the local part. */
const DOTS_IGNORED = new Set(["gmail.com"]);
const DOMAIN_ALIASES: Record<string, string> = { "googlemail.com": "gmail.com" };

export type ParsedEmail = {
  /** As typed (trimmed, NFC): the address mail is sent to. */
  address: string;
  /** Local part as typed, domain in ASCII (punycode) and lower case. */
  ascii: string;
  /** One key per mailbox: for uniqueness, limits, privacy requests and fingerprints. */
  canonical: string;
};

const utf8Length = (s: string) => new TextEncoder().encode(s).length;
// Controls (C0, DEL, C1), every kind of space and line separator, and the characters that
// separate addresses or open a display name.
const FORBIDDEN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
  /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff<>,;"()[\]\\]/u;

function asciiDomain(domain: string): string | null {
  if (!domain || domain.length > 255 || /[/?#:@%]/.test(domain)) return null;
  try {
    const host = new URL(`http://${domain}`).hostname;
    // An IP literal or a bare name is not a mail domain people type.
    if (!host.includes(".") || host.startsWith("[") || /^[\d.]+$/.test(host) || host.endsWith("."))
      return null;
    return host;
  } catch {
    return null;
  }
}

/** Parse one address, or say why not (a message for the form). */
export function parseEmail(input: string): ParsedEmail | { error: string } {
  const address = input.normalize("NFC").trim();
  if (!address) return { error: "enter your email address" };
  if (FORBIDDEN.test(address))
    return { error: "enter one email address, such as jane@example.org, without spaces or a name" };
  const at = address.lastIndexOf("@");
  if (at <= 0 || address.indexOf("@") !== at)
    return { error: "enter an email address such as jane@example.org" };
  const local = address.slice(0, at);
  const domain = asciiDomain(address.slice(at + 1));
  if (utf8Length(local) > MAX_LOCAL_PART)
    return { error: `the part before the @ is at most ${MAX_LOCAL_PART} characters` };
  if (!domain) return { error: "the part after the @ is not a domain, such as example.org" };
  const ascii = `${local}@${domain}`;
  if (utf8Length(ascii) > MAX_EMAIL_LENGTH)
    return { error: `an email address is at most ${MAX_EMAIL_LENGTH} characters` };
  if (!z.email().safeParse(ascii).success)
    return { error: "enter an email address such as jane@example.org" };
  return { address, ascii, canonical: canonicalOf(local, domain) };
}

function canonicalOf(local: string, asciiDomainLower: string): string {
  const domain = DOMAIN_ALIASES[asciiDomainLower] ?? asciiDomainLower;
  let l = local.toLowerCase();
  if (PLUS_ADDRESSING.has(domain)) l = l.replace(/\+.*$/, "");
  if (DOTS_IGNORED.has(domain)) l = l.replace(/\./g, "");
  // "+x@gmail.com" would leave nothing: keep what was typed rather than an empty local part.
  return `${l || local.toLowerCase()}@${domain}`;
}

/**
 * The key of an address already stored (as typed). Old rows and anything unparseable fall back
 * to trimmed lower case, which is what keys were before canonical forms.
 */
export function emailKey(address: string): string {
  const p = parseEmail(address);
  return "error" in p ? address.trim().toLowerCase() : p.canonical;
}

/**
 * The zod field for an email address on every form and API: one addr-spec, RFC lengths, IDN.
 * Output: the address as typed (trimmed, NFC), for sending; services key it with `emailKey`.
 */
export const EmailField = z
  .string()
  .max(1000, "an email address is at most 254 characters")
  .transform((s, ctx) => {
    const p = parseEmail(s);
    if ("error" in p) {
      ctx.addIssue({ code: "custom", message: p.error });
      return z.NEVER;
    }
    return p.address;
  });
