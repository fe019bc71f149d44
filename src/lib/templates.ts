/**
 * Handlebars templates from a map of name -> source ("pages/home" -> "...").
 * Templates under any `partials/` folder register as partials by file name ("layout").
 * `{{x}}` escapes HTML; user input is only ever data, never template source, so nothing a
 * supporter types is interpreted as template syntax.
 *
 * Node compiles at start-up; Workers can't (Handlebars.compile needs eval), so the Workers
 * build passes precompiled template specs instead (see adapters/workers).
 */
import Handlebars from "handlebars";
import type { Templates } from "../deps";
import { isLang, isSupporterTemplate, LANGS, translateSource } from "./i18n";

type Template = (data: object) => string;

/** 1234 -> "1,234". */
export const formatNumber = (n: unknown) => Number(n ?? 0).toLocaleString("en-GB");

function helpers(hb: typeof Handlebars) {
  hb.registerHelper("eq", (a: unknown, b: unknown) => a === b);
  hb.registerHelper("gt", (a: unknown, b: unknown) => Number(a) > Number(b));
  hb.registerHelper("num", (n: unknown) => formatNumber(n));
  /** {{plural n "supporter" "supporters"}} -> "1 supporter", "1,234 supporters". */
  hb.registerHelper(
    "plural",
    (n: unknown, one: unknown, many: unknown) =>
      `${formatNumber(n)} ${Number(n) === 1 ? String(one) : String(many)}`,
  );
}

export function templatesFromSources(sources: Record<string, string>): Templates {
  return fromCompiled(compileAll(withTranslations(sources)));
}

/**
 * Each language's copies of the supporters' templates, named "<lang>:<name>" ("cy:pages/home"),
 * made from the English sources with the language's catalogue (lib/i18n.ts). The precompile
 * script for Workers uses the same list, so both runtimes render the same Welsh.
 */
export function withTranslations(sources: Record<string, string>): Record<string, string> {
  const out = { ...sources };
  for (const lang of LANGS)
    if (lang !== "en")
      for (const [name, source] of Object.entries(sources))
        if (isSupporterTemplate(name)) out[`${lang}:${name}`] = translateSource(lang, source);
  return out;
}

/** "cy:pages/partials/layout" -> ["cy", "pages/partials/layout"]; no prefix is English. */
function splitLang(name: string): [string, string] {
  const m = /^([a-z]{2}):(.*)$/.exec(name);
  return m ? [m[1] as string, m[2] as string] : ["en", name];
}

/** One Handlebars environment per language (with our helpers), made when first asked for. */
function languageEnvs(): (lang: string) => typeof Handlebars {
  const envs = new Map<string, typeof Handlebars>();
  return (lang) => {
    let hb = envs.get(lang);
    if (!hb) {
      hb = Handlebars.create();
      helpers(hb);
      envs.set(lang, hb);
    }
    return hb;
  };
}

/**
 * One Handlebars environment per language, so `{{> layout}}` inside a Welsh page is the Welsh
 * layout. A language's environment starts with the English partials (for those with no Welsh
 * copy) and its own override them.
 */
function compileAll(sources: Record<string, string>) {
  const env = languageEnvs();
  const compiled = new Map<string, Template>();
  const partials = Object.entries(sources).filter(([n]) => PARTIAL.test(n));
  // English partials first in every environment, then each language's own.
  for (const lang of new Set(["en", ...Object.keys(sources).map((n) => splitLang(n)[0])]))
    for (const [name, source] of partials) {
      const [l, bare] = splitLang(name);
      if (l === "en") env(lang).registerPartial(PARTIAL.exec(bare)?.[1] as string, source);
    }
  for (const [name, source] of partials) {
    const [l, bare] = splitLang(name);
    if (l !== "en") env(l).registerPartial(PARTIAL.exec(bare)?.[1] as string, source);
  }
  for (const [name, source] of Object.entries(sources)) {
    if (PARTIAL.test(name)) continue;
    const [l, bare] = splitLang(name);
    compiled.set(name, env(l).compile(source, precompileOptions(bare)));
  }
  return compiled;
}

const PARTIAL = /(?:^|\/)partials\/([^/]+)$/;

/** A template precompiled at build time by `Handlebars.precompile` (scripts/precompile-templates.ts). */
export type PrecompiledTemplates = Record<string, Parameters<typeof Handlebars.template>[0]>;

/**
 * The same templates from precompiled specs: no `Handlebars.compile`, so no eval, which Workers
 * forbid. Names and the partials/ rule match `templatesFromSources`; escaping options were fixed
 * when the spec was compiled (see `precompileOptions`).
 */
export function templatesFromPrecompiled(specs: PrecompiledTemplates): Templates {
  const env = languageEnvs();
  const langs = new Set(["en", ...Object.keys(specs).map((n) => splitLang(n)[0])]);
  const compiled = new Map<string, Template>();
  for (const [name, spec] of Object.entries(specs)) {
    const m = PARTIAL.exec(name);
    const [l] = splitLang(name);
    if (m?.[1]) {
      // An English partial serves every language without its own copy; a language's copy wins.
      for (const lang of l === "en" ? langs : [l])
        if (l !== "en" || !(`${lang}:${name}` in specs))
          env(lang).registerPartial(m[1], env(lang).template(spec));
    } else compiled.set(name, env(l).template(spec));
  }
  return fromCompiled(compiled);
}

/**
 * Compile options per template name; the precompile script must use the same as `templatesFromSources`.
 * ".txt" templates are plain-text email bodies: not HTML-escaped (text/plain is never parsed as
 * HTML; a page that shows mail text renders it through an escaping template again).
 */
export const precompileOptions = (name: string) => ({
  strict: false,
  noEscape: name.endsWith(".css") || name.endsWith(".txt"),
});

/**
 * `data.lang` picks the language's copy of a template when there is one ("cy" -> "cy:<name>");
 * otherwise, and for English, the template itself.
 */
function fromCompiled(compiled: Map<string, Template>): Templates {
  return {
    has: (name) => compiled.has(name),
    render(name, data) {
      const lang = (data as { lang?: unknown }).lang;
      const t = (isLang(lang) && lang !== "en" && compiled.get(`${lang}:${name}`)) || compiled.get(name);
      if (!t) throw new Error(`no template named ${name}`);
      return t(data);
    },
  };
}

/**
 * The same templates with `site` (the campaign's name, logo and colours: letters.campaign.ts
 * siteOf) added to every render's data, so every page's layout can show it. A page's own data
 * wins on a clash.
 */
export function withSite(templates: Templates, site: object): Templates {
  return {
    has: (name) => templates.has(name),
    render: (name, data) => templates.render(name, { site, ...data }),
  };
}
