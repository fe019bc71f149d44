import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Templates } from "../../deps";
import { templatesFromSources } from "../../lib/templates";

/** Every `*.hbs` under `dir`, keyed by its path without the extension ("pages/home"). */
export function readTemplateSources(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.name.endsWith(".hbs"))
        out[
          relative(dir, p)
            .split(sep)
            .join("/")
            .replace(/\.hbs$/, "")
        ] = readFileSync(p, "utf8");
    }
  };
  walk(dir);
  return out;
}

export const loadTemplates = (dir: string): Templates => templatesFromSources(readTemplateSources(dir));
