/**
 * Text fields shared by every form and API (letters, pledges, partners, privacy).
 *
 * Rules:
 * - Text is stored NFC, so "é" typed as one character or as e + combining accent is one string;
 *   emoji, right-to-left marks and zero-width joiners pass untouched (they are part of names).
 * - Lengths are counted in code points (what a person sees as characters, near enough), never in
 *   UTF-16 units: "👶" is one character, not two.
 * - One-line fields (names, address lines, subjects) hold no control character at all: no CR, LF,
 *   NUL, NEL (U+0085), line or paragraph separator (U+2028/9). So nothing typed can reach a mail
 *   header or start a new line in a mail we send.
 * - People's names are printed in mail we send to whatever address was typed, so they must not
 *   carry a web address (or an email address): that would make us a carrier of someone's link.
 * - Too long is its own answer (422 `text_too_long`, see http/validate.ts): every other problem
 *   with a field is a 400.
 */
import { z } from "zod";

/** Code points in `s` (a lone surrogate counts as one). */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting them is the point
export const CONTROL_OR_LINE_BREAK = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * A web address, an email address, or a bare domain with a common top-level domain: what must not
 * appear in a name we print in mail. "J.R.R. Tolkien" and "St.Ives" are names; "evil.com" is not.
 */
export const WEB_ADDRESS =
  /(?:[a-z][a-z0-9+.-]*:\/\/|\bwww\d?\.|[^\s@]+@[^\s@]+\.[^\s@]{2,}|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|info|biz|io|co|uk|ru|cn|xyz|top|me|ly|link|click|site|online|app|dev|gov|edu|tk|ml|ga|cf|gq|shop|store|live|club|vip|win|bid|loan|work|today|news|tv|cc|ws|su|de|fr|eu|us|ca|au|in|nl|be|pl|es|it|ie|sh|gg|to|ai|page|icu|cyou|sbs|lol|zip|mov)\b)/i;

/** A "too long" issue: the validator answers 422 for these (and only these; see `isTooLong`). */
function tooLong(
  ctx: { addIssue: z.RefinementCtx<string>["addIssue"] },
  input: string,
  max: number,
  message: string,
) {
  ctx.addIssue({ code: "custom", input, message, params: { tooLong: true, maximum: max } });
}

/** An issue raised by a text field of this module for text over its length. */
export const isTooLong = (issue: { code: string; params?: unknown }) =>
  issue.code === "custom" && !!(issue.params as { tooLong?: boolean } | undefined)?.tooLong;

/** Reject before any work anything that can't be `max` code points (at most 2 UTF-16 units each). */
const bounded = (max: number, slack: number, message: string) =>
  z.string().transform((s, ctx) => {
    if (s.length > max * 2 + slack) {
      tooLong(ctx, s.slice(0, 64), max, message);
      return z.NEVER;
    }
    return s;
  });

/** One line of text: NFC, trimmed, at most `max` code points, no controls or line breaks. */
export const singleLine = (max: number, what: string) =>
  bounded(max, 64, `${what} is at most ${max} characters`)
    .transform((s) => s.normalize("NFC").trim())
    .superRefine((s, ctx) => {
      if (!s) ctx.addIssue({ code: "custom", message: `${what} is required` });
      else if (codePoints(s) > max) tooLong(ctx, s, max, `${what} is at most ${max} characters`);
      else if (CONTROL_OR_LINE_BREAK.test(s))
        ctx.addIssue({ code: "custom", message: `${what} must be on one line` });
    });

/** A person's name, as printed in the mail we send: one line, no web or email address. */
export const personName = (max: number, what = "name") =>
  singleLine(max, what).superRefine((s, ctx) => {
    if (WEB_ADDRESS.test(s))
      ctx.addIssue({ code: "custom", message: `${what} must not contain a web or email address` });
  });

/**
 * Multi-line text (a story, an edited letter): NFC, line breaks normalised to \n (CRLF, CR, NEL,
 * U+2028/9), other control characters removed, trimmed; at most `max` code points.
 */
export const prose = (max: number, what = "text") =>
  bounded(max, 1024, `${what} is at most ${max} characters`)
    .transform((s) =>
      s
        .normalize("NFC")
        .replace(/\r\n?|[\u0085\u2028\u2029]/g, "\n")
        // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters
        .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")
        .trim(),
    )
    .superRefine((s, ctx) => {
      if (codePoints(s) > max) tooLong(ctx, s, max, `${what} is at most ${max} characters`);
    });
