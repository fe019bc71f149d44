import { defineConfig } from "vitest/config";

// Tests of the Workers build in workerd (Miniflare). They need the bundle, so run them with
// `npm run test:workers`, which builds dist/worker first; the main `vitest run` excludes them.
export default defineConfig({
  test: {
    include: ["tests/workers/**/*.test.ts"],
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
