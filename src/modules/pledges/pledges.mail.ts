/**
 * Service mail for pledges and privacy requests (confirm links, MP verification links, export
 * and erasure links), rendered from templates/emails/pledge-*.txt.hbs.
 *
 * These go straight to `deps.mailer` (which in MAIL_MODE=capture stores instead of sending).
 * They are not outbox rows yet because the outbox's `kind` CHECK only admits letter mail; when
 * it gains a kind for service mail, `sendServiceMail` is the one place to switch to queueing.
 * A failed send is logged (without the address) and reported to the caller, who decides
 * whether the supporter may ask again.
 */
import type { Deps } from "../../deps";

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

export async function sendServiceMail(
  deps: Pick<Deps, "mailer" | "templates" | "config" | "ids" | "logger">,
  mail: ServiceMail,
): Promise<boolean> {
  const domain = deps.config.MAIL_FROM.split("@")[1] ?? "speakup.invalid";
  const text = deps.templates.render(mail.template, {
    ...mail.data,
    publicUrl: deps.config.PUBLIC_URL,
    controller: deps.config.PRIVACY_CONTROLLER,
  });
  try {
    await deps.mailer.send({
      from: { name: "#SpeakUpForBabies", address: deps.config.MAIL_FROM },
      to: mail.to,
      subject: mail.subject,
      text,
      messageId: `<${deps.ids.uuid()}@${domain}>`,
    });
    return true;
  } catch (e) {
    // The address stays out of the log; the template name says which flow failed.
    deps.logger.error("service mail failed", {
      template: mail.template,
      error: e instanceof Error ? e.message : String(e),
    });
    return false;
  }
}
