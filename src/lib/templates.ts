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

type Template = (data: object) => string;

function helpers(hb: typeof Handlebars) {
  hb.registerHelper("eq", (a: unknown, b: unknown) => a === b);
  hb.registerHelper("gt", (a: unknown, b: unknown) => Number(a) > Number(b));
}

export function templatesFromSources(sources: Record<string, string>): Templates {
  const hb = Handlebars.create();
  helpers(hb);
  const compiled = new Map<string, Template>();
  for (const [name, source] of Object.entries(sources)) {
    const m = /(?:^|\/)partials\/([^/]+)$/.exec(name);
    if (m?.[1]) hb.registerPartial(m[1], source);
    else compiled.set(name, hb.compile(source, precompileOptions(name)));
  }
  return fromCompiled(compiled);
}

/** A template precompiled at build time by `Handlebars.precompile` (scripts/precompile-templates.ts). */
export type PrecompiledTemplates = Record<string, Parameters<typeof Handlebars.template>[0]>;

/**
 * The same templates from precompiled specs: no `Handlebars.compile`, so no eval, which Workers
 * forbid. Names and the partials/ rule match `templatesFromSources`; escaping options were fixed
 * when the spec was compiled (see `precompileOptions`).
 */
export function templatesFromPrecompiled(specs: PrecompiledTemplates): Templates {
  const hb = Handlebars.create();
  helpers(hb);
  const compiled = new Map<string, Template>();
  for (const [name, spec] of Object.entries(specs)) {
    const m = /(?:^|\/)partials\/([^/]+)$/.exec(name);
    if (m?.[1]) hb.registerPartial(m[1], hb.template(spec));
    else compiled.set(name, hb.template(spec));
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

function fromCompiled(compiled: Map<string, Template>): Templates {
  return {
    has: (name) => compiled.has(name),
    render(name, data) {
      const t = compiled.get(name);
      if (!t) throw new Error(`no template named ${name}`);
      return t(data);
    },
  };
}
