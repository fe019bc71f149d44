import { z } from "zod";
import { DEVOLVED_BODIES } from "../../db/schema.devolved";
import { MEMBER_SYNC_TRIGGERS } from "../../db/schema.members";

const blank = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");
const text = z.string().trim().min(1);
const optionalText = z.preprocess(blank, z.string().trim().optional());
const optionalEmail = z.preprocess(blank, z.email("an email address").optional());
const optionalId = z.preprocess(blank, z.coerce.number().int().positive().optional());
const Code = (prefix: string, what: string) =>
  z.string().regex(new RegExp(`^${prefix}\\d{6}$`), `${what} code such as ${prefix}000001`);

export const HolyroodConstituencyCode = Code("S16", "a Scottish Parliament constituency");
export const HolyroodRegionCode = Code("S17", "a Scottish Parliament region");
export const SeneddCode = Code("W09", "a Senedd constituency");
export const AssemblyCode = Code("N06", "an NI Assembly constituency");
const WestminsterCode = z.string().regex(/^[ESWN]\d{8}$/, "an ONS constituency code such as N05000003");

/** data/devolved/holyrood-areas.csv: the 73 constituencies (SPC) and 8 regions (SPE) of 2026. */
export const HolyroodAreaRow = z.discriminatedUnion("area_type", [
  z.object({
    area_type: z.literal("SPE"),
    code: HolyroodRegionCode,
    name: text,
    valid_from: z.preprocess(blank, IsoDate.optional()),
  }),
  z.object({
    area_type: z.literal("SPC"),
    code: HolyroodConstituencyCode,
    name: text,
    region: text,
    region_code: HolyroodRegionCode,
    valid_from: z.preprocess(blank, IsoDate.optional()),
  }),
]);
export type HolyroodAreaRow = z.infer<typeof HolyroodAreaRow>;

/** data/devolved/senedd-constituencies.csv: each of the 16 is the union of two 2024 seats. */
export const SeneddConstituencyRow = z.object({
  senedd_code: SeneddCode,
  name: text,
  name_cy: optionalText,
  westminster_code_1: WestminsterCode,
  westminster_code_2: WestminsterCode,
  valid_from: z.preprocess(blank, IsoDate.optional()),
});
export type SeneddConstituencyRow = z.infer<typeof SeneddConstituencyRow>;

/** data/devolved/msps.csv. */
export const MspCsvRow = z
  .object({
    scotparl_person_id: optionalId,
    name: text,
    party: optionalText,
    seat_type: z.enum(["constituency", "regional", "region"]),
    constituency: optionalText,
    constituency_code: z.preprocess(blank, HolyroodConstituencyCode.optional()),
    region: optionalText,
    region_code: z.preprocess(blank, HolyroodRegionCode.optional()),
    email: optionalEmail,
    term_start: z.preprocess(blank, IsoDate.optional()),
  })
  .refine((r) => (r.seat_type === "constituency" ? !!r.constituency_code : !!r.region_code), {
    message: "a constituency MSP needs constituency_code, a regional MSP region_code",
  });
export type MspCsvRow = z.infer<typeof MspCsvRow>;

/** data/devolved/mss.csv (no ids or addresses: the sync fills them in). */
export const MsCsvRow = z.object({
  name: text,
  party: optionalText,
  senedd_constituency: text,
  senedd_code: SeneddCode,
  senedd_member_id: optionalId,
  email: optionalEmail,
  confirmed: optionalText,
});
export type MsCsvRow = z.infer<typeof MsCsvRow>;

/** data/devolved/mlas.csv: the sitting Assembly, elected on the 2010 boundaries. */
export const MlaCsvRow = z.object({
  assembly_constituency: text,
  assembly_code_2010_boundaries: AssemblyCode,
  westminster_2024_code: WestminsterCode,
  name: text,
  party: optionalText,
  aims_person_id: optionalId,
  email: optionalEmail,
  confirmed: optionalText,
});
export type MlaCsvRow = z.infer<typeof MlaCsvRow>;

/**
 * data/devolved/ni-westminster-assembly.csv: Assembly constituencies (2010 boundaries) that a
 * 2024 Westminster seat also takes in, beyond its namesake (which mlas.csv gives). Sourced rows only.
 */
export const AssemblyLinkRow = z.object({
  westminster_2024_code: WestminsterCode,
  assembly_code: AssemblyCode,
  share: z.enum(["most", "part"]),
  source: text,
});
export type AssemblyLinkRow = z.infer<typeof AssemblyLinkRow>;

/** data/devolved/postcode-areas.csv: postcodes whose devolved areas are known from an official answer. */
export const PostcodeAreaRow = z.object({
  postcode: text,
  holyrood_constituency: z.preprocess(blank, HolyroodConstituencyCode.optional()),
  holyrood_region: z.preprocess(blank, HolyroodRegionCode.optional()),
  senedd: z.preprocess(blank, SeneddCode.optional()),
  assembly: z.preprocess(blank, AssemblyCode.optional()),
  source: text,
});
export type PostcodeAreaRow = z.infer<typeof PostcodeAreaRow>;

export const DevolvedBodyName = z.enum(DEVOLVED_BODIES);

/** Options of a devolved members sync, as the CLI, the Node timer and the Workers cron pass them. */
export const SyncDevolvedInput = z.object({
  body: DevolvedBodyName,
  trigger: z.enum(MEMBER_SYNC_TRIGGERS),
  /** Apply even past the guard (after an election). Recorded on the sync row. */
  force: z.boolean().default(false),
});
export type SyncDevolvedInput = z.input<typeof SyncDevolvedInput>;
