import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // Workers-runtime tests need the built bundle: `npm run test:workers` (vitest.workers.config.ts).
    exclude: ["tests/workers/**", "**/node_modules/**"],
    // better-sqlite3 is a native module: forks isolate it more simply than worker threads.
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
