/**
 * Node entry point: parse configuration (with the campaign file), open SQLite (migrations
 * applied), seed an empty database from data/, and serve the app. `npm start` runs the compiled
 * bundle of this file (dist/node/main.js); `npm run dev` runs it from source.
 *
 * Shutdown (SIGTERM, SIGINT): stop taking connections, let requests in flight finish, let the
 * outbox worker finish the messages it is sending (a row abandoned mid-send would wait for its
 * lease), then close the database. SHUTDOWN_GRACE_SECONDS bounds the whole thing.
 */
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { createApp } from "../../app";
import { ConfigError, parseEnv } from "../../env";
import { describeError } from "../../http/problem";
import { checkRelayAtStart } from "../../modules/delivery/delivery.relay";
import { drainOnce } from "../../modules/delivery/delivery.service";
import { runDigests } from "../../modules/digest/digest.service";
import { runRetention } from "../../modules/privacy/privacy.service";
import { startBounceListener } from "./bounce-listener";
import { buildNodeDeps, ROOT_DIR, readCampaignAssets, readCampaignFiles } from "./deps";
import { startOutboxWorker } from "./mailer";
import { startMemberSync } from "./member-sync";
import { seed } from "./seed";
import { banner, checkPortFree, portInUse, publicUrlAfterListen, StartError } from "./startup";

async function main() {
  const config = parseEnv(process.env, readCampaignFiles(), readCampaignAssets());
  // A second copy on a busy port stops here, with one line, before touching the database.
  await checkPortFree(config.HOST, config.PORT);
  const { deps, sqlite, stop: stopDeps, onOutboxReady } = buildNodeDeps(config);
  if (config.SEED) {
    const counts = await seed(deps, resolve(ROOT_DIR, "data"));
    deps.logger.info("data loaded", counts);
  }
  // Made now, so the first sign-in for an unknown address costs what every later one does.
  void deps.passwords.dummyHash();
  const app = createApp(() => deps);
  // The outbox worker: in capture mode it "sends" into captured_mail; otherwise over SMTP. A
  // failing relay is not fatal: the outbox pauses (nothing consumed) until it works again.
  await checkRelayAtStart(deps);
  const bounces = await startBounceListener(deps);
  const worker =
    config.OUTBOX_POLL_MS > 0
      ? startOutboxWorker(() => drainOnce(deps), {
          pollMs: config.OUTBOX_POLL_MS,
          batch: config.OUTBOX_BATCH,
          onError: (e) => deps.logger.error("outbox pass failed", { error: describeError(e) }),
        })
      : undefined;
  // A confirmed letter (or any mail made ready) starts a pass now instead of at the next poll.
  if (worker) onOutboxReady(() => worker.wake());
  // Retention (privacy): scrub old letter text and addresses, drop unconfirmed pledges. Once at
  // start, then every RETENTION_INTERVAL_MINUTES.
  const retentionPass = () =>
    runRetention(deps).catch((e) => deps.logger.error("retention pass failed", { error: describeError(e) }));
  const retention =
    config.RETENTION_INTERVAL_MINUTES > 0
      ? setInterval(retentionPass, config.RETENTION_INTERVAL_MINUTES * 60_000)
      : undefined;
  retention?.unref();
  if (retention) void retentionPass();
  // Digests for representatives' offices (only when the campaign file turns them on): checked
  // every DIGEST_CHECK_MINUTES; each office gets one per period however often this runs.
  const digestPass = () =>
    runDigests(deps).catch((e) => deps.logger.error("digest pass failed", { error: describeError(e) }));
  const digest =
    config.DIGEST_CHECK_MINUTES > 0 && config.campaign.digest.enabled
      ? setInterval(digestPass, config.DIGEST_CHECK_MINUTES * 60_000)
      : undefined;
  digest?.unref();
  if (digest) void digestPass();
  // MPs kept current from the Members API: daily, MEMBERS_SYNC_INTERVAL_HOURS=0 turns it off.
  const memberSync = startMemberSync(deps);
  const server = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, (info) => {
    // PORT=0 took a free port: links follow it, unless PUBLIC_URL says otherwise.
    config.PUBLIC_URL = publicUrlAfterListen(config, info.port);
    for (const line of banner(config, info)) process.stdout.write(`${line}\n`);
  });
  // Taken between the check and now (another process was quicker): the same one line.
  server.on("error", (e: NodeJS.ErrnoException) => {
    process.stderr.write(
      `${e.code === "EADDRINUSE" ? portInUse(config.HOST, config.PORT) : `speakup: ${describeError(e)}`}\n`,
    );
    process.exit(1);
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info("shutting down", { signal, graceSeconds: config.SHUTDOWN_GRACE_SECONDS });
    // Past the grace period, go anyway: a row still `sending` is reclaimed after its lease.
    setTimeout(() => {
      deps.logger.warn("shutdown grace period over; exiting with work unfinished", {});
      process.exit(1);
    }, config.SHUTDOWN_GRACE_SECONDS * 1000).unref();
    clearInterval(retention);
    clearInterval(digest);
    const closed = new Promise<void>((done) => server.close(() => done()));
    // Idle keep-alive connections would hold close() open; busy ones finish their request first.
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    await Promise.all([closed, memberSync.stop(), worker?.stop(), bounces?.close()]);
    deps.mailer.close?.();
    stopDeps();
    sqlite.close();
    deps.logger.info("stopped", {});
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((e) => {
  process.stderr.write(
    e instanceof ConfigError || e instanceof StartError ? `${e.message}\n` : `${describeError(e)}\n`,
  );
  process.exit(1);
});
