/**
 * Webhook deliveries on Node: one POST with node:http(s), never following a redirect.
 *
 * SSRF guard: the URL is checked (lib/webhook-url.ts), and the connection's own DNS lookup is
 * replaced by one that refuses any answer that is not a public address. The check is on the
 * address the socket actually connects to, so a name that resolves to a public address when the
 * URL is saved and to 127.0.0.1 at send time (DNS rebinding) is still refused.
 *
 * The response: only its status is kept. The body is not read (the socket is destroyed once the
 * status line and headers are in), so a hostile endpoint can't make us buffer or store anything.
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { WebhookOutcome, WebhookRequest, WebhookTransport } from "../../deps";
import { checkWebhookUrl, isPublicAddress } from "../../lib/webhook-url";

class RefusedAddress extends Error {
  override name = "RefusedAddress";
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** dns.lookup, refusing every answer unless all its addresses are public (or private ones are allowed). */
function guardedLookup(allowPrivate: boolean, resolve: typeof dnsLookup) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    resolve(hostname, { family: options.family ?? 0, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !isPublicAddress(a.address));
      if (!list.length || (bad && !allowPrivate))
        return callback(
          new RefusedAddress(`${hostname} resolves to ${bad?.address ?? "nothing"}, not a public address`),
          [],
        );
      if (options.all) return callback(null, list);
      const first = list[0] as LookupAddress;
      callback(null, first.address, first.family);
    });
  };
}

/** `resolve` is the system resolver; tests pass one that answers as a hostile DNS would. */
export function nodeWebhookTransport(opts: { resolve?: typeof dnsLookup } = {}): WebhookTransport {
  const resolver = opts.resolve ?? dnsLookup;
  return {
    post(req: WebhookRequest): Promise<WebhookOutcome> {
      const verdict = checkWebhookUrl(req.url, req.allowPrivate);
      if (!verdict.ok) return Promise.resolve({ kind: "refused", detail: `the URL ${verdict.reason}` });
      const url = verdict.url;
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      return new Promise<WebhookOutcome>((settle) => {
        let settled = false;
        let deadline: ReturnType<typeof setTimeout> | undefined;
        const done = (o: WebhookOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          settle(o);
        };
        const r = send(
          url,
          {
            method: "POST",
            headers: { ...req.headers, "content-length": String(Buffer.byteLength(req.body)) },
            lookup: guardedLookup(req.allowPrivate, resolver) as never,
            // No connection reuse: each delivery stands alone (and a slow endpoint holds nothing).
            agent: false,
          },
          (res) => {
            done({ kind: "status", status: res.statusCode ?? 0 });
            res.destroy();
          },
        );
        // The whole attempt (connect, TLS, send, status line) must finish within the timeout.
        deadline = setTimeout(() => {
          done({ kind: "timeout", detail: `no answer within ${req.timeoutMs} ms` });
          r.destroy();
        }, req.timeoutMs);
        r.on("error", (e) => {
          if (e instanceof RefusedAddress) done({ kind: "refused", detail: e.message });
          else done({ kind: "network", detail: (e as NodeJS.ErrnoException).code ?? e.message });
        });
        r.end(req.body);
      });
    },
  };
}
