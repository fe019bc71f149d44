/**
 * Welsh for the supporters' pages (lib/i18n.ts, data/i18n/cy.json): the catalogue stays in step
 * with the English it translates, keeps every placeholder, and the Welsh copies render.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { readTemplateSources } from "../../src/adapters/node/templates";
import { CATALOGUES, isSupporterTemplate, translate, translateSource } from "../../src/lib/i18n";

const cy = CATALOGUES.cy;
const sources = readTemplateSources(join(ROOT_DIR, "templates"));
const supporterSources = Object.entries(sources).filter(([n]) => isSupporterTemplate(n));
const code = (() => {
  const out: string[] = [readFileSync(join(ROOT_DIR, "data/campaigns/manifesto-for-babies.json"), "utf8")];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) out.push(readFileSync(p, "utf8"));
    }
  };
  walk(join(ROOT_DIR, "src"));
  return out.join("\n");
})();

/** The Handlebars expressions used (a translation may repeat one, or add an {{else}}, to reorder). */
const mustaches = (s: string) =>
  [...new Set((s.match(/\{\{[^}]*\}\}/g) ?? []).filter((m) => m !== "{{else}}"))].sort();
const placeholders = (s: string) => (s.match(/(?<!\{)\{[a-z]+\}(?!\})/gi) ?? []).sort();

describe("the Welsh catalogue", () => {
  it("has no string the English no longer says: each occurs in a supporter template or in the code", () => {
    const stale = Object.keys(cy).filter((en) => {
      if (supporterSources.some(([, s]) => s.includes(en))) return false;
      // Strings made in code: each literal piece between {placeholders} is in the source.
      return !en
        .split(/\{[a-z]+\}/i)
        .filter((p) => p.length > 0)
        .every((piece) => code.includes(piece));
    });
    expect(stale).toEqual([]);
  });

  it("keeps every Handlebars expression and {placeholder} of the English in the Welsh, and nothing else", () => {
    for (const [en, tr] of Object.entries(cy)) {
      expect(mustaches(tr), en).toEqual(mustaches(en));
      expect(placeholders(tr), en).toEqual(placeholders(en));
      expect(tr, en).not.toBe(en);
    }
  });

  it("translates whole phrases only, leaving markup and unknown text alone", () => {
    expect(translateSource("cy", "<h1>Find your MP</h1><p>Find your MPs</p>")).toBe(
      "<h1>Dod o hyd i'ch AS</h1><p>Find your MPs</p>",
    );
    expect(translateSource("en", "<h1>Find your MP</h1>")).toBe("<h1>Find your MP</h1>");
    expect(translate("cy", "Write to Jane Smith")).toBe("Ysgrifennu at Jane Smith");
    expect(translate("cy", "Something new")).toBe("Something new");
    expect(translate(undefined, "Find your MP")).toBe("Find your MP");
  });
});
