/**
 * Node entry point: parse configuration, open SQLite (migrations applied), seed an empty
 * database from data/, and serve the app. `npm start`.
 */
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { createApp } from "../../app";
import { ConfigError, parseEnv } from "../../env";
import { drainOnce } from "../../modules/delivery/delivery.service";
import { activeCampaign } from "../../modules/letters/letters.campaign";
import { runRetention } from "../../modules/privacy/privacy.service";
import { buildNodeDeps, ROOT_DIR } from "./deps";
import { startOutboxWorker } from "./mailer";
import { startMemberSync } from "./member-sync";
import { seed } from "./seed";

async function main() {
  const config = parseEnv(process.env);
  const { deps, sqlite } = buildNodeDeps(config);
  if (config.SEED) {
    const counts = await seed(deps, resolve(ROOT_DIR, "data"));
    deps.logger.info("data loaded", counts);
  }
  // A bad campaign file stops start-up here, naming the field.
  activeCampaign();
  const app = createApp(() => deps);
  // The outbox worker: in capture mode it "sends" into captured_mail; otherwise over SMTP. An
  // unreachable relay is not fatal: rows wait in `failed` and go when it is back.
  const mailer = deps.mailer as { verify?: () => Promise<boolean> };
  if (config.MAIL_MODE !== "capture" && mailer.verify && !(await mailer.verify()))
    deps.logger.warn("SMTP relay not reachable at start-up; mail will wait in the outbox", {
      mode: config.MAIL_MODE,
    });
  const worker =
    config.OUTBOX_POLL_MS > 0
      ? startOutboxWorker(() => drainOnce(deps), {
          pollMs: config.OUTBOX_POLL_MS,
          batch: config.OUTBOX_BATCH,
          onError: (e) =>
            deps.logger.error("outbox pass failed", { error: e instanceof Error ? e.stack : String(e) }),
        })
      : undefined;
  // Retention (privacy): scrub old letter text and addresses, drop unconfirmed pledges. Once at
  // start, then every RETENTION_INTERVAL_MINUTES.
  const retentionPass = () =>
    runRetention(deps).catch((e) =>
      deps.logger.error("retention pass failed", { error: e instanceof Error ? e.stack : String(e) }),
    );
  const retention =
    config.RETENTION_INTERVAL_MINUTES > 0
      ? setInterval(retentionPass, config.RETENTION_INTERVAL_MINUTES * 60_000)
      : undefined;
  retention?.unref();
  if (retention) void retentionPass();
  // MPs kept current from the Members API: daily, MEMBERS_SYNC_INTERVAL_HOURS=0 turns it off.
  const memberSync = startMemberSync(deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    const url = `http://${info.address.includes(":") ? `[${info.address}]` : info.address}:${info.port}`;
    process.stdout.write(`speakup is running at ${url}  (database: ${config.DATABASE_PATH})\n`);
    process.stdout.write(`Try ${url}/find?postcode=ZZ9+9ZZ or ${url}/api/lookup?postcode=ZZ99ZZ\n`);
  });
  const shutdown = () => {
    server.close(async () => {
      clearInterval(retention);
      await memberSync.stop();
      await worker?.stop();
      deps.mailer.close?.();
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
