import { z } from "zod";
import { MEMBER_SYNC_TRIGGERS } from "../../db/schema.members";

const OnsCode = z.string().regex(/^[A-Z]\d{8}$/, "an ONS code such as E14001063");
const IsoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a date as YYYY-MM-DD");
/** An empty CSV cell is "no value". */
const blank = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);

/**
 * One row of data/mps.csv (ons_code,constituency,name,party,members_api_id,email,since): the
 * sitting MPs as a campaign lead can read and correct them. An empty email means Parliament
 * publishes none (the MP is shown, not contactable).
 */
export const MemberCsvRow = z.object({
  ons_code: OnsCode,
  constituency: z.string().trim().min(1),
  name: z.string().trim().min(1),
  party: z.preprocess(blank, z.string().trim().optional()),
  members_api_id: z.coerce.number().int().positive("a UK Parliament member id"),
  email: z.preprocess(blank, z.email("an email address").optional()),
  since: z.preprocess(blank, IsoDate.optional()),
});
export type MemberCsvRow = z.infer<typeof MemberCsvRow>;

/**
 * One row of data/mps-former.csv (ons_code,constituency,name,party,members_api_id,elected): an
 * MP elected in 2024 who has since left the seat, replaced at a by-election.
 */
export const FormerMemberCsvRow = z.object({
  ons_code: OnsCode,
  constituency: z.string().trim().min(1),
  name: z.string().trim().min(1),
  party: z.preprocess(blank, z.string().trim().optional()),
  members_api_id: z.coerce.number().int().positive("a UK Parliament member id"),
  elected: z.preprocess(blank, IsoDate.optional()),
});
export type FormerMemberCsvRow = z.infer<typeof FormerMemberCsvRow>;

/** Options of a members sync, as the CLI, the Node timer and the Workers cron pass them. */
export const SyncMembersInput = z.object({
  trigger: z.enum(MEMBER_SYNC_TRIGGERS),
  /** Apply even past the guard (after a general election). Recorded on the sync row. */
  force: z.boolean().default(false),
  /** Read every member's contact details now, not only MEMBERS_SYNC_CONTACTS of them. */
  allContacts: z.boolean().default(false),
});
export type SyncMembersInput = z.input<typeof SyncMembersInput>;
