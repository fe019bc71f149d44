import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    // better-sqlite3 is a native module: forks isolate it more simply than worker threads.
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
