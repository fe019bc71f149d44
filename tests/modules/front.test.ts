/**
 * The front page and the campaign's branding: the story, the five asks, live counters, a pledge
 * that needs no lookup first, share links with the hashtag, all from the campaign file, so a
 * coalition member re-skins the site without code (checked, so a re-skin can't break contrast
 * or point at a missing picture). Works without JavaScript: plain forms only.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { parseEnv } from "../../src/env";
import { parseCampaign } from "../../src/modules/letters/letters.campaign";
import { expectStatus, testApp } from "../support/deps";
import { form, pledgeTestApp, tokenIn } from "../support/pledges";

const shipped = JSON.parse(
  readFileSync(resolve(ROOT_DIR, "data/campaigns/manifesto-for-babies.json"), "utf8"),
) as Record<string, unknown> & { branding: Record<string, unknown> };
/** The manifesto's source text (the project's shared material, beside the repository: not shipped). */
const SEED = ["../shared", "../../shared"]
  .map((d) => resolve(ROOT_DIR, d, "seeds/004_585a0206a7f886e1.txt"))
  .find((p) => existsSync(p));

describe("the front page", () => {
  it("tells the campaign's story, lists its five asks, and offers the postcode finder, a pledge and share links", async () => {
    const t = testApp();
    const res = await t.request("/");
    const html = (await expectStatus(res, 200)) as string;
    const b = shipped.branding as { hero: { heading: string }; story: string[] };
    expect(html).toContain(`<h1 id="hero-title">${b.hero.heading.replace(/'/g, "&#x27;")}</h1>`);
    for (const p of b.story) expect(html).toContain(p.replace(/'/g, "&#x27;"));
    const asks = [...html.matchAll(/<li><h3>([^<]+)<\/h3>/g)].map((m) => m[1]);
    expect(asks).toHaveLength(5);
    // The finder, the pledge (no lookup first) and share links with the hashtag.
    expect(html).toContain('<form method="get" action="/find"');
    expect(html).toMatch(/<form method="post" action="\/pledge" class="pledge-form"/);
    expect(html).toContain("hashtags&#x3D;SpeakUpForBabies");
    // Counters and pictures with their alt text; nothing needs a script.
    expect(html).toMatch(/data-figure="letters"><strong>0<\/strong> letters/);
    expect(html).toContain(
      '<img src="/campaign/manifesto-for-babies.hero.svg" alt="Drawing of a parent holding a baby',
    );
    expect(html).toContain(
      '<img src="/campaign/manifesto-for-babies.logo.svg" alt="First 1001 Days Movement"',
    );
    expect(html).not.toMatch(/<script(?![^>]*src="\/static\/app\.js")/);
    expect(res.headers.get("cache-control")).toBe("public, max-age=0, s-maxage=60");
  });

  it.skipIf(!SEED)(
    "uses the campaign's own words, paraphrasing the manifesto rather than copying its sentences",
    () => {
      const seeds = readFileSync(SEED as string, "utf8");
      const b = shipped.branding as {
        story: string[];
        hero: { heading: string; text: string };
        shareText: string;
        pledgeText: string;
        thanks: string;
        storyPrompt: string;
      };
      const ours = [
        ...b.story,
        b.hero.heading,
        b.hero.text,
        b.shareText,
        b.pledgeText,
        b.thanks,
        b.storyPrompt,
      ].join(" ");
      const sentences = seeds.split(/(?<=[.!?])\s+/).filter((s) => s.split(/\s+/).length >= 8);
      for (const s of sentences) expect(ours, s).not.toContain(s.trim());
      // No run of 8 words copied either.
      const words = (x: string) =>
        x
          .toLowerCase()
          .replace(/[^a-z0-9 ]/g, " ")
          .split(/\s+/)
          .filter(Boolean);
      const seedGrams = new Set<string>();
      const sw = words(seeds);
      for (let i = 0; i + 8 <= sw.length; i++) seedGrams.add(sw.slice(i, i + 8).join(" "));
      const ow = words(ours);
      for (let i = 0; i + 8 <= ow.length; i++)
        expect(seedGrams.has(ow.slice(i, i + 8).join(" "))).toBe(false);
    },
  );

  it("keeps its first view small: page, stylesheet, logo and picture under 14 KB gzipped", async () => {
    const t = testApp();
    let total = 0;
    for (const path of [
      "/",
      "/static/app.css",
      "/campaign/manifesto-for-babies.logo.svg",
      "/campaign/manifesto-for-babies.hero.svg",
    ]) {
      const res = await t.request(path);
      expect(res.status, path).toBe(200);
      total += gzipSync(Buffer.from(await res.arrayBuffer())).length;
    }
    expect(total).toBeLessThan(14 * 1024);
  });

  it("serves the campaign's pictures and a favicon", async () => {
    const t = testApp();
    const logo = await t.request("/campaign/manifesto-for-babies.logo.svg");
    expect(logo.headers.get("content-type")).toBe("image/svg+xml");
    expect(await logo.text()).toMatch(/^<svg /);
    const icon = await t.request("/favicon.ico");
    expect(icon.status).toBe(200);
    expect(icon.headers.get("content-type")).toBe("image/svg+xml");
    expect((await expectStatus(await t.request("/privacy"), 200)) as string).toContain(
      '<link rel="icon" href="/favicon.ico" type="image/svg+xml">',
    );
    expect((await t.request("/campaign/nothing.svg")).status).toBe(404);
    expect((await t.request("/campaign/..%2Fcampaigns%2Fmanifesto-for-babies.json")).status).toBe(404);
  });
});

describe("re-skinning from the campaign file", () => {
  const coalition = {
    ...shipped,
    name: "Charter for Toddlers",
    hashtag: "#TalkToddlers",
    organisation: "Toddler Coalition",
    branding: {
      siteName: "#TalkToddlers",
      logo: { file: "manifesto-for-babies.logo.svg", alt: "Toddler Coalition" },
      colours: { accent: "#0b5e3c", panel: "#eef6f1" },
      hero: { heading: "Toddlers need you to talk to your MP", text: "Two minutes, one letter." },
      story: ["Our own story paragraph."],
      shareText: "Ask your MP to back the Charter for Toddlers:",
    },
  };

  it("changes the name, colours, hero, story and share line with no code", async () => {
    const t = testApp({}, { campaign: coalition });
    const html = (await expectStatus(await t.request("/"), 200)) as string;
    expect(html).toContain("<title>Ask your MP to back the Charter for Toddlers · #TalkToddlers</title>");
    expect(html).toContain("<span>#TalkToddlers</span>");
    expect(html).toContain("Toddlers need you to talk to your MP");
    expect(html).toContain("Our own story paragraph.");
    expect(html).not.toContain("Babies can&#x27;t speak up");
    expect(html).toContain("hashtags&#x3D;TalkToddlers");
    const css = (await expectStatus(await t.request("/static/app.css"), 200)) as string;
    expect(css).toContain("--accent: #0b5e3c");
    expect(css).toContain("--panel: #eef6f1");
    // The pledge page and the footer follow too.
    expect((await expectStatus(await t.request("/pledge"), 200)) as string).toContain(
      "A Toddler Coalition action for the Charter for Toddlers",
    );
  });

  it("brands the pledge, its confirmation mail and every page on the way with the campaign's own hashtag and name, never #SpeakUpForBabies", async () => {
    const t = pledgeTestApp({}, { campaign: coalition });
    const ours = (text: string, where: string) => {
      expect(text, where).not.toMatch(
        /SpeakUpForBabies|Manifesto for Babies|1001 days|speaking up for babies/i,
      );
      return text;
    };
    const page = ours((await expectStatus(await t.request("/pledge"), 200)) as string, "/pledge");
    expect(page).toContain("<h1>Pledge to #TalkToddlers</h1>");
    expect(page).toContain("Add your name to the people backing the Charter for Toddlers.");
    expect(page).toContain(
      "I pledge to #TalkToddlers: to back the Charter for Toddlers and ask my MP to do the same.",
    );
    ours((await expectStatus(await t.request("/"), 200)) as string, "/");

    const res = await t.request(
      "/pledge",
      form({
        name: "Ada Supporter",
        email: "ada@example.org",
        postcode: "GU11 1AA",
        pledgeConsent: "pledge-2026-11",
      }),
    );
    ours((await expectStatus(res, 202)) as string, "check your email");
    expect(t.sent).toHaveLength(1);
    const mail = t.sent[0];
    expect(mail?.subject).toBe("Please confirm your #TalkToddlers pledge");
    expect(mail?.from.name).toBe("#TalkToddlers");
    expect(ours(mail?.text ?? "", "confirmation mail")).toContain("Thank you for pledging to #TalkToddlers.");
    // The consent row keeps the version: with the campaign id it says exactly what was agreed to.
    expect(
      t.sqlite.prepare("select campaign_id, pledge_consent_version v from supporter_pledges").get(),
    ).toEqual({
      campaign_id: "manifesto-for-babies",
      v: "pledge-2026-11",
    });

    const token = tokenIn(mail, "/pledge/confirm");
    const confirm = ours(
      (await expectStatus(
        await t.request(`/pledge/confirm?token=${encodeURIComponent(token)}`),
        200,
      )) as string,
      "confirm page",
    );
    expect(confirm).toContain("confirm your pledge to #TalkToddlers");
    const done = ours(
      (await expectStatus(await t.request("/pledge/confirm", form({ token })), 200)) as string,
      "confirmed page",
    );
    expect(done).toContain("Your pledge to #TalkToddlers is confirmed.");

    // Pages and settings a re-skin would otherwise miss.
    const privacy = ours((await expectStatus(await t.request("/privacy"), 200)) as string, "/privacy");
    expect(privacy).toContain("Toddler Coalition is the data controller for #TalkToddlers.");
    const loader = ours((await expectStatus(await t.request("/widget.js"), 200)) as string, "/widget.js");
    expect(loader).toContain('"Write to your MP: #TalkToddlers"');
    expect(t.deps.config.MAIL_FROM_SUFFIX).toBe("via #TalkToddlers");
  });

  it("refuses colours that would make buttons, links or panels unreadable, naming the field", () => {
    const bad = (colours: Record<string, string>) => () =>
      parseCampaign({ ...coalition, branding: { ...coalition.branding, colours } }, "x.json");
    expect(bad({ accent: "#ffcc00" })).toThrow(
      /branding\.colours\.accent: white text on the accent colour has a contrast of 1\.\d+:1/,
    );
    expect(bad({ accent: "#0b5e3c", panel: "#444444" })).toThrow(
      /branding\.colours\.panel: text on the panel colour/,
    );
    expect(bad({ accent: "green" })).toThrow(/branding\.colours\.accent: a colour such as #6b2c91/);
  });

  it("refuses a picture the file names but nobody put beside it", () => {
    const missing = {
      ...coalition,
      branding: { ...coalition.branding, logo: { file: "toddlers.logo.svg", alt: "x" } },
    };
    expect(() => parseEnv({}, { "manifesto-for-babies": missing }, {})).toThrow(
      /branding\.logo\.file: no picture data\/campaigns\/toddlers\.logo\.svg/,
    );
  });
});
