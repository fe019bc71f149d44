/**
 * Shared by the hostile tests (one file per case of ../shared/HOSTILE.md, numbered as there):
 * every route the app serves with sample values for its parameters, a world to attack, and a
 * digest of the database to prove a refused request changed nothing.
 */
import { createHash } from "node:crypto";
import type Database from "better-sqlite3";
import type { Hono } from "hono";
import { onTestFinished } from "vitest";
import { smtpMailer } from "../../src/adapters/node/mailer";
import { createUser } from "../../src/modules/admin/admin.auth";
import { processPrivacyRequests } from "../../src/modules/privacy/privacy.service";
import { savePartner } from "../../src/modules/widget/widget.service";
import { ADMIN, cookieFrom, csrfIn, signInForm } from "../support/admin";
import { letterInput, lettersApp } from "../support/letters";
import { seedLookup } from "../support/lookup-data";
import { type SmtpSink, startSmtp } from "../support/smtp";

const SAMPLE: [RegExp, string][] = [
  [/:kind\{mp\|candidate\}/, "mp"],
  [/:kind\{export\|erase\}/, "export"],
  [/:kind\b/, "mp"],
  [/:ref\b/, "E14001063"],
  [/:code\b/, "E14001063"],
  [/:id\b/, "00000000-0000-4000-8000-000000000000"],
  [/\*/, "x"],
];

/** Unique method + concrete path of every route (middleware-only `ALL` entries left out). */
export function everyRoute(
  app: Pick<Hono, "routes">,
  methods: string[] = ["GET", "POST"],
): { method: string; path: string }[] {
  const seen = new Set<string>();
  const out: { method: string; path: string }[] = [];
  for (const r of app.routes) {
    if (!methods.includes(r.method)) continue;
    let path = r.path;
    for (const [re, value] of SAMPLE) path = path.replace(re, value);
    const key = `${r.method} ${path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ method: r.method, path });
  }
  return out;
}

/** A body stream of `total` bytes in 16 KB chunks that counts how much was pulled from it. */
export function countingStream(total: number) {
  const chunk = new TextEncoder().encode("a".repeat(16 * 1024));
  const state = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled >= total) return controller.close();
      state.pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, state };
}

// --- a world to attack ----------------------------------------------------------------------

/** Tables that count requests (rate limits, sign-in throttles): they change on a refusal too. */
const COUNTER_TABLES = new Set(["rate_limits", "signin_throttle"]);

/**
 * A digest of every table's rows (counters left out): equal before and after means the request
 * changed nothing. Per table, so a failure names the table.
 */
export function dbDigest(sqlite: Database.Database): Record<string, string> {
  const tables = sqlite
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%' order by name",
    )
    .all() as { name: string }[];
  const out: Record<string, string> = {};
  for (const { name } of tables) {
    if (COUNTER_TABLES.has(name)) continue;
    const rows = sqlite.prepare(`select * from "${name}" order by rowid`).all();
    out[name] =
      `${rows.length}:${createHash("sha256").update(JSON.stringify(rows)).digest("hex").slice(0, 16)}`;
  }
  return out;
}

export const SITE = "http://localhost";
/** A partner site that embeds the action (the embed's forms post `partner`). */
export const PARTNER = {
  key: "partner",
  name: "A Partner Charity",
  allowedOrigins: ["https://partner.example"],
  active: true,
};

/** An email address per test, so no two letters count as one writer's. */
export const emailFor = (who: string | number) => `supporter-${who}@example.org`;

/**
 * The app over real seats and MPs (the lookup fixtures, the ZZ9 9ZZ test seat), mail captured,
 * remote lookups off unless a test turns them on (with msw). Every sitting MP gets an address at a
 * reserved domain, so letters can be written to them and nothing can ever leave.
 */
export async function hostileApp(env: Record<string, string> = {}) {
  const t = await lettersApp({ REMOTE_LOOKUP: "off", ...env });
  await seedLookup(t.deps);
  await savePartner(t.deps, PARTNER);
  t.sqlite
    .prepare(
      "update members set email = lower(replace(replace(name, ' ', '.'), '''', '')) || '.mp@parliament.invalid' where email is null and status = 'sitting'",
    )
    .run();
  const form = (
    path: string,
    fields: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields))
      for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    return t.request(path, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        origin: SITE,
        accept: "text/html",
        ...headers,
      },
      body: body.toString(),
    });
  };
  const page = (path: string, headers: Record<string, string> = {}) =>
    t.request(path, { headers: { accept: "text/html", ...headers } });
  const captured = () =>
    t.sqlite.prepare("select * from captured_mail order by id").all() as {
      message_id: string;
      from_header: string;
      to_header: string;
      reply_to: string | null;
      subject: string;
      text: string;
    }[];
  return { ...t, form, page, captured, digest: () => dbDigest(t.sqlite) };
}
export type HostileApp = Awaited<ReturnType<typeof hostileApp>>;

/** The letter journey's final form (details step), as the browser posts it. */
export function detailsForm(over: Record<string, string | string[]> = {}) {
  return {
    postcode: "ZZ9 9ZZ",
    to: "mp",
    asks: ["prevention"],
    subject: "Please speak up for babies",
    body: "Dear MP,\n\nPlease speak up for babies.",
    recipientName: "Test MP",
    name: "Jane Doe",
    email: "jane@example.org",
    line1: "1 Test Street",
    town: "Testtown",
    agree: "yes",
    ...over,
  };
}

/** The pledge form's fields. */
export function pledgeForm(over: Record<string, string> = {}) {
  return {
    name: "Jane Doe",
    email: "jane@example.org",
    postcode: "SW1A 1AA",
    pledgeConsent: "pledge-2026-11",
    ...over,
  };
}

/**
 * Each route that takes a postcode, and what it made of `pc`: "ok:<the normal form it used>", or
 * "<status>:<code>" (API) / "<status>:page" (a page) when it refused. Letters go to the seat's MP
 * (a reserved address: nothing leaves).
 */
export const POSTCODE_ROUTES: Record<string, (t: HostileApp, pc: string, n: number) => Promise<string>> = {
  "GET /api/lookup": async (t, pc) => {
    const res = await t.request(`/api/lookup?postcode=${encodeURIComponent(pc)}`);
    const body = (await res.json()) as { postcode?: string; code?: string };
    return res.status === 200 ? `ok:${body.postcode}` : `${res.status}:${body.code}`;
  },
  "GET /find": async (t, pc) => {
    const res = await t.page(`/find?postcode=${encodeURIComponent(pc)}`);
    const html = await res.text();
    return res.status === 200 && html.includes("Cities of London and Westminster")
      ? "ok:SW1A 1AA"
      : `${res.status}:page`;
  },
  "GET /write": async (t, pc) => {
    const res = await t.page(`/write?postcode=${encodeURIComponent(pc)}&to=mp`);
    const html = await res.text();
    const m = /name="postcode" value="([^"]*)"/.exec(html);
    return res.status === 200 ? `ok:${m?.[1]}` : `${res.status}:page`;
  },
  "POST /api/letters/preview": async (t, pc) => {
    const res = await t.post(
      "/api/letters/preview",
      letterInput({ supporter: { address: { postcode: pc } } }),
    );
    const body = (await res.json()) as { signoff?: string; code?: string };
    if (res.status !== 200) return `${res.status}:${body.code}`;
    // The sign-off prints the postcode on a line of its own (then "Your address" until it is typed).
    const lines = body.signoff?.split("\n").map((l) => l.trim()) ?? [];
    return `ok:${lines.find((l) => /^[A-Z]{1,2}\d/.test(l)) ?? lines.join("|")}`;
  },
  "POST /api/letters": async (t, pc, n) => {
    const input = letterInput();
    const res = await t.post("/api/letters", {
      ...input,
      supporter: {
        ...input.supporter,
        email: emailFor(`api${n}`),
        address: { ...input.supporter.address, postcode: pc },
      },
    });
    const body = (await res.json()) as { id?: string; code?: string };
    if (res.status !== 201) return `${res.status}:${body.code}`;
    const row = t.sqlite.prepare("select supporter_postcode p from letters where id = ?").get(body.id) as {
      p: string;
    };
    return `ok:${row.p}`;
  },
  "POST /write/send (form)": async (t, pc, n) => {
    const res = await t.form("/write/send", detailsForm({ postcode: pc, email: emailFor(`form${n}`) }));
    if (res.status !== 200) return `${res.status}:page`;
    const row = t.sqlite
      .prepare("select supporter_postcode p from letters where supporter_email = ?")
      .get(emailFor(`form${n}`)) as { p: string };
    return `ok:${row.p}`;
  },
  "POST /api/pledges": async (t, pc, n) => {
    const res = await t.post("/api/pledges", { ...pledgeForm({ postcode: pc, email: emailFor(`p${n}`) }) });
    if (res.status !== 202) return `${res.status}:${((await res.json()) as { code: string }).code}`;
    const row = t.sqlite
      .prepare("select postcode p from supporter_pledges where email = ?")
      .get(emailFor(`p${n}`)) as {
      p: string;
    };
    return `ok:${row.p}`;
  },
  "POST /pledge (form)": async (t, pc, n) => {
    const res = await t.form("/pledge", pledgeForm({ postcode: pc, email: emailFor(`pf${n}`) }));
    if (res.status !== 200 && res.status !== 202) return `${res.status}:page`;
    const row = t.sqlite
      .prepare("select postcode p from supporter_pledges where email = ?")
      .get(emailFor(`pf${n}`)) as { p: string } | undefined;
    return `ok:${row?.p}`;
  },
};

/** Sign a campaign lead in on `t`: `get` and `post` (with the session and CSRF token) as them. */
export async function signedIn(t: HostileApp) {
  await createUser(t.deps, ADMIN);
  const res = await signInForm(t as unknown as Parameters<typeof signInForm>[0]);
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status}`);
  const cookie = `speakup_admin=${cookieFrom(res, "speakup_admin")}`;
  const csrf = csrfIn(await (await t.request("/admin", { headers: { cookie } })).text());
  const get = (path: string) => t.request(path, { headers: { cookie, accept: "text/html" } });
  const post = (path: string, fields: Record<string, string> = {}) =>
    t.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: SITE, cookie },
      body: new URLSearchParams({ _csrf: csrf, ...fields }).toString(),
    });
  return { get, post, cookie, csrf };
}

/**
 * The hostile app sending for real: reflect mode through nodemailer (pooled) into a real SMTP
 * server on 127.0.0.1 that parses every message with mailparser (tests/support/smtp.ts), so a
 * test sees the MIME a receiving server would. Closed when the test ends.
 */
export async function withRealSmtp(
  sinkOptions: Parameters<typeof startSmtp>[0] = {},
  env: Record<string, string> = {},
  url?: (sink: SmtpSink) => string,
) {
  const sink = await startSmtp(sinkOptions);
  const relay = url ? url(sink) : sink.url;
  const t = await hostileApp({
    MAIL_MODE: "reflect",
    SMTP_URL: relay,
    MAIL_FROM: "campaign@example.org",
    ...env,
  });
  const mailer = smtpMailer({ url: relay, poolSize: 2, timeoutMs: 3000 });
  t.deps.mailer = mailer;
  onTestFinished(async () => {
    // The pool's connections first, or the server waits for them before closing.
    mailer.close?.();
    await sink.close();
  });
  return { ...t, sink, mailer };
}

/** The letters (not the service mail) a sink received. */
export const lettersAt = (sink: SmtpSink) => sink.messages.filter((m) => m.subject?.includes("babies"));

/**
 * A sign test for timing leaks: `pairs` runs of `a` and `b`, interleaved (alternating which goes
 * first, after a warm-up), and the share of pairs in which `a` took longer. With no difference
 * between them this is a fair coin (0.5 ± 0.03 at 300 pairs); a step that only one of them does
 * (a database read, a hash) pushes it towards 0 or 1 whatever the machine's noise.
 */
export async function slowerShare(a: () => unknown, b: () => unknown, pairs = 300): Promise<number> {
  const time = async (f: () => unknown) => {
    const start = process.hrtime.bigint();
    await f();
    return process.hrtime.bigint() - start;
  };
  for (let i = 0; i < 20; i++) await Promise.all([a(), b()]).catch(() => undefined);
  let slower = 0;
  for (let i = 0; i < pairs; i++) {
    let ta: bigint;
    let tb: bigint;
    if (i % 2) {
      ta = await time(a);
      tb = await time(b);
    } else {
      tb = await time(b);
      ta = await time(a);
    }
    if (ta > tb) slower++;
  }
  return slower / pairs;
}

/** Ask for a privacy link as the page does, let the worker answer, and return the emailed token. */
export async function privacyToken(t: HostileApp, email: string, kind: "export" | "erase") {
  const res = await t.form("/privacy/request", { email, kind });
  if (res.status !== 202) throw new Error(`privacy request refused: ${res.status}`);
  await processPrivacyRequests(t.deps);
  const rows = t.sqlite
    .prepare(
      "select body_text b from outbox where kind = 'service' and body_text like ? order by created_at desc, rowid desc",
    )
    .all(`%/privacy/${kind}?token=%`) as { b: string }[];
  const token = new RegExp(`/privacy/${kind}\\?token=([^\\s]+)`).exec(rows[0]?.b ?? "")?.[1];
  if (!token) throw new Error(`no ${kind} link was mailed`);
  return decodeURIComponent(token);
}

/** Submit and confirm letters from `n` different supporters (distinct own words, none held). */
export async function confirmedLetters(t: HostileApp, n: number, tag = "l") {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const base = letterInput({ story: `Supporter ${tag}${i} writes briefly.` });
    const { id } = await t.submit({
      ...base,
      supporter: { ...base.supporter, email: emailFor(`${tag}${i}`) },
    });
    await t.confirm(await t.confirmToken(id));
    ids.push(id);
  }
  return ids;
}
