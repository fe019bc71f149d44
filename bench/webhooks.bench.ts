/**
 * Partners' webhooks: what they cost.
 *
 * 1. The confirmation's extra work: confirming a pledge credited to a partner runs the partner
 *    tallies, the consent and the event INSERT ... SELECT in the same transaction. Measured as
 *    confirmPledge time for pledges credited to a partner with a subscribed webhook, against a
 *    partner with none (file-backed SQLite, WAL, as npm start runs).
 * 2. Delivery: N queued events POSTed, signed, to a local node:http receiver by drainWebhooks
 *    (4 lanes), until none is left: events per second.
 * Writes the "Partners' webhooks" block of bench/REPORT.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { buildNodeDeps } from "../src/adapters/node/deps";
import { parseEnv } from "../src/env";
import { signToken } from "../src/lib/tokens";
import { insertOutbox } from "../src/modules/delivery/delivery.machine";
import { drainWebhooks } from "../src/modules/delivery/delivery.service";
import { ensureTestSeat } from "../src/modules/lookup/lookup.import";
import { saveWebhook } from "../src/modules/partners/partners.webhooks";
import { confirmPledge, createPledge, PURPOSE } from "../src/modules/pledges/pledges.service";
import { savePartner } from "../src/modules/widget/widget.service";
import { updateReport } from "./support/report";

const ROOT = resolve(import.meta.dirname, "..");
const CONFIRMS = 500;
const EVENTS = 2000;

async function main() {
  const received = { n: 0 };
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.n++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const dir = mkdtempSync(resolve(tmpdir(), "speakup-webhooks-bench-"));
  const config = parseEnv({
    DATABASE_PATH: resolve(dir, "bench.sqlite"),
    LOG_LEVEL: "error",
    REMOTE_LOOKUP: "off",
    WEBHOOK_ALLOW_PRIVATE: "on",
    OUTBOX_BATCH: "200",
  });
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  const { deps, sqlite, stop } = buildNodeDeps(config, { logger: silent });
  try {
    await ensureTestSeat(deps);
    for (const key of ["hooked", "plain"])
      await savePartner(deps, { key, name: key, allowedOrigins: ["https://p.example"], active: true });
    await saveWebhook(deps, { partnerKey: "hooked", url, events: ["pledge.confirmed"], enabled: true });

    // Alternating between the two partners, so machine noise falls on both alike.
    const times: Record<string, number[]> = { plain: [], hooked: [] };
    for (let i = 0; i < CONFIRMS * 2; i++) {
      const partner = i % 2 === 0 ? "plain" : "hooked";
      const email = `${partner}-${i}@example.org`;
      await createPledge(deps, {
        name: "Bench",
        email,
        postcode: "ZZ9 9ZZ",
        pledgeConsent: "pledge-2026-11",
        partner,
      });
      const row = sqlite
        .prepare("select public_id p from supporter_pledges where email_norm = ?")
        .get(email) as {
        p: string;
      };
      const token = await signToken(config, {
        purpose: PURPOSE.confirm,
        subject: row.p,
        expiresAt: Date.now() + 3_600_000,
      });
      const t0 = performance.now();
      await confirmPledge(deps, { token });
      times[partner]?.push(performance.now() - t0);
    }
    const stats = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return {
        median: sorted[Math.floor(sorted.length / 2)] ?? 0,
        p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      };
    };
    const plain = stats(times.plain ?? []);
    const hooked = stats(times.hooked ?? []);
    // Deliver what the confirmations queued, then a larger batch.
    while ((await drainWebhooks(deps)).claimed > 0);
    const now = Date.now();
    const body = JSON.stringify({
      type: "pledge.confirmed",
      created: new Date(now).toISOString(),
      partner: "hooked",
      data: { totals: { letters: 1, pledges: 2 }, supporter: null },
    });
    for (let i = 0; i < EVENTS; i += 200)
      await insertOutbox(
        deps,
        Array.from({ length: Math.min(200, EVENTS - i) }, (_, j) => ({
          id: `bench-${i + j}`,
          kind: "webhook" as const,
          letterId: null,
          state: "queued" as const,
          toName: null,
          toEmail: "",
          reflectTo: "",
          alwaysReflect: false,
          fromName: "",
          subject: "pledge.confirmed",
          bodyText: body,
          messageId: `evt_bench_${i + j}`,
          attempts: 0,
          nextAttemptAt: now,
          createdAt: now,
          updatedAt: now,
          partnerKey: "hooked",
          eventKey: null,
        })),
      );
    const before = received.n;
    const t0 = performance.now();
    for (;;) {
      const r = await drainWebhooks(deps);
      if (r.claimed === 0) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const delivered = received.n - before;
    const load = (await import("node:os")).loadavg()[0]?.toFixed(1);
    const out = [
      `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC (\`npm run bench:webhooks\`), Node ${process.version}, file-backed SQLite; shared 2-core machine, load average ${load} (other sessions' tests running: treat as lower bounds).`,
      "",
      "| | figure |",
      "| --- | ---: |",
      `| confirmPledge, partner without a webhook (median / p99 of ${CONFIRMS}) | ${plain.median.toFixed(2)} / ${plain.p99.toFixed(2)} ms |`,
      `| confirmPledge, partner with a subscribed webhook (queues the signed event in the same write) | ${hooked.median.toFixed(2)} / ${hooked.p99.toFixed(2)} ms |`,
      `| delivery of ${EVENTS} events to a local receiver (claim, sign, POST, record; 4 lanes) | **${Math.round(delivered / seconds)} events/s** (${delivered} in ${seconds.toFixed(1)} s) |`,
    ].join("\n");
    updateReport(resolve(ROOT, "bench/REPORT.md"), {
      section: "Partners' webhooks",
      key: "webhooks",
      body: out,
    });
    process.stdout.write(`${out}\n`);
    if (delivered !== EVENTS) throw new Error(`delivered ${delivered} of ${EVENTS}`);
  } finally {
    stop();
    sqlite.close();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
