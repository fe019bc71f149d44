/**
 * UK postcode handling on top of the `postcode` package (no hand-written regex).
 * Normal form: upper case, one space before the inward code ("SW1A 1AA").
 */
import { parse, validOutcode } from "postcode";

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

/** Outward code alone ("SW1A", "ab10"): normal form, or null if it isn't one. */
export function parseOutcode(input: string): string | null {
  const compact = input
    .normalize("NFKC")
    .replace(/[\s\u00a0\u200b]+/g, "")
    .toUpperCase();
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
