/**
 * Campaign content (name, hashtag, the five asks) is data in data/campaigns/<id>.json, so a
 * campaign lead can change the words without touching code. CAMPAIGN_ID picks the file; it is
 * loaded and validated once at start-up into config (`deps.config.campaign`), and a bad file stops
 * the process with a message naming the field. Letters, pledges and the dashboard all use that one
 * id, so they can never disagree about which campaign they count.
 */
import { z } from "zod";
import raw from "../../../data/campaigns/manifesto-for-babies.json";

const text = (max: number) => z.string().trim().min(1).max(max);

/** The parliaments a supporter in each nation can write to. */
export const NATION_BODIES = {
  England: ["uk_parliament"],
  Scotland: ["uk_parliament", "scottish_parliament"],
  Wales: ["uk_parliament", "senedd"],
  "Northern Ireland": ["uk_parliament", "ni_assembly"],
} as const;
export type CampaignNation = keyof typeof NATION_BODIES;
export const CAMPAIGN_NATIONS = Object.keys(NATION_BODIES) as CampaignNation[];

/**
 * Which parliament can act on an ask in one nation: one body, or both (the UK Parliament and the
 * devolved one) where each holds part of it. Only the bodies of that nation are allowed.
 */
const bodiesFor = (nation: CampaignNation) =>
  z
    .array(z.enum(NATION_BODIES[nation] as unknown as [string, ...string[]]), {
      error: `list who can act in ${nation}: ${NATION_BODIES[nation].join(" and/or ")}`,
    })
    .min(1, `name at least one parliament that can act in ${nation}`)
    .refine((list) => new Set(list).size === list.length, "each parliament once");

export const Competence = z.object({
  England: bodiesFor("England"),
  Scotland: bodiesFor("Scotland"),
  Wales: bodiesFor("Wales"),
  "Northern Ireland": bodiesFor("Northern Ireland"),
});
export type Competence = z.infer<typeof Competence>;

export const Ask = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, "a short lower-case id such as prevention"),
  title: text(120),
  summary: text(600),
  points: z.array(text(300)).min(1).max(10),
  /**
   * Per nation, which parliament(s) can act on this ask: the MP's letter carries the asks the UK
   * Parliament can act on, the MSP's, MS's or MLA's the devolved ones, both where both can.
   */
  competence: Competence,
  /** Why, in a sentence a supporter reads on the write step (optional, per nation). */
  competenceNote: z
    .object({
      England: text(300).optional(),
      Scotland: text(300).optional(),
      Wales: text(300).optional(),
      "Northern Ireland": text(300).optional(),
    })
    .optional(),
});
export type Ask = z.infer<typeof Ask>;

export const Campaign = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]{1,60}$/),
  name: text(120),
  organisation: text(120),
  hashtag: z.string().regex(/^#\w{2,60}$/, "a hashtag such as #SpeakUpForBabies"),
  /**
   * Subject lines; `{{constituency}}` is the only placeholder, filled in by code (not Handlebars).
   * The devolved members' (msp, ms, mla) fall back to the MP's when left out.
   */
  defaultSubject: z.object({
    mp: text(150),
    candidate: text(150),
    msp: text(150).optional(),
    ms: text(150).optional(),
    mla: text(150).optional(),
  }),
  asks: z
    .array(Ask)
    .min(1)
    .max(10)
    .refine((asks) => new Set(asks.map((a) => a.id)).size === asks.length, "ask ids must be unique"),
});
export type Campaign = z.infer<typeof Campaign>;

export class CampaignError extends Error {
  override name = "CampaignError";
}

export function parseCampaign(input: unknown, source = "campaign"): Campaign {
  const r = Campaign.safeParse(input);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new CampaignError(`Invalid ${source}:\n${lines.join("\n")}`);
  }
  return r.data;
}

/**
 * Campaign files built into the bundle, by id: what tests and the Workers build use (the Node
 * build reads data/campaigns/ from disk at start-up instead, so an edit needs no rebuild).
 */
export const BUNDLED_CAMPAIGNS: Record<string, unknown> = { [raw.id]: raw };
