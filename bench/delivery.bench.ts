/**
 * Delivery benchmark: `npm run bench:delivery [-- --letters 10000 --pool 5 --batch 200]`.
 *
 * 1. Letters rendered per second: the real compose path's templates (letter body for the chosen
 *    asks + the sign-off), varied asks and stories, for a fixed number of letters.
 * 2. Outbox drain rate: a fresh SQLite file (real migrations) with N confirmed letters queued
 *    (letter rows + outbox rows written as submit/confirm would), drained by the real worker verb
 *    (`drainOutbox`) through the real pooled nodemailer transport into a local smtp-server sink on
 *    127.0.0.1 that counts messages. Each sent letter also queues its "sent" notice, which the same
 *    drain sends, so the run sends 2N emails.
 * 3. Prints figures and rewrites the delivery block of bench/REPORT.md.
 *
 * Bounded: loopback only (MAIL_MODE=reflect to the local sink; the recipients are .invalid/
 * example.org), a hard timeout, and the temp dir is removed. Client (worker) and SMTP sink share
 * this process and the machine's cores.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SMTPServer } from "smtp-server";
import { buildNodeDeps, ROOT_DIR } from "../src/adapters/node/deps";
import { smtpMailer } from "../src/adapters/node/mailer";
import { letters, type outbox } from "../src/db/schema.letters";
import { parseEnv } from "../src/env";
import { insertOutbox } from "../src/modules/delivery/delivery.machine";
import { outboxRow } from "../src/modules/delivery/delivery.outbox";
import { drainOutbox, outboxCounts } from "../src/modules/delivery/delivery.service";
import { renderText } from "../src/modules/letters/letters.templates";
import { ensureTestSeat, TEST_SEAT } from "../src/modules/lookup/lookup.import";
import { updateReport } from "./support/report";

const { values } = parseArgs({
  options: {
    letters: { type: "string", default: "10000" },
    renders: { type: "string", default: "20000" },
    pool: { type: "string", default: "10" },
    batch: { type: "string", default: "200" },
    "no-report": { type: "boolean", default: false },
  },
});
const N = Number(values.letters);
const RENDERS = Number(values.renders);
const POOL = Number(values.pool);
const BATCH = Number(values.batch);
const TIMEOUT_MS = 10 * 60 * 1000;

async function startSink() {
  let count = 0;
  let bytes = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    disableReverseLookup: true,
    logger: false,
    onData(stream, _s, cb) {
      stream.on("data", (c: Buffer) => {
        bytes += c.length;
      });
      stream.on("end", () => {
        count++;
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.server.address() as { port: number }).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: () => count,
    bytes: () => bytes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function main() {
  const hardStop = setTimeout(() => {
    process.stderr.write("delivery bench: timed out\n");
    process.exit(1);
  }, TIMEOUT_MS);
  hardStop.unref();
  const dir = mkdtempSync(join(tmpdir(), "speakup-delivery-"));
  const sink = await startSink();
  try {
    const config = parseEnv({
      DATABASE_PATH: join(dir, "bench.sqlite"),
      LOG_LEVEL: "error",
      MAIL_MODE: "reflect",
      MAIL_FROM: "campaign@example.org",
      SMTP_URL: sink.url,
      TOKEN_SECRET: "bench-only-token-secret-0123456789",
      OUTBOX_BATCH: String(BATCH),
      SMTP_POOL_SIZE: String(POOL),
    });
    const { deps, sqlite } = buildNodeDeps(config);
    const mailer = smtpMailer({ url: sink.url, poolSize: POOL, timeoutMs: 10_000 });
    deps.mailer = mailer;
    await ensureTestSeat(deps);
    const campaign = deps.config.campaign;

    // 1. Rendering.
    const stories = [
      null,
      "Our son was born at 29 weeks and the neonatal team saved him. 👶",
      "Café owner, mum of two, Zoë.",
    ];
    const t0 = performance.now();
    let chars = 0;
    for (let i = 0; i < RENDERS; i++) {
      const asks = campaign.asks.filter((_a, j) => (i >> j) & 1 || j === i % campaign.asks.length);
      const body = renderText(deps, i % 7 === 0 ? "letters/candidate.txt" : "letters/mp.txt", {
        recipient: { name: TEST_SEAT.mpName },
        constituency: { name: TEST_SEAT.name },
        campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
        asks,
        single: asks.length === 1,
        story: stories[i % stories.length] ?? null,
      });
      const signoff = renderText(deps, "letters/signoff.txt", {
        supporter: { name: `Supporter ${i}`, addressLines: [`${i} Test Street`, "Testtown", "ZZ9 9ZZ"] },
      });
      chars += body.length + signoff.length;
    }
    const renderSecs = (performance.now() - t0) / 1000;
    const rendersPerSec = RENDERS / renderSecs;

    // 2. Queue N confirmed letters, as submit + confirm leave them.
    const body = renderText(deps, "letters/mp.txt", {
      recipient: { name: TEST_SEAT.mpName },
      constituency: { name: TEST_SEAT.name },
      campaign: { name: campaign.name, organisation: campaign.organisation, hashtag: campaign.hashtag },
      asks: campaign.asks,
      single: false,
      story: null,
    });
    const now = deps.clock.now();
    const q0 = performance.now();
    const CHUNK = 500;
    for (let start = 0; start < N; start += CHUNK) {
      const ls: (typeof letters.$inferInsert)[] = [];
      const os: (typeof outbox.$inferInsert)[] = [];
      for (let i = start; i < Math.min(N, start + CHUNK); i++) {
        const id = randomUUID();
        const email = `supporter${i}@example.org`;
        ls.push({
          id,
          campaignId: campaign.id,
          constituencyCode: TEST_SEAT.onsCode,
          recipientKind: "mp",
          recipientName: TEST_SEAT.mpName,
          status: "confirmed",
          asks: campaign.asks.map((a) => a.id),
          subject: "Please speak up for babies",
          body,
          supporterName: `Supporter ${i}`,
          supporterEmail: email,
          supporterAddress: `${i} Test Street\nTesttown\nZZ9 9ZZ`,
          supporterPostcode: "ZZ9 9ZZ",
          idempotencyKey: id,
          createdAt: now,
          confirmedAt: now,
        });
        os.push(
          outboxRow(deps, {
            kind: "letter",
            letterId: id,
            state: "queued",
            toName: TEST_SEAT.mpName,
            toEmail: TEST_SEAT.email,
            reflectTo: email,
            alwaysReflect: true,
            fromName: `Supporter ${i} via #SpeakUpForBabies`,
            replyTo: email,
            replyToName: `Supporter ${i}`,
            subject: "Please speak up for babies",
            bodyText: `${body}\n\nYours sincerely,\n\nSupporter ${i}`,
          }),
        );
      }
      await deps.atomic([deps.db.insert(letters).values(ls), insertOutbox(deps, os)]);
    }
    const queueSecs = (performance.now() - q0) / 1000;

    const d0 = performance.now();
    const report = await drainOutbox(deps, { batch: BATCH, concurrency: POOL });
    const drainSecs = (performance.now() - d0) / 1000;
    const counts = await outboxCounts(deps);
    mailer.close?.();
    sqlite.close();

    const sent = sink.count();
    const emailsPerSec = sent / drainSecs;
    const lettersPerSec = N / drainSecs;
    const machine = `${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}, Node ${process.version}`;
    const lines = [
      `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine}.`,
      "",
      "| measure | figure |",
      "| --- | --- |",
      `| letters rendered (letter + sign-off, ${RENDERS.toLocaleString("en-GB")} letters) | **${Math.round(rendersPerSec).toLocaleString("en-GB")} letters/s** (${Math.round(chars / RENDERS)} chars each) |`,
      `| queue ${N.toLocaleString("en-GB")} confirmed letters (letter + outbox rows, batches of ${CHUNK}) | ${queueSecs.toFixed(2)} s |`,
      `| drain into local SMTP sink (pool ${POOL}, batch ${BATCH}): emails accepted | ${sent.toLocaleString("en-GB")} in ${drainSecs.toFixed(1)} s |`,
      `| **outbox drain rate** | **${Math.round(emailsPerSec).toLocaleString("en-GB")} emails/s** (${Math.round(lettersPerSec).toLocaleString("en-GB")} letters/s; each letter also sends its "sent" notice) |`,
      `| outbox after the drain | ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v.toLocaleString("en-GB")}`)
        .join(", ")} (followups wait ${config.LETTER_FOLLOWUP_DAYS} days) |`,
      `| target | ≥ 200 emails/s: ${emailsPerSec >= 200 ? "met" : "NOT met"} |`,
      "",
      `Worker report: ${JSON.stringify(report)}`,
    ];
    const text = lines.join("\n");
    process.stdout.write(`${text}\n`);
    if (!values["no-report"])
      updateReport(resolve(ROOT_DIR, "bench/REPORT.md"), {
        section: "Delivery",
        key: "delivery",
        body: text,
      });
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
    clearTimeout(hardStop);
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
