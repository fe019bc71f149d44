/**
 * Mail over a provider's HTTP API (the Workers transport; Workers can't open SMTP connections
 * through nodemailer). The request is Resend's `POST /emails` shape, which several providers
 * accept; MAIL_API_URL points at it and MAIL_API_KEY is sent as a Bearer token.
 *
 * Rules:
 * - The outbox row's Message-ID doubles as the provider's Idempotency-Key, so a retry after a
 *   lost response cannot send the letter twice (within the provider's idempotency window).
 * - The message's signed bounce token travels as a tag (`speakup_bounce`), which Resend echoes
 *   in its `email.bounced` webhook: the bounce comes back naming the message (see
 *   delivery.bounces.ts). Providers have their own return path, so there is no VERP here.
 * - What the API answered is reported as facts (HTTP status, Retry-After; "NETWORK" when no
 *   answer came); the shared classifyFailure decides: 401/403/404/429 and no answer pause the
 *   outbox (configuration or the provider itself), 400/422 refuse the message, 5xx retry it.
 * - Nothing personal is logged; errors carry the status and the provider's short message.
 */
import type { Mailer, MailMessage } from "../../deps";
import { formatAddress, MailError } from "../../modules/delivery/delivery.mail";
import { BOUNCE_TAG } from "../../modules/delivery/delivery.webhooks";

export type MailApiOptions = {
  url: string;
  apiKey?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
};

export function mailApiMailer(opts: MailApiOptions): Mailer {
  const doFetch = opts.fetch ?? globalThis.fetch;
  return {
    async send(m: MailMessage) {
      const body = {
        from: formatAddress(m.from),
        to: [m.to.address],
        reply_to: m.replyTo ? [formatAddress(m.replyTo)] : undefined,
        subject: m.subject,
        text: m.text,
        headers: { "Message-ID": m.messageId },
        tags: m.bounceToken ? [{ name: BOUNCE_TAG, value: m.bounceToken }] : undefined,
      };
      let res: Response;
      try {
        res = await doFetch(opts.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json",
            "idempotency-key": m.messageId,
            ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (e) {
        const what = e instanceof Error && e.name === "TimeoutError" ? "timed out" : "network error";
        throw new MailError(`mail API ${what}`, { errorCode: "NETWORK", command: "CONN" });
      }
      const text = await res.text();
      if (!res.ok) {
        const retryAfter = Number(res.headers.get("retry-after"));
        throw new MailError(`mail API answered HTTP ${res.status}: ${text.slice(0, 160)}`, {
          httpStatus: res.status,
          retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
        });
      }
      let id: string | undefined;
      try {
        id = (JSON.parse(text) as { id?: string }).id;
      } catch {
        // Accepted (2xx) is what matters; an unreadable body doesn't make the send fail.
      }
      return { messageId: m.messageId, response: `${res.status} ${id ?? "accepted"}` };
    },
  };
}
