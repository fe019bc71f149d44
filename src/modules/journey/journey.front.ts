/**
 * The front page's content: the campaign's story and asks and its look (all from the campaign
 * file), live counters, a pledge form that needs no lookup first, and share links.
 *
 * Rules:
 * - Counters are the dashboard's own totals (admin.counts.ts campaignTotals): the same figures,
 *   read the same way, so a visitor and a campaign lead never see different numbers.
 * - Everything a coalition member would re-skin (name, logo, colours, hero text and picture,
 *   story, share line) comes from the campaign file's `branding`; nothing here is campaign text.
 */
import type { Deps } from "../../deps";
import { campaignTotals } from "../admin/admin.counts";
import { brandingOf } from "../letters/letters.campaign";
import { emptyPledgeForm, pledgeFormView } from "../pledges/pledges.form";

export async function frontPage(deps: Pick<Deps, "db" | "config">) {
  const campaign = deps.config.campaign;
  const b = brandingOf(campaign);
  return {
    hero: {
      heading: b.hero.heading,
      text: b.hero.text,
      image: b.hero.image ? { src: `/campaign/${b.hero.image.file}`, alt: b.hero.image.alt } : undefined,
    },
    story: b.story,
    asks: campaign.asks.map((a) => ({ id: a.id, title: a.title, summary: a.summary })),
    totals: await campaignTotals(deps),
    pledgeForm: pledgeFormView({ campaign, action: "/pledge", values: emptyPledgeForm() }),
  };
}
