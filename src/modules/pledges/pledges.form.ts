/**
 * The supporter pledge form, as every page shows it: the front page, /pledge and the partner's
 * frame (/embed/pledge) render the one partial (templates/pages/partials/pledge-form.hbs) from
 * the one view built here, so their wording, layout and error messages cannot drift apart.
 *
 * Field ids are prefixed ("pledge-name"): the front page also holds the postcode finder, and two
 * fields must never share an id.
 */
import type { AppError } from "../../lib/errors";
import { currentConsent } from "./pledges.schemas";

export type PledgeFormValues = {
  name: string;
  email: string;
  postcode: string;
  pledgeConsent: string;
  updatesConsent: string;
  /** The separate box "<partner> may contact me", when the pledge is credited to a partner. */
  partnerConsent?: string;
};
export type FieldError = { field: string; message: string };

/** Input name -> the element id on the page (and the error summary's link target). */
export const PLEDGE_FIELD_IDS: Record<keyof PledgeFormValues | "form", string> = {
  name: "pledge-name",
  email: "pledge-email",
  postcode: "pledge-postcode",
  pledgeConsent: "pledge-consent",
  updatesConsent: "pledge-updates",
  partnerConsent: "pledge-partner-consent",
  form: "pledge-form",
};

/** What a supporter is told, per field, in their words (never the schema's field names). */
const MESSAGES: Partial<Record<keyof PledgeFormValues, string>> = {
  name: "Enter your full name",
  email: "Enter an email address, such as jane@example.org",
  postcode: "Enter your postcode, such as LS1 1AZ",
  pledgeConsent: "Tick the box to make your pledge",
};

export const emptyPledgeForm = (postcode = ""): PledgeFormValues => ({
  name: "",
  email: "",
  postcode: postcode.slice(0, 100),
  pledgeConsent: "",
  updatesConsent: "",
});

/** A pledge's validation issues as messages linked to the fields, one per field. */
export function pledgeFieldErrors(issues: { path: PropertyKey[] }[]): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const i of issues) {
    const key = String(i.path[0] ?? "form") as keyof PledgeFormValues;
    const field = PLEDGE_FIELD_IDS[key] ?? PLEDGE_FIELD_IDS.form;
    if (seen.has(field)) continue;
    seen.add(field);
    out.push({ field, message: MESSAGES[key] ?? "Check the form and try again" });
  }
  return out;
}

/** A refusal from the service (postcode problems, limits, a busy database), linked to its field. */
export const pledgeServiceError = (e: AppError): FieldError => ({
  field: e.code.startsWith("postcode_") ? PLEDGE_FIELD_IDS.postcode : PLEDGE_FIELD_IDS.form,
  message: e.detail ?? e.title,
});

/** Everything the pledge-form partial shows. */
export function pledgeFormView(p: {
  /** The campaign the pledge is to (its hashtag and name are in the consent box's words). */
  campaign: { hashtag: string; name: string };
  action: string;
  values: PledgeFormValues;
  errors?: FieldError[];
  /** Hidden fields carried along (the partner's frame settings, a partner attribution token). */
  hidden?: { name: string; value: string }[];
  /** Heading level of the form's own title, when it has one (the front page). */
  heading?: string;
  /** Credited to a partner: the separate, unticked box asking to hear from them (partners.consent). */
  partnerConsent?: { version: string; text: string; partnerName: string } | null;
}) {
  const errorOf = (key: keyof typeof PLEDGE_FIELD_IDS) =>
    p.errors?.find((e) => e.field === PLEDGE_FIELD_IDS[key])?.message;
  const field = (key: keyof PledgeFormValues) => ({
    id: PLEDGE_FIELD_IDS[key],
    value: p.values[key],
    error: errorOf(key),
  });
  const consent = currentConsent(p.campaign);
  return {
    action: p.action,
    hidden: p.hidden ?? [],
    heading: p.heading,
    formError: errorOf("form"),
    formErrorId: PLEDGE_FIELD_IDS.form,
    name: field("name"),
    email: field("email"),
    postcode: field("postcode"),
    pledgeConsent: { ...field("pledgeConsent"), checked: !!p.values.pledgeConsent, ...consent.pledge },
    updatesConsent: { ...field("updatesConsent"), checked: !!p.values.updatesConsent, ...consent.updates },
    partnerConsent: p.partnerConsent
      ? { ...p.partnerConsent, id: PLEDGE_FIELD_IDS.partnerConsent, checked: !!p.values.partnerConsent }
      : undefined,
  };
}
