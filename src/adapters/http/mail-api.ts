/**
 * Mail over a provider's HTTP API (the Workers transport; Workers can't open SMTP connections
 * through nodemailer). The request is Resend's `POST /emails` shape, which several providers
 * accept; MAIL_API_URL points at it and MAIL_API_KEY is sent as a Bearer token.
 *
 * Rules:
 * - The outbox row's Message-ID doubles as the provider's Idempotency-Key, so a retry after a
 *   lost response cannot send the letter twice.
 * - 400/422 mean the provider refuses this message: permanent (the row is bounced/dead).
 *   Anything else that fails (network, timeout, 401/403 misconfiguration, 429, 5xx) is
 *   temporary, so the outbox retries with backoff while someone fixes it.
 * - Nothing personal is logged; errors carry the status and the provider's short message.
 */
import type { Mailer, MailMessage } from "../../deps";
import { formatAddress, MailError } from "../../modules/delivery/delivery.mail";

export type MailApiOptions = {
  url: string;
  apiKey?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
};

const PERMANENT = new Set([400, 422]);

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
        throw new MailError(`mail API ${what}`, false, undefined, "CONN");
      }
      const text = await res.text();
      if (!res.ok) {
        throw new MailError(
          `mail API answered HTTP ${res.status}: ${text.slice(0, 200)}`,
          PERMANENT.has(res.status),
          res.status,
          "API",
        );
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
