/**
 * Real-browser test support: Debian's Chromium driven by playwright-core, the real app served
 * over HTTP on 127.0.0.1 (test deps: in-memory SQLite with the real migrations, captured mail,
 * no remote lookups), axe-core checks and step screenshots in test-results/screenshots/.
 *
 * A missing Chromium fails the tests loudly: `.ci/run` installs it (apt-get install chromium).
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { and, desc, like } from "drizzle-orm";
import { type Browser, chromium, type Frame, type Page } from "playwright-core";
import { ROOT_DIR } from "../../src/adapters/node/deps";
import { seed } from "../../src/adapters/node/seed";
import { createApp } from "../../src/app";
import { capturedMail } from "../../src/db/schema.letters";
import { testDeps } from "./deps";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const SCREENSHOTS = resolve(ROOT_DIR, "test-results/screenshots");

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}. The browser tests need it: apt-get install -y chromium (.ci/run does this).`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Full-page screenshot of one step, named so the files sort in journey order. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = resolve(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

type AxeViolation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

/**
 * Runs axe-core (WCAG 2.0-2.2 A and AA rules) on a page or a frame and fails on any serious or
 * critical violation. axe is injected by evaluation rather than a <script> tag: our pages' CSP
 * (script-src 'self') rightly refuses inline scripts, and DevTools evaluation is not subject to it.
 */
export async function expectAccessible(target: Page | Frame, label: string): Promise<void> {
  const hasAxe = await target.evaluate(
    () => typeof (window as unknown as { axe?: unknown }).axe !== "undefined",
  );
  if (!hasAxe) await target.evaluate(AXE_SOURCE);
  const violations = (await target.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: {
        type: "tag",
        values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
      },
    });
    return r.violations;
  })) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length)
    throw new Error(
      `axe: ${bad.length} serious/critical violation(s) on ${label}:\n${bad
        .map(
          (v) => `  [${v.impact}] ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
        )
        .join("\n")}`,
    );
}

/** One step of a journey: axe on the page, and a screenshot named `<journey>-<step>`. */
export const journeyStep = (journey: string) => async (page: Page, name: string) => {
  await expectAccessible(page, name);
  await shot(page, `${journey}-${name}`);
};

export type TestServer = Awaited<ReturnType<typeof startAppServer>>;

/**
 * The real app over HTTP on 127.0.0.1 with test deps (MAIL_MODE=capture, REMOTE_LOOKUP=off),
 * seeded from data/ like `npm start` (constituencies, MPs, sample postcodes, the ZZ9 9ZZ seat).
 * PUBLIC_URL must name the port, so the port is taken first and the app built after.
 */
export async function startAppServer(env: Record<string, string> = {}) {
  let handler: ((req: Request, env: unknown) => Response | Promise<Response>) | undefined;
  const server = serve({
    fetch: (req, e) => (handler ? handler(req, e) : new Response("starting", { status: 503 })),
    port: 0,
    hostname: "127.0.0.1",
  }) as Server;
  await new Promise<void>((ok) => (server.listening ? ok() : server.once("listening", () => ok())));
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const t = testDeps({
    MAIL_MODE: "capture",
    REMOTE_LOOKUP: "off",
    PUBLIC_URL: url,
    LETTER_LIMIT_PER_IP_HOUR: "500",
    LETTER_LIMIT_PER_EMAIL_DAY: "50",
    ...env,
  });
  await seed(t.deps, resolve(ROOT_DIR, "data"));
  const app = createApp(() => t.deps);
  handler = (req, e) => app.fetch(req, e);
  /** Latest captured mail to an address (the To header contains it). */
  /** The latest captured mail to `address` (whose text contains `containing`, if given). */
  const mailTo = async (address: string, containing?: string) => {
    const [m] = await t.deps.db
      .select()
      .from(capturedMail)
      .where(
        and(
          like(capturedMail.toHeader, `%${address}%`),
          containing === undefined ? undefined : like(capturedMail.text, `%${containing}%`),
        ),
      )
      .orderBy(desc(capturedMail.id))
      .limit(1);
    return m;
  };
  return {
    ...t,
    url,
    port,
    mailTo,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

/** A stand-in partner website: serves one HTML page on its own port (so its own origin). */
export async function startSite(html: (origin: string) => string) {
  const server = createServer((req, res) => {
    if (req.url === "/favicon.ico") return void res.writeHead(404).end();
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(html(origin));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", () => ok()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** The first link in a mail body that starts with `prefix`. */
export function linkIn(text: string | undefined, prefix: string): string {
  const m = new RegExp(`${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[^\\s]+`).exec(text ?? "");
  if (!m) throw new Error(`no link starting ${prefix} in the mail`);
  return m[0];
}
