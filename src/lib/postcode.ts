/**
 * UK postcode handling on top of the `postcode` package (no hand-written regex).
 * Normal form: upper case, one space before the inward code ("SW1A 1AA").
 */
import { parse } from "postcode";

export type ParsedPostcode = { postcode: string; area: string; outcode: string };

/** Areas with postcodes but no Westminster MP: the Crown dependencies. */
export const CROWN_DEPENDENCY_AREAS: Record<string, string> = {
  JE: "Jersey",
  GY: "Guernsey",
  IM: "the Isle of Man",
};

/** The test postcode: maps to a test MP whose mail comes back to the sender. */
export const TEST_POSTCODE = "ZZ9 9ZZ";

/**
 * Parse user input: any case, any amount of inner whitespace (including none or tabs and
 * non-breaking spaces pasted from documents). Returns null for anything that is not a
 * well-formed UK postcode.
 */
export function parsePostcode(input: string): ParsedPostcode | null {
  const compact = input.normalize("NFKC").replace(/[\s\u00a0\u200b]+/g, "");
  if (compact.length < 5 || compact.length > 7) return null;
  const p = parse(compact);
  if (!p.valid) return null;
  return { postcode: p.postcode, area: p.area, outcode: p.outcode };
}

/** Normal form of a postcode from a trusted file (ONS), or null if it isn't a valid one. */
export function normalisePostcode(input: string): string | null {
  return parsePostcode(input)?.postcode ?? null;
}
