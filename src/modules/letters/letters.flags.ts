/**
 * Abuse signals on a letter, as WriteToThem's abuse checks raise them. A flag never refuses a
 * letter (and the supporter is told nothing different): it sends the confirmed letter to a
 * moderator instead of to the representative, with the reasons shown on the moderation page.
 *
 * - `second_postcode`: the postal address carries another postcode, in another constituency (or
 *   one we can't place): someone borrowing a constituent's postcode to reach an MP.
 * - `representative_email`: the supporter's email is the representative's own address. No
 *   confirmation mail is sent there (we never mail a representative's office a link to confirm a
 *   letter to itself), so the letter can't be confirmed and expires unless a moderator acts.
 * - `representative_name`: the sender's name is the representative's (WriteToThem's "representative
 *   emailing themself").
 * - Near-duplicates are the similarity score (letters.similarity.ts), kept apart because the
 *   threshold is a setting that can change after the letter was written.
 */
import { match } from "postcode";
import type { Deps } from "../../deps";
import { emailKey } from "../../lib/email";
import { isAppError } from "../../lib/errors";
import { parsePostcode } from "../../lib/postcode";
import { lookupPostcode } from "../lookup/lookup.service";
import { words } from "./letters.similarity";

export const LETTER_FLAGS = ["second_postcode", "representative_email", "representative_name"] as const;
export type LetterFlag = (typeof LETTER_FLAGS)[number];

/** What the moderation page says about each reason. */
export const FLAG_REASONS: Record<LetterFlag | "near_duplicate", string> = {
  near_duplicate: "its writer's own words are very like another supporter's letter",
  second_postcode: "the postal address contains a second postcode, in another constituency",
  representative_email:
    "the supporter's email address is the representative's own address (no confirmation mail was sent to it)",
  representative_name: "the sender's name is the representative's name",
};

/** Titles and honours that say nothing about who someone is. */
const HONORIFICS = new Set(
  "mr mrs ms miss mx dr prof sir dame lord lady rt hon right honourable the mp msp ms mla cllr rev".split(
    " ",
  ),
);
const nameWords = (name: string) => words(name).filter((w) => !HONORIFICS.has(w));

/**
 * One name contains the other (as whole words, in order, titles ignored). The contained one must
 * be at least two words: "Jane" writing to "Jane Smith" is not her.
 */
export function sameName(a: string, b: string): boolean {
  const x = nameWords(a);
  const y = nameWords(b);
  const contains = (outer: string[], inner: string[]) =>
    inner.length >= 2 && ` ${outer.join(" ")} `.includes(` ${inner.join(" ")} `);
  return contains(x, y) || contains(y, x);
}

export async function letterFlags(
  deps: Deps,
  input: {
    supporter: { name: string; email: string; addressLines: string[] };
    postcode: string;
    constituencyCode: string;
    recipient: { name: string; email: string | null };
  },
): Promise<LetterFlag[]> {
  const flags: LetterFlag[] = [];
  if (
    await otherPostcodeElsewhere(deps, input.supporter.addressLines, input.postcode, input.constituencyCode)
  )
    flags.push("second_postcode");
  if (input.recipient.email && emailKey(input.supporter.email) === emailKey(input.recipient.email))
    flags.push("representative_email");
  if (sameName(input.supporter.name, input.recipient.name)) flags.push("representative_name");
  return flags;
}

/** A postcode in the address lines other than the supporter's, in another seat (or unplaceable). */
async function otherPostcodeElsewhere(deps: Deps, lines: string[], postcode: string, code: string) {
  const found = new Set<string>();
  for (const line of lines)
    for (const m of match(line)) {
      const p = parsePostcode(m)?.postcode;
      if (p && p !== postcode) found.add(p);
    }
  for (const other of found) {
    try {
      const seat = await lookupPostcode(deps, { postcode: other });
      if (seat.constituency.code !== code) return true;
    } catch (e) {
      // Closed, unknown, or upstream down: we can't say it is in this seat, so a person looks.
      if (!isAppError(e)) throw e;
      return true;
    }
  }
  return false;
}
