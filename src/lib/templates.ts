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
}

export function templatesFromSources(sources: Record<string, string>): Templates {
  const hb = Handlebars.create();
  helpers(hb);
  const compiled = new Map<string, Template>();
  for (const [name, source] of Object.entries(sources)) {
    const m = /(?:^|\/)partials\/([^/]+)$/.exec(name);
    if (m?.[1]) hb.registerPartial(m[1], source);
    else compiled.set(name, hb.compile(source, { strict: false, noEscape: name.endsWith(".css") }));
  }
  return fromCompiled(compiled);
}

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
