/**
 * The closed set of error codes the service answers with. Codes are stable API: clients and
 * the widget switch on them, so rename never, add freely. Each code fixes its HTTP status and
 * a short human title; `detail` says what happened this time.
 */
export const ERROR_CODES = {
  validation_failed: { status: 400, title: "The request is not valid" },
  malformed_body: { status: 400, title: "The request body could not be read" },
  text_too_long: { status: 422, title: "The text is too long" },
  postcode_malformed: { status: 400, title: "That doesn't look like a UK postcode" },
  postcode_incomplete: { status: 400, title: "Please enter your full postcode" },
  postcode_not_found: { status: 404, title: "We couldn't find that postcode" },
  postcode_terminated: { status: 410, title: "That postcode is no longer in use" },
  postcode_no_westminster_mp: { status: 422, title: "This area has no MP at Westminster" },
  constituency_not_found: { status: 404, title: "No such constituency" },
  seat_vacant: { status: 409, title: "This seat is vacant" },
  not_found: { status: 404, title: "Not found" },
  method_not_allowed: { status: 405, title: "Method not allowed" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "Unsupported content type" },
  rate_limited: { status: 429, title: "Too many requests" },
  upstream_unavailable: { status: 503, title: "A service we depend on is not answering" },
  database_unavailable: { status: 503, title: "We can't save anything just now" },
  // letters and delivery
  token_malformed: { status: 400, title: "That link is not complete" },
  // 404, like a link that never existed: an altered link, or one for another page, is nothing here.
  token_invalid: { status: 404, title: "That link is not valid" },
  token_expired: { status: 410, title: "That link has expired" },
  letter_expired: { status: 410, title: "This letter was never confirmed and has expired" },
  letter_not_confirmable: { status: 409, title: "This letter can no longer be confirmed" },
  recipient_not_contactable: { status: 422, title: "We have no email address for this representative" },
  recipient_address_bouncing: {
    status: 422,
    title: "Letters to this representative's email address are coming back undelivered",
  },
  chase_not_available: { status: 409, title: "A follow-up letter can't be sent for this letter" },
  already_written: { status: 409, title: "You have already written to this representative recently" },
  recipient_daily_cap: { status: 429, title: "This representative has had many letters today" },
  // pledges, dashboard, privacy
  pledge_not_found: { status: 404, title: "We couldn't find that pledge" },
  representative_not_found: { status: 404, title: "No such representative" },
  unauthorized: { status: 401, title: "Please sign in" },
  forbidden: { status: 403, title: "This account can't open this page" },
  csrf_failed: { status: 403, title: "This form has expired; please go back and try again" },
  sign_in_failed: { status: 401, title: "Email address or password not recognised" },
  signature_invalid: { status: 401, title: "The request's signature is missing, stale or wrong" },
  // partners
  invitation_unusable: { status: 410, title: "This invitation has expired or has been used" },
  account_exists: { status: 409, title: "This address already has an account" },
  webhook_url_refused: { status: 422, title: "We can't send webhooks to that address" },
  internal: { status: 500, title: "Something went wrong on our side" },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  override name = "AppError";
  readonly status: number;
  readonly title: string;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    /** Extra members for the problem document (e.g. `errors`, `retryAfter`). */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail ?? ERROR_CODES[code].title);
    this.status = ERROR_CODES[code].status;
    this.title = ERROR_CODES[code].title;
  }
}

export const isAppError = (e: unknown): e is AppError => e instanceof AppError;
