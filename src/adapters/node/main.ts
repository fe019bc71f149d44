/**
 * Node entry point: parse configuration, open SQLite (migrations applied), seed an empty
 * database from data/, and serve the app. `npm start`.
 */
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { createApp } from "../../app";
import { ConfigError, parseEnv } from "../../env";
import { buildNodeDeps, ROOT_DIR } from "./deps";
import { seed } from "./seed";

async function main() {
  const config = parseEnv(process.env);
  const { deps, sqlite } = buildNodeDeps(config);
  if (config.SEED) {
    const counts = await seed(deps, resolve(ROOT_DIR, "data"));
    deps.logger.info("data loaded", counts);
  }
  const app = createApp(() => deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const url = `http://${info.address.includes(":") ? `[${info.address}]` : info.address}:${info.port}`;
    process.stdout.write(`speakup is running at ${url}  (database: ${config.DATABASE_PATH})\n`);
    process.stdout.write(`Try ${url}/find?postcode=ZZ9+9ZZ or ${url}/api/lookup?postcode=ZZ99ZZ\n`);
  });
  const shutdown = () => {
    server.close(() => {
      sqlite.close();
      process.exit(0);
    });
    // Don't hang on keep-alive sockets.
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((e) => {
  process.stderr.write(e instanceof ConfigError ? `${e.message}\n` : `${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
