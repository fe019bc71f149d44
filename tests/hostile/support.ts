/** Shared by the hostile tests: every route the app serves, with sample values for its parameters. */
import type { Hono } from "hono";

const SAMPLE: [RegExp, string][] = [
  [/:kind\{mp\|candidate\}/, "mp"],
  [/:kind\{export\|erase\}/, "export"],
  [/:ref\b/, "E14001063"],
  [/:code\b/, "E14001063"],
  [/:id\b/, "00000000-0000-4000-8000-000000000000"],
  [/\*/, "x"],
];

/** Unique method + concrete path of every route (middleware-only `ALL` entries left out). */
export function everyRoute(
  app: Pick<Hono, "routes">,
  methods: string[] = ["GET", "POST"],
): { method: string; path: string }[] {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    if (!methods.includes(r.method)) continue;
    let path = r.path;
    for (const [re, value] of SAMPLE) path = path.replace(re, value);
    const key = `${r.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ method: r.method, path });
  }
  return out;
}

/** A body stream of `total` bytes in 16 KB chunks that counts how much was pulled from it. */
export function countingStream(total: number) {
  const chunk = new TextEncoder().encode("a".repeat(16 * 1024));
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}
