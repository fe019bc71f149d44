/**
 * Widget and page sizes: what a partner's visitor downloads.
 *
 * 1. Registers a partner in a fresh SQLite file, then runs the real Node server on it.
 * 2. Fetches /widget.js, the loader's question (/api/widget/<key>: is the widget on?), the first
 *    embed page (/embed?partner=…) and the sub-resources that page loads (/static/app.css,
 *    /static/app.js, and the accent stylesheet when themed), plus the longest step (the write
 *    page) for scale, and the same first page in Welsh.
 * 3. Reports raw and gzipped bytes (zlib level 6, what nginx / Cloudflare send by default; the
 *    app itself does not compress). Budget: widget.js <= 5 KB gzipped.
 * 4. The site's front page the same way: its first view (HTML, CSS, the small script, the
 *    campaign's logo and hero picture, the favicon), budget 14 KB gzipped (what fits in the first
 *    round trip of a new connection on a phone: TCP's initial window of 10 packets).
 * 5. Writes the figures into the "Widget and page sizes" block of bench/REPORT.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { openDb } from "../src/adapters/node/db";
import { savePartner } from "../src/modules/widget/widget.service";
import { updateReport } from "./support/report";
import { startServer } from "./support/server";

const ROOT = resolve(import.meta.dirname, "..");
const BUDGET_GZIP = 5 * 1024;
const FRONT_BUDGET_GZIP = 14 * 1024;

async function main() {
  const dir = mkdtempSync(resolve(tmpdir(), "speakup-widget-bench-"));
  const dbPath = resolve(dir, "bench.sqlite");
  const { sqlite, db } = openDb(dbPath);
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  await savePartner(
    { db, clock: { now: () => Date.now() }, logger: silent },
    { key: "bench", name: "Bench partner", allowedOrigins: ["https://partner.example"], active: true },
  );
  sqlite.close();
  const server = await startServer({
    root: ROOT,
    env: { DATABASE_PATH: dbPath, PORT: "0", LOG_LEVEL: "error", REMOTE_LOOKUP: "off", MAIL_MODE: "capture" },
  });
  try {
    const size = async (path: string) => {
      const res = await fetch(server.url + path, { headers: { accept: "text/html,*/*" } });
      if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
      const body = Buffer.from(await res.arrayBuffer());
      return { path, raw: body.length, gzip: gzipSync(body, { level: 6 }).length };
    };
    const loader = await size("/widget.js");
    const embed = [
      await size("/api/widget/bench"),
      await size("/embed?partner=bench"),
      await size("/static/app.css"),
      await size("/static/app.js"),
    ];
    const themed = await size("/static/theme.css?accent=0b6e4f");
    const write = await size("/embed/write?postcode=ZZ9+9ZZ&to=mp&partner=bench");
    const welsh = await size("/embed?partner=bench&lang=cy");
    const sum = (xs: { raw: number; gzip: number }[]) => ({
      raw: xs.reduce((a, x) => a + x.raw, 0),
      gzip: xs.reduce((a, x) => a + x.gzip, 0),
    });
    const first = sum([loader, ...embed]);
    const front = [
      await size("/"),
      await size("/static/app.css"),
      await size("/static/app.js"),
      await size("/campaign/manifesto-for-babies.logo.svg"),
      await size("/campaign/manifesto-for-babies.hero.svg"),
      await size("/favicon.ico"),
    ];
    const frontFirst = sum(front);
    const row = (x: { path: string; raw: number; gzip: number }) =>
      `| \`${x.path}\` | ${x.raw} | ${x.gzip} |`;
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} against the Node server (\`npm run bench:widget\`). Bytes; gzip at level 6 (the app sends identity; a proxy or Cloudflare compresses).`,
      "",
      "| resource | raw | gzipped |",
      "| --- | ---: | ---: |",
      row(loader),
      ...embed.map(row),
      row(themed),
      row(write),
      row(welsh),
      "",
      `- **widget.js: ${loader.gzip} B gzipped** (budget ${BUDGET_GZIP} B: ${loader.gzip <= BUDGET_GZIP ? "within" : "OVER"}).`,
      `- **First view of the embed on a partner page** (loader, its on/off question, embed HTML, CSS, JS): ${first.raw} B raw, **${first.gzip} B gzipped**, 5 requests (6 with a partner accent, +${themed.gzip} B). A switched-off widget costs the host page the loader and the question only (${loader.gzip + (embed[0]?.gzip ?? 0)} B gzipped). No fonts, images or third-party requests.`,
      `- The longest step (choose asks and write) is ${write.gzip} B gzipped; CSS and JS are cached after the first page (max-age 3600).`,
      "",
      "The site's front page (story, five asks, live counters, postcode finder, pledge form, share links):",
      "",
      "| resource | raw | gzipped |",
      "| --- | ---: | ---: |",
      ...front.map(row),
      "",
      `- **Front page first view** (HTML + CSS + JS + logo + hero picture + favicon): ${frontFirst.raw} B raw, **${frontFirst.gzip} B gzipped**, ${front.length} requests (budget ${FRONT_BUDGET_GZIP} B: ${frontFirst.gzip <= FRONT_BUDGET_GZIP ? "within" : "OVER"}), next to the widget's ${first.gzip} B. No fonts or third-party requests; the pictures are the campaign's SVGs.`,
    ].join("\n");
    updateReport(resolve(ROOT, "bench/REPORT.md"), { section: "Widget and page sizes", key: "widget", body });
    process.stdout.write(`${body}\n`);
    if (loader.gzip > BUDGET_GZIP || frontFirst.gzip > FRONT_BUDGET_GZIP) process.exitCode = 1;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
