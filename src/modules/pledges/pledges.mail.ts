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
 * A failed insert is logged (without the address) and reported to the caller, who decides
 * whether the supporter may ask again.
 */
import { outbox } from "../../db/schema.letters";
import type { Deps } from "../../deps";
import { outboxRow } from "../delivery/delivery.outbox";

export type ServiceMailTemplate =
  | "emails/pledge-confirm.txt"
  | "emails/pledge-rep-verify.txt"
  | "emails/pledge-privacy-export.txt"
  | "emails/pledge-privacy-erase.txt";

export type ServiceMail = {
  to: { name?: string; address: string };
  subject: string;
  template: ServiceMailTemplate;
  data: object;
};

export const SERVICE_FROM_NAME = "#SpeakUpForBabies";

/** Queue the message in the outbox. True when queued; false (logged) when the insert failed. */
export async function sendServiceMail(
  deps: Pick<Deps, "db" | "templates" | "config" | "ids" | "clock" | "logger">,
  mail: ServiceMail,
): Promise<boolean> {
  const text = deps.templates.render(mail.template, {
    ...mail.data,
    publicUrl: deps.config.PUBLIC_URL,
    controller: deps.config.PRIVACY_CONTROLLER,
  });
  try {
    await deps.db.insert(outbox).values(
      outboxRow(deps, {
        kind: "service",
        letterId: null,
        state: "queued",
        toName: mail.to.name ?? null,
        toEmail: mail.to.address,
        reflectTo: mail.to.address,
        fromName: SERVICE_FROM_NAME,
        subject: mail.subject,
        bodyText: text,
      }),
    );
    return true;
  } catch (e) {
    // The address stays out of the log; the template name says which flow failed.
    deps.logger.error("service mail not queued", {
      template: mail.template,
      error: e instanceof Error ? e.message : String(e),
    });
    return false;
  }
}
