/**
 * Webhook deliveries with fetch (Workers). One POST, `redirect: "manual"` (a 3xx is an answer,
 * never followed), aborted after the timeout, the response body cancelled unread.
 *
 * SSRF guard: the URL is checked before the request (lib/webhook-url.ts: https, no literal
 * private or loopback address, no local names). A Worker can't resolve names itself; Cloudflare's
 * network does not connect Workers' subrequests to private address space, which covers a public
 * name that resolves to a private address.
 */
import type { WebhookOutcome, WebhookRequest, WebhookTransport } from "../../deps";
import { checkWebhookUrl } from "../../lib/webhook-url";

export function fetchWebhookTransport(fetchImpl: typeof fetch = fetch): WebhookTransport {
  return {
    async post(req: WebhookRequest): Promise<WebhookOutcome> {
      const verdict = checkWebhookUrl(req.url, req.allowPrivate);
      if (!verdict.ok) return { kind: "refused", detail: `the URL ${verdict.reason}` };
      try {
        const res = await fetchImpl(verdict.url.toString(), {
          method: "POST",
          headers: req.headers,
          body: req.body,
          redirect: "manual",
          signal: AbortSignal.timeout(req.timeoutMs),
        });
        await res.body?.cancel().catch(() => {});
        return { kind: "status", status: res.status };
      } catch (e) {
        const name = (e as Error).name;
        if (name === "TimeoutError" || name === "AbortError")
          return { kind: "timeout", detail: `no answer within ${req.timeoutMs} ms` };
        return { kind: "network", detail: (e as Error).message.slice(0, 200) };
      }
    },
  };
}
