/**
 * The project's root folder (the one holding package.json), found by walking up from this file,
 * so data/, templates/ and the migrations are found the same way whether this runs from src/
 * (tsx, tests) or from the compiled bundle in dist/node/ (npm start).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function projectRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`speakup: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  root = dir;
  return dir;
}
