/**
 * Share links (X, Bluesky, Facebook, WhatsApp, email) with the campaign's hashtag. The text says
 * only what the sharer has done: before they confirm anything it claims nothing about them (the
 * campaign's own share line from its branding); after a confirmed letter, "I've written to my MP";
 * after a confirmed pledge, "I've pledged".
 */
import type { Config } from "../../env";
import { brandingOf } from "../letters/letters.campaign";

export type ShareClaim = { kind: "none" } | { kind: "wrote"; to: string } | { kind: "pledged" };

export function shareLinks(config: Config, claim: ShareClaim = { kind: "none" }) {
  const c = config.campaign;
  const publicUrl = config.PUBLIC_URL;
  const text =
    claim.kind === "wrote"
      ? `I've written to ${claim.to} asking them to back the ${c.name}. You can too:`
      : claim.kind === "pledged"
        ? `I've pledged to ${c.hashtag} and the ${c.name}. You can too:`
        : brandingOf(c).shareText;
  // X takes the hashtag as a parameter; the others need it in the text.
  const withTag = text.includes(c.hashtag) ? text : `${text} ${c.hashtag}`;
  const t = encodeURIComponent(text);
  const u = encodeURIComponent(publicUrl);
  const tag = encodeURIComponent(c.hashtag.replace("#", ""));
  const full = encodeURIComponent(`${withTag} ${publicUrl}`);
  return {
    hashtag: c.hashtag,
    url: publicUrl,
    text: withTag,
    links: [
      { name: "WhatsApp", href: `https://wa.me/?text=${full}` },
      { name: "Facebook", href: `https://www.facebook.com/sharer/sharer.php?u=${u}` },
      {
        name: "X (Twitter)",
        href: `https://twitter.com/intent/tweet?text=${t}&url=${u}${text.includes(c.hashtag) ? "" : `&hashtags=${tag}`}`,
      },
      { name: "Bluesky", href: `https://bsky.app/intent/compose?text=${full}` },
      {
        name: "Email",
        href: `mailto:?subject=${encodeURIComponent(`${c.hashtag}: ${c.name}`)}&body=${full}`,
      },
    ],
  };
}
