import { z } from "zod";
import { NATIONS } from "../../db/schema";

/** Longest constituency search accepted: the longest 2024 seat name has 40 characters. */
export const SEARCH_MAX = 60;

/**
 * `postcode` is only capped here (against abuse); whether it is a postcode is the service's
 * call, so a pasted "SW1A 1AA, London" gets `postcode_malformed` like any other non-postcode.
 * 100 matches the length the HTML form accepts.
 */
export const LookupQuery = z
  .object({
    postcode: z.string().max(100, "a postcode is at most 8 characters").optional(),
    q: z
      .string()
      .trim()
      .min(2, "type at least 2 letters of the constituency name")
      .max(SEARCH_MAX, `a constituency name is at most ${SEARCH_MAX} characters`)
      .optional(),
    /** For a postcode that has closed: the seat (ONS code) the supporter confirms they still live in. */
    seat: z
      .string()
      .regex(/^[A-Z]\d{8}$/, "an ONS constituency code such as E14001063")
      .optional(),
    /**
     * The devolved area the supporter chose where we can't tell (a Holyrood constituency, or an
     * Assembly constituency where the seat spans several): a GSS code such as S16000182.
     */
    area: z
      .string()
      .regex(/^(S16|W09|N06)\d{6}$/, "a devolved constituency code such as S16000182")
      .optional(),
  })
  .refine((v) => (v.postcode === undefined) !== (v.q === undefined), {
    message: "give either postcode= or q= (a constituency name)",
  });
export type LookupQuery = z.infer<typeof LookupQuery>;

/** /api/constituencies/:code */
export const ConstituencyCodeParam = z.object({ code: z.string().regex(/^[A-Z]\d{8}$/, "an ONS code") });

/** An optional integer CSV cell: an empty cell is "no value", not 0 (which z.coerce would make it). */
const optionalInt = z.preprocess(
  (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
  z.coerce.number().int().optional(),
);

export const ConstituencyRow = z.object({
  ons_code: z.string().regex(/^[A-Z]\d{8}$/, "an ONS code such as E14001063"),
  name: z.string().min(1),
  nation: z.enum(NATIONS),
  region_code: z.string().regex(/^[A-Z]\d{8}$/),
  region_name: z.string().min(1),
  hex_q: optionalInt,
  hex_r: optionalInt,
});
export type ConstituencyRow = z.infer<typeof ConstituencyRow>;

/**
 * One row of a Democracy Club candidates CSV export
 * (person_id,person_name,election_id,ballot_paper_id,election_date,election_current,party_name,
 * party_id,post_label,cancelled_poll,seats_contested[,extra fields such as email]).
 * Only the columns we use are read; the seat is matched by `post_label` (the constituency name).
 */
export const CandidateRow = z.object({
  person_id: z.coerce.number().int().positive(),
  person_name: z.string().min(1),
  election_id: z.string().min(1),
  ballot_paper_id: z.string().min(1),
  party_name: z.string().optional().default(""),
  post_label: z.string().min(1),
  cancelled_poll: z.string().optional().default("f"),
  email: z.string().optional().default(""),
});
export type CandidateRow = z.infer<typeof CandidateRow>;
