/**
 * Campaign content (name, hashtag, the five asks) is data in data/campaigns/<id>.json, so a
 * campaign lead can change the words without touching code. CAMPAIGN_ID picks the file; it is
 * loaded and validated once at start-up into config (`deps.config.campaign`), and a bad file stops
 * the process with a message naming the field. Letters, pledges and the dashboard all use that one
 * id, so they can never disagree about which campaign they count.
 */
import { z } from "zod";
import raw from "../../../data/campaigns/manifesto-for-babies.json";
import { contrast, MIN_TEXT_CONTRAST } from "../../lib/colour";

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

/** A picture shipped beside the campaign file (data/campaigns/<file>), served at /campaign/<file>. */
export const ASSET_NAME = /^[a-z0-9][a-z0-9._-]{0,80}\.(svg|png|jpe?g|webp)$/;
const AssetFile = z
  .string()
  .regex(ASSET_NAME, "a file beside the campaign file, such as my-campaign.logo.svg (svg, png, jpg or webp)");
const Colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, "a colour such as #6b2c91");
/** The text colour of every page (app.css); panels and the hero must keep it readable. */
export const TEXT_COLOUR = "#1d1d1f";

/**
 * How the campaign looks: a coalition member re-skins the site by editing this (and dropping their
 * logo and picture beside the file), never code. Colours are checked for WCAG AA contrast here,
 * so a re-skin can't make the buttons, links or panels unreadable.
 */
export const Branding = z
  .object({
    /** The name in the header and the page titles, e.g. "#SpeakUpForBabies". */
    siteName: text(60),
    logo: z.object({ file: AssetFile, alt: text(120) }).optional(),
    colours: z.object({
      /** Buttons (white text on it), links and rules. */
      accent: Colour,
      /** Background of panels and the hero (text and links on it). */
      panel: Colour.default("#f4f1f7"),
    }),
    hero: z.object({
      heading: text(120),
      text: text(400),
      /** A picture beside the heading; `alt` says what it shows (write "" only for pure decoration). */
      image: z.object({ file: AssetFile, alt: z.string().trim().max(300) }).optional(),
    }),
    /** The campaign's story on the front page, a paragraph each, in the campaign's own words. */
    story: z.array(text(700)).min(1).max(6),
    /** What a share link says before anyone has acted (it claims nothing about the sharer). */
    shareText: text(200),
    /** The sentence above every pledge form (front page, /pledge, the journey's pledge step). */
    pledgeText: text(300).optional(),
    /** Thanks after a letter: the heading of the page after sending, the last line of its emails. */
    thanks: text(80).optional(),
    /** The question that invites a supporter's own words on the write step. */
    storyPrompt: text(150).optional(),
  })
  .superRefine((b, ctx) => {
    const check = (fg: string, bg: string, path: string[], what: string) => {
      const ratio = contrast(fg, bg);
      if (ratio < MIN_TEXT_CONTRAST)
        ctx.addIssue({
          code: "custom",
          path,
          message: `${what} has a contrast of ${ratio.toFixed(2)}:1; it needs at least ${MIN_TEXT_CONTRAST}:1 (WCAG AA): choose a darker colour`,
        });
    };
    check(b.colours.accent, "#ffffff", ["colours", "accent"], "white text on the accent colour");
    check(b.colours.accent, b.colours.panel, ["colours", "accent"], "the accent colour on the panel colour");
    check(TEXT_COLOUR, b.colours.panel, ["colours", "panel"], "text on the panel colour");
  });
export type Branding = z.infer<typeof Branding>;

/**
 * The periodic summary each MP's office can get (modules/digest): off unless the campaign file
 * turns it on, and even then only real mail in MAIL_MODE=live.
 */
export const DigestSettings = z.object({
  enabled: z.boolean().default(false),
  /** Days each digest covers (7: weekly, starting Mondays). */
  everyDays: z.number().int().min(1).max(90).default(7),
  /** Stories (shared with the office by their writers' explicit consent) quoted per digest. */
  stories: z.number().int().min(0).max(10).default(3),
});
export type DigestSettings = z.infer<typeof DigestSettings>;

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
  /** Optional: without it the site shows the campaign name and hashtag in the default colours. */
  branding: Branding.optional(),
  digest: DigestSettings.default({ enabled: false, everyDays: 7, stories: 3 }),
});
export type Campaign = z.infer<typeof Campaign>;

/** The branding to show: the campaign's own, or plain defaults from its name and hashtag. */
export function brandingOf(c: Campaign): Branding {
  return (
    c.branding ?? {
      siteName: c.hashtag,
      colours: { accent: "#6b2c91", panel: "#f4f1f7" },
      hero: { heading: c.name, text: `Ask your MP to back the ${c.name}.` },
      story: [`${c.organisation} asks every MP to back the ${c.name}.`],
      shareText: `Ask your MP to back the ${c.name} ${c.hashtag}`,
    }
  );
}

/**
 * What every page's layout shows of the campaign (header, colours, footer): given to every
 * template as `site` (lib/templates.ts withSite), so no page handler has to pass it along.
 */
export function siteOf(c: Campaign) {
  const b = brandingOf(c);
  return {
    name: b.siteName,
    campaignName: c.name,
    organisation: c.organisation,
    hashtag: c.hashtag,
    pledgeText: b.pledgeText ?? `Add your name to the people backing the ${c.name}.`,
    thanks: b.thanks ?? "Thank you for speaking up",
    storyPrompt: b.storyPrompt ?? "Why does this matter to you?",
    logo: b.logo ? { src: `/campaign/${b.logo.file}`, alt: b.logo.alt } : undefined,
    colours: b.colours,
  };
}
export type Site = ReturnType<typeof siteOf>;

/** Pictures beside the campaign files, by file name, as read at start-up (Node) or bundled (Workers). */
export type CampaignAssets = Record<string, { type: string; body: Uint8Array }>;
/** Largest picture accepted: the front page's first view must stay small on a phone. */
export const MAX_ASSET_BYTES = 256 * 1024;
const ASSET_TYPES: Record<string, string> = {
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  webp: "image/webp",
};
/** The content type of a picture file by its extension (undefined: not a picture we serve). */
export const assetType = (file: string) =>
  ASSET_NAME.test(file) ? ASSET_TYPES[file.slice(file.lastIndexOf(".") + 1)] : undefined;

/** The picture files a campaign's branding names (each must exist beside the campaign file). */
export function assetFilesOf(c: Campaign): { path: string; file: string }[] {
  const b = c.branding;
  if (!b) return [];
  return [
    ...(b.logo ? [{ path: "branding.logo.file", file: b.logo.file }] : []),
    ...(b.hero.image ? [{ path: "branding.hero.image.file", file: b.hero.image.file }] : []),
  ];
}

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
