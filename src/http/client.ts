/**
 * The one place that decides who a request is from. Every limit and every "is this local?"
 * question reads `c.var.client`, set here once per request.
 *
 * Rules:
 * - The peer is what the runtime says connected (deps.network): the socket on Node, Cloudflare's
 *   CF-Connecting-IP on Workers. No header is believed on its own.
 * - X-Forwarded-For is read only when the peer is a trusted proxy (TRUSTED_PROXY), right to left:
 *   each trusted hop vouches for the one before it, and the first address that is not a trusted
 *   proxy is the client. Anything malformed stops the walk at the last address we could trust.
 * - IPv4-mapped IPv6 (::ffff:1.2.3.4, what a dual-stack Node socket reports) is the IPv4 address.
 * - Limits key IPv6 clients by their /64: one household or phone gets a whole /64, so keying by
 *   the full address would let one person rotate through 2^64 of them.
 */
import type { Context, MiddlewareHandler } from "hono";
import ipaddr from "ipaddr.js";
import type { Config } from "../env";
import type { AppEnv } from "./types";

export type ClientAddress = {
  /** The client's address, normalised; undefined when the runtime could not tell. */
  ip: string | undefined;
  /** What per-address limits count by: the IPv4 address, the IPv6 /64, or "unknown". */
  key: string;
  /** The client is this machine (loopback), reached directly, not through a proxy. */
  loopback: boolean;
};

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];
const rangesByConfig = new WeakMap<object, Range[]>();

function trustedRanges(config: Pick<Config, "TRUSTED_PROXY">): Range[] {
  let ranges = rangesByConfig.get(config);
  if (!ranges) {
    ranges = config.TRUSTED_PROXY.map((cidr) => ipaddr.parseCIDR(cidr) as Range);
    rangesByConfig.set(config, ranges);
  }
  return ranges;
}

/** A strictly formed address (no "1.2.3", "0x7f.1" or similar), as ipaddr, IPv4-mapped unwrapped. */
export function parseIp(raw: string | undefined): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  if (!raw) return undefined;
  let s = raw.trim();
  // "[2001:db8::1]:443", "1.2.3.4:5678" (some proxies add the port), "fe80::1%eth0" (zone).
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(s);
  if (bracketed?.[1]) s = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(s)) s = s.slice(0, s.lastIndexOf(":"));
  s = s.replace(/%[\w.-]+$/, "");
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  if (ipaddr.IPv6.isValid(s)) return ipaddr.process(s);
  return undefined;
}

const inRanges = (ip: ipaddr.IPv4 | ipaddr.IPv6, ranges: Range[]) =>
  ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));

/** The /64 of an IPv6 address, the address itself for IPv4. */
export function limitKey(ip: ipaddr.IPv4 | ipaddr.IPv6 | undefined): string {
  if (!ip) return "unknown";
  if (ip.kind() === "ipv4") return ip.toString();
  const parts = (ip as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/** Resolve the client from the peer address and (only from trusted proxies) X-Forwarded-For. */
export function resolveClient(
  config: Pick<Config, "TRUSTED_PROXY">,
  peerAddress: string | undefined,
  forwardedFor: string | undefined,
): ClientAddress {
  const ranges = trustedRanges(config);
  let ip = parseIp(peerAddress);
  let proxied = false;
  if (ip && forwardedFor && inRanges(ip, ranges)) {
    const hops = forwardedFor.split(",");
    // Bounded: a client can pad the header, but only what trusted proxies appended is walked.
    for (let i = hops.length - 1; i >= 0 && i >= hops.length - 32; i--) {
      const hop = parseIp(hops[i]);
      if (!hop) break;
      ip = hop;
      proxied = true;
      if (!inRanges(hop, ranges)) break;
    }
  }
  return {
    ip: ip?.toString(),
    key: limitKey(ip),
    loopback: !!ip && !proxied && ip.range() === "loopback",
  };
}

/** Sets `c.var.client` for every request. */
export const clientAddress: MiddlewareHandler<AppEnv> = async (c, next) => {
  const deps = c.var.deps;
  c.set(
    "client",
    resolveClient(
      deps.config,
      deps.network.peerAddress(c.req.raw, c.env),
      c.req.header("x-forwarded-for") ?? undefined,
    ),
  );
  await next();
};

export const clientOf = (c: Context<AppEnv>): ClientAddress =>
  c.get("client") ?? { ip: undefined, key: "unknown", loopback: false };

/** Node: the socket's address, from @hono/node-server's bindings (`c.env.incoming`). */
export const socketPeer = (_request: Request, env: unknown): string | undefined =>
  (env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket
    ?.remoteAddress;

/** Workers: Cloudflare's edge sets CF-Connecting-IP and overwrites any copy a client sends. */
export const cloudflarePeer = (request: Request): string | undefined =>
  request.headers.get("cf-connecting-ip") ?? undefined;

/** Headers a proxy adds: a request carrying one came through something we don't know about. */
export function looksProxied(c: Context<AppEnv>): boolean {
  return ["x-forwarded-for", "forwarded", "x-real-ip", "x-forwarded-host", "via"].some(
    (h) => c.req.header(h) !== undefined,
  );
}
