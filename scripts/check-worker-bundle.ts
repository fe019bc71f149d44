/**
 * Fails when the Worker bundle still imports a module workerd can't provide. `wrangler deploy
 * --dry-run` only *warns* about a Node built-in ("node:fs ... built into node") and leaves the
 * import in the bundle, where it would fail at run time; this turns that into a failed build.
 * Allowed: `cloudflare:*` modules, and WebAssembly modules wrangler emitted beside the bundle
 * (uploaded precompiled: argon2id). Run by `npm run deploy:dry` (part of `npm test`).
 *
 * usage: node --import tsx scripts/check-worker-bundle.ts [dist/worker.js]
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";

const file = resolve(process.argv[2] ?? "dist/worker.js");
const code = readFileSync(file, "utf8");

const specifiers = new Set<string>();
const patterns = [
  /^\s*(?:import|export)\b[^;"']*?\bfrom\s*["']([^"']+)["']/gm, // import x from "y" / export * from "y"
  /^\s*import\s*["']([^"']+)["']/gm, // import "y"
  /\bimport\(\s*["']([^"']+)["']\s*\)/g, // import("y")
  /\b__require\(\s*["']([^"']+)["']\s*\)/g, // esbuild's CJS shim: throws "Dynamic require" in workerd
];
/** A match on a comment line (a bundled library's JSDoc: `@param {import('./x.js').default} y`). */
const inComment = (index: number) => {
  const line = code.slice(code.lastIndexOf("\n", index) + 1, index).trimStart();
  return line.startsWith("*") || line.startsWith("//") || line.startsWith("/*");
};
for (const re of patterns)
  for (const m of code.matchAll(re)) if (m[1] && !inComment(m.index ?? 0)) specifiers.add(m[1]);

const emittedWasm = (s: string) => /^\.\/[\w.-]+\.wasm$/.test(s) && existsSync(resolve(dirname(file), s));
const bad = [...specifiers].filter((s) => !s.startsWith("cloudflare:") && !emittedWasm(s));
if (bad.length) {
  process.stderr.write(
    `${file} imports modules the Workers runtime doesn't provide:\n${bad.map((s) => `  ${s}`).join("\n")}\n` +
      "Move the code that needs them into src/adapters/node (the Workers path must be Node-free).\n",
  );
  process.exit(1);
}
process.stdout.write(`${file}: no Node-only imports\n`);
