/**
 * Service mail for pledges and privacy requests (confirm links, MP verification links, export
 * and erasure links), rendered from templates/emails/pledge-*.txt.hbs.
 *
 * Each message is queued as one `service` outbox row, so the outbox worker sends it like every
 * other email: retried with backoff when the relay fails, marked dead after
 * OUTBOX_MAX_ATTEMPTS, stored instead of sent in MAIL_MODE=capture. `reflectTo` is the
 * recipient's own address: service mail is never redirected to anyone else (for a
 * representative there is no safe place to reflect to, so callers don't queue their link in
 * reflect mode at all). Erasure and retention remove these rows (their bodies carry links).
 * Callers put the row in the same atomic write as the change it announces (serviceMailRow), so a
 * supporter is never told "check your email" when no mail was queued, and no mail goes out for
 * a change that was not made.
 */
import type { Deps } from "../../deps";
import { announceInserted, insertOutbox } from "../delivery/delivery.machine";
import { type NewOutboxRow, outboxRow } from "../delivery/delivery.outbox";

export type ServiceMailTemplate =
  | "emails/pledge-confirm.txt"
  | "emails/pledge-rep-verify.txt"
  | "emails/pledge-privacy-export.txt"
  | "emails/pledge-privacy-erase.txt"
  | "emails/partner-invite.txt";

export type ServiceMail = {
  to: { name?: string; address: string };
  subject: string;
  template: ServiceMailTemplate;
  data: object;
};

/**
 * The outbox row for one service mail, rendered, for the caller's atomic write. It comes from the
 * campaign file's hashtag, so a re-skinned campaign's mail carries its own name.
 */
export function serviceMailRow(
  deps: Pick<Deps, "templates" | "config" | "ids" | "clock">,
  mail: ServiceMail,
): NewOutboxRow {
  const text = deps.templates.render(mail.template, {
    ...mail.data,
    publicUrl: deps.config.PUBLIC_URL,
    controller: deps.config.PRIVACY_CONTROLLER,
  });
  return outboxRow(deps, {
    kind: "service",
    letterId: null,
    state: "queued",
    toName: mail.to.name ?? null,
    toEmail: mail.to.address,
    reflectTo: mail.to.address,
    fromName: deps.config.campaign.hashtag,
    subject: mail.subject,
    bodyText: text,
  });
}

/**
 * Queue one service mail on its own. A failure is thrown (a database fault is a 503), never
 * swallowed: the caller must not tell anyone to check their email.
 */
export async function sendServiceMail(
  deps: Pick<Deps, "db" | "templates" | "config" | "ids" | "clock" | "logger" | "outboxQueue">,
  mail: ServiceMail,
): Promise<true> {
  const row = serviceMailRow(deps, mail);
  await insertOutbox(deps, [row]);
  await announceInserted(deps, [row]);
  return true;
}
