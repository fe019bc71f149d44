import { defineConfig } from "drizzle-kit";

// One migrations folder serves both runtimes: better-sqlite3 applies it at start-up and
// `wrangler d1 migrations apply` applies the same SQL files to D1.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./src/db/migrations",
});
