/**
 * UK postcode handling on top of the `postcode` package (no hand-written regex).
 * Normal form: upper case, one space before the inward code ("SW1A 1AA").
 */
import { parse, validOutcode } from "postcode";
import { z } from "zod";

export type ParsedPostcode = { postcode: string; area: string; outcode: string };

/** Areas with postcodes but no Westminster MP: the Crown dependencies. */
export const CROWN_DEPENDENCY_AREAS: Record<string, string> = {
  JE: "Jersey",
  GY: "Guernsey",
  IM: "the Isle of Man",
};

/**
 * Well-formed postcodes that are not anywhere a person lives, so no MP answers for them: Girobank's
 * GIR 0AA, and the British Overseas Territories' single postcodes (each territory has its own
 * government and no MP). The `postcode` package rejects them as malformed, so they are named here.
 */
export const NO_MP_POSTCODES: Record<string, { postcode: string; place: string }> = {
  GIR0AA: {
    postcode: "GIR 0AA",
    place: "a non-geographic postcode (Girobank's), not a place where anyone lives",
  },
  ASCN1ZZ: { postcode: "ASCN 1ZZ", place: "Ascension Island" },
  BBND1ZZ: { postcode: "BBND 1ZZ", place: "the British Indian Ocean Territory" },
  BIQQ1ZZ: { postcode: "BIQQ 1ZZ", place: "the British Antarctic Territory" },
  FIQQ1ZZ: { postcode: "FIQQ 1ZZ", place: "the Falkland Islands" },
  PCRN1ZZ: { postcode: "PCRN 1ZZ", place: "the Pitcairn Islands" },
  SIQQ1ZZ: { postcode: "SIQQ 1ZZ", place: "South Georgia and the South Sandwich Islands" },
  STHL1ZZ: { postcode: "STHL 1ZZ", place: "St Helena" },
  TDCU1ZZ: { postcode: "TDCU 1ZZ", place: "Tristan da Cunha" },
  TKCA1ZZ: { postcode: "TKCA 1ZZ", place: "the Turks and Caicos Islands" },
  GX111AA: { postcode: "GX11 1AA", place: "Gibraltar" },
};

/** The test postcode: maps to a test MP whose mail comes back to the sender. */
export const TEST_POSTCODE = "ZZ9 9ZZ";

/**
 * Parse user input: any case, any amount of inner whitespace (including none or tabs and
 * non-breaking spaces pasted from documents). Returns null for anything that is not a
 * well-formed UK postcode.
 */
export function parsePostcode(input: string): ParsedPostcode | null {
  const compact = compactPostcode(input);
  if (compact.length < 5 || compact.length > 7) return null;
  const p = parse(compact);
  if (!p.valid) return null;
  return { postcode: p.postcode, area: p.area, outcode: p.outcode };
}

/**
 * Upper case without any spacing: full-width letters folded (NFKC), every kind of space, tab and
 * zero-width space removed, and a hyphen or dash between the halves ("SW1A-1AA") dropped.
 */
export function compactPostcode(input: string): string {
  return input
    .normalize("NFKC")
    .replace(/[\s\u00a0\u200b-\u200d\u2060\ufeff]+/g, "")
    .replace(/^([A-Za-z0-9]{2,4})[-\u2010-\u2015\u2212]([0-9][A-Za-z]{2})$/, "$1$2")
    .toUpperCase();
}

/** A postcode that is well-formed but has no MP (GIR 0AA, overseas territories), or undefined. */
export const noMpPostcode = (input: string) => NO_MP_POSTCODES[compactPostcode(input)];

/**
 * A postcode field on a form or API: at most 16 characters once spacing is tidied, one line.
 * Whether it is a postcode is the lookup's answer (the same on every route).
 */
export const PostcodeField = z
  .string()
  .max(100, "enter your postcode, such as SW1A 1AA")
  .transform((s) =>
    s
      .normalize("NFKC")
      .replace(/[\s\u00a0\u200b-\u200d\u2060\ufeff]+/g, " ")
      .trim(),
  )
  .pipe(
    z
      .string()
      .min(1, "enter your postcode")
      .max(16, "enter your postcode, such as SW1A 1AA")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: one line only
      .regex(/^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/, "enter your postcode, such as SW1A 1AA"),
  );

/** Normal form of a postcode from a trusted file (ONS), or null if it isn't a valid one. */
export function normalisePostcode(input: string): string | null {
  return parsePostcode(input)?.postcode ?? null;
}

/** Outward code alone ("SW1A", "ab10"): normal form, or null if it isn't one. */
export function parseOutcode(input: string): string | null {
  const compact = compactPostcode(input);
  if (compact.length < 2 || compact.length > 4 || !validOutcode(compact)) return null;
  return compact;
}

export type PostcodeCountry = "England" | "Scotland" | "Wales" | "Northern Ireland" | "Crown dependency";

/** ONS country codes (NSPL/ONSPD `ctry`). */
export const COUNTRY_BY_ONS_CODE: Record<string, PostcodeCountry> = {
  E92000001: "England",
  S92000003: "Scotland",
  W92000004: "Wales",
  N92000002: "Northern Ireland",
  L93000001: "Crown dependency",
  M83000003: "Crown dependency",
};

/** Postcode areas that lie wholly in one nation (for files without a `ctry` column). */
const SCOTTISH_AREAS = new Set("AB DD DG EH FK G HS IV KA KW KY ML PA PH ZE".split(" "));
const WELSH_AREAS = new Set(["CF", "SA"]);
/** Areas that straddle a border (Chester, Llandudno, Shrewsbury, Llandrindod, Newport, Hereford, Gloucester, Galashiels, Carlisle). */
const CROSS_BORDER_AREAS = new Set("CH LL SY LD NP HR GL TD CA".split(" "));

/**
 * The nation a postcode area belongs to when the whole area is in one nation, else null
 * (cross-border areas: only the ONS `ctry` column can say).
 */
export function countryOfArea(area: string): PostcodeCountry | null {
  if (area in CROWN_DEPENDENCY_AREAS) return "Crown dependency";
  if (area === "BT") return "Northern Ireland";
  if (SCOTTISH_AREAS.has(area)) return "Scotland";
  if (WELSH_AREAS.has(area)) return "Wales";
  if (CROSS_BORDER_AREAS.has(area) || area === "ZZ") return null;
  return "England";
}
