/**
 * Supporter-facing text in Welsh (Cymraeg) as well as English, gettext-style: English is the
 * source, written in the templates and code as always, and data/i18n/cy.json maps each English
 * string (msgid) to its Welsh (msgstr). Nothing in a template is marked up for translation, so
 * templates stay readable and edits to them need no key bookkeeping.
 *
 * Rules:
 * - Templates: a language's copy of a template is its source with every catalogue string found in
 *   it replaced (longest first, whole words only), compiled once at start-up (Node) or build time
 *   (Workers). Catalogue strings may contain Handlebars expressions ("to {{recipientName}}."),
 *   which the translation must keep (a test checks) and may move.
 * - Strings made in code (page titles, error messages): `translate` finds an exact catalogue
 *   match; `{name}`-style placeholders in a catalogue key match any text and carry it over.
 * - Anything without a translation stays English: a missing string never breaks a page. A test
 *   fails when a catalogue string no longer occurs anywhere (the English was edited), so the
 *   Welsh is updated with it.
 * - Only supporters' pages are translated (the journey, pledge and embed pages); the campaign's
 *   and partners' own pages, emails and letters to representatives stay in English.
 */
import cy from "../../data/i18n/cy.json";

export const LANGS = ["en", "cy"] as const;
export type Lang = (typeof LANGS)[number];
export const isLang = (v: unknown): v is Lang =>
  typeof v === "string" && (LANGS as readonly string[]).includes(v);

/** BCP 47 tags for <html lang>. */
export const LANG_TAG: Record<Lang, string> = { en: "en-GB", cy: "cy" };

type Catalogue = Record<string, string>;
export const CATALOGUES: Record<Exclude<Lang, "en">, Catalogue> = { cy: cy.strings as Catalogue };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Keys in the order they are applied to a template: longest first, so a sentence wins over its words. */
const ordered = new Map<Lang, [RegExp, string][]>();
function rules(lang: Exclude<Lang, "en">): [RegExp, string][] {
  let r = ordered.get(lang);
  if (!r) {
    r = Object.entries(CATALOGUES[lang])
      .filter(([en]) => !en.includes("{") || en.includes("{{"))
      .sort((a, b) => b[0].length - a[0].length)
      .map(([en, tr]) => [new RegExp(`(?<![\\p{L}\\p{N}])${escapeRe(en)}(?![\\p{L}\\p{N}])`, "gu"), tr]);
    ordered.set(lang, r);
  }
  return r;
}

/** A template's source in `lang` (English sources are returned as they are). */
export function translateSource(lang: Lang, source: string): string {
  if (lang === "en") return source;
  let out = source;
  for (const [re, tr] of rules(lang)) out = out.replace(re, () => tr);
  return out;
}

/** Catalogue keys with {placeholders} (not Handlebars), as matchers: "Write to {name}". */
const patterns = new Map<Lang, { re: RegExp; names: string[]; tr: string }[]>();
function patternRules(lang: Exclude<Lang, "en">) {
  let p = patterns.get(lang);
  if (!p) {
    p = Object.entries(CATALOGUES[lang])
      .filter(([en]) => /\{[a-z]+\}/i.test(en) && !en.includes("{{"))
      .map(([en, tr]) => {
        const names: string[] = [];
        const re = new RegExp(
          `^${escapeRe(en).replace(/\\\{([a-z]+)\\\}/gi, (_, n: string) => {
            names.push(n);
            return "(.+?)";
          })}$`,
          "su",
        );
        return { re, names, tr };
      });
    patterns.set(lang, p);
  }
  return p;
}

/** A string made in code, in `lang`: its catalogue entry, or the English unchanged. */
export function translate(lang: Lang | undefined, english: string): string {
  if (!lang || lang === "en") return english;
  const exact = CATALOGUES[lang][english];
  if (exact !== undefined) return exact;
  for (const { re, names, tr } of patternRules(lang)) {
    const m = re.exec(english);
    if (m) return names.reduce((s, n, i) => s.replaceAll(`{${n}}`, m[i + 1] ?? ""), tr);
  }
  return english;
}

/** Templates that supporters see (and so are translated): pages outside the dashboards. */
export const isSupporterTemplate = (name: string) =>
  name.startsWith("pages/") &&
  !name.startsWith("pages/admin/") &&
  !name.startsWith("pages/partner/") &&
  !name.endsWith(".css") &&
  name !== "pages/widget/partners" &&
  name !== "pages/letters/dev-mail";
