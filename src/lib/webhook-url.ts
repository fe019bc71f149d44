/**
 * Where a partner's webhook may point. Runtime-neutral (ipaddr.js only), used when a URL is
 * saved and again by each transport right before it connects.
 *
 * Rules (SSRF: a webhook URL is a request we make on a partner's say-so):
 * - https only; http only when WEBHOOK_ALLOW_PRIVATE is on (tests and local development, which
 *   env.ts refuses unless the service itself runs on loopback).
 * - No user name or password in the URL (they would end up in logs and headers).
 * - An address, whether written in the URL or what its name resolves to, must be a public
 *   unicast address: not loopback, private (RFC 1918, unique local), link-local (cloud metadata
 *   at 169.254.169.254), carrier-grade NAT, multicast, reserved, or an IPv4-mapped or NAT64 form
 *   of one of those. Names that only mean this machine or its network (localhost, *.local,
 *   *.internal) are refused before any lookup.
 * The WHATWG URL parser has already turned "2130706433" or "0x7f.1" into 127.0.0.1, so the check
 * sees the address a connection would use.
 */
import ipaddr from "ipaddr.js";

export type UrlVerdict = { ok: true; url: URL } | { ok: false; reason: string };

const LOCAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/** A literal IPv4 or IPv6 address (brackets stripped), as ipaddr; undefined for a name. */
function literal(host: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  const h = host.replace(/^\[|\]$/g, "");
  if (ipaddr.IPv4.isValidFourPartDecimal(h)) return ipaddr.IPv4.parse(h);
  if (ipaddr.IPv6.isValid(h)) return ipaddr.process(h);
  return undefined;
}

/** A global unicast address: anything else (loopback, private, link-local, ...) is refused. */
export function isPublicAddress(address: string): boolean {
  const ip = literal(address);
  return !!ip && ip.range() === "unicast";
}

export function checkWebhookUrl(raw: string, allowPrivate: boolean): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: "not a web address" };
  }
  if (url.protocol !== "https:" && !(allowPrivate && url.protocol === "http:"))
    return { ok: false, reason: "must start with https://" };
  if (url.username || url.password) return { ok: false, reason: "must not contain a user name or password" };
  if (!url.hostname) return { ok: false, reason: "has no host name" };
  if (url.hash) return { ok: false, reason: "must not contain a #fragment" };
  if (!allowPrivate) {
    const ip = literal(url.hostname);
    if (ip && ip.range() !== "unicast")
      return { ok: false, reason: `points at a ${ip.range()} address, which is not on the public internet` };
    const name = url.hostname.replace(/\.$/, "");
    if (!ip && (LOCAL_NAMES.test(name) || !name.includes(".")))
      return { ok: false, reason: "names a host that is not on the public internet" };
  }
  return { ok: true, url };
}
