/**
 * Property-based attacks on every public route and form (fast-check): generated JSON, forms,
 * multipart bodies, junk content types, query strings and headers, thrown at every route the app
 * serves (enumerated from app.routes, so a new route is attacked without anyone listing it), often
 * as a small mutation of a valid request so the deep paths are reached too.
 *
 * For every answer: never a 5xx; a refusal (4xx) is problem+json with a stable code, or an HTML
 * page that says what is wrong; and a refused request changes nothing in the database (a digest
 * of every table, request counters aside). Sizes and run counts are tuned to keep this at a few
 * seconds; a failure prints the shrunk request that caused it.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { letterInput } from "../support/letters";
import { detailsForm, everyRoute, type HostileApp, hostileApp, pledgeForm, SITE } from "./support";

let t: HostileApp;
let posts: string[];
let gets: string[];

beforeAll(async () => {
  t = await hostileApp({
    LETTER_LIMIT_PER_IP_HOUR: "100000",
    LOOKUP_LIMIT_PER_IP_HOUR: "100000",
    PREVIEW_LIMIT_PER_IP_HOUR: "100000",
    PLEDGE_LIMIT_PER_IP_HOUR: "100000",
    RESEND_LIMIT_PER_IP_HOUR: "100000",
    PRIVACY_LIMIT_PER_IP_HOUR: "100000",
    SIGNIN_LIMIT_PER_IP_HOUR: "100000",
    PRIVACY_LIMIT_PER_EMAIL_DAY: "1000",
    LETTER_LIMIT_PER_EMAIL_DAY: "1000",
  });
  posts = everyRoute(t.app, ["POST"]).map((r) => r.path);
  gets = everyRoute(t.app, ["GET"]).map((r) => r.path);
});

/** A valid request body for routes that take one, to mutate (most attacks are near-misses). */
function baseFor(path: string): Record<string, unknown> {
  if (path === "/api/letters" || path === "/api/letters/preview") return letterInput();
  if (path.startsWith("/api/letters/group")) return { ...letterInput(), recipients: [{ kind: "mp" }] };
  if (path.endsWith("/write/send") || path.endsWith("/write/preview") || path.endsWith("/write"))
    return detailsForm();
  if (path.endsWith("/pledge") || path === "/api/pledges") return { ...pledgeForm(), partner: "partner" };
  if (path === "/privacy/request") return { email: "jane@example.org", kind: "export" };
  if (path.includes("resend")) return { email: "jane@example.org" };
  if (path.includes("confirm") || path.includes("verify") || path.includes("/privacy/"))
    return { token: "1.eyJ9.x" };
  if (path === "/admin/sign-in") return { email: "lead@example.org", password: "x", _csrf: "x" };
  return {};
}

const FIELDS = [
  "name",
  "email",
  "postcode",
  "story",
  "body",
  "subject",
  "asks",
  "token",
  "kind",
  "partner",
  "supporter",
  "recipient",
  "recipients",
  "letters",
  "area",
  "rcpt",
  "seat",
  "idempotencyKey",
  "pledgeConsent",
  "updatesConsent",
  "line1",
  "town",
  "agree",
  "to",
  "answer",
  "__proto__",
  "constructor",
];

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "\r\nBcc: x@y.org",
    "{{mp.email}}",
    "<script>alert(1)</script>",
    "GIR 0AA",
    "ZZ9 9ZZ",
    "SW1A 1AA",
    "JE2 4WD",
    "a@b.com, c@d.com",
    "USER@Bücher.Example",
    '=HYPERLINK("x")',
    "\ud800",
    "prevention",
    "mp",
    "candidate:12",
    "export",
    "erase",
    "yes",
    "pledge-2026-11",
  ),
  fc.integer({ min: 1, max: 30 }).map((n) => "x".repeat(n * 700)),
);

const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...FIELDS), tie("v"), { maxKeys: 4 }),
  ),
})).v;

/** Some fields of a valid body replaced, removed or added. */
const mutation = fc.record({
  set: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 3 }),
  drop: fc.subarray(FIELDS, { maxLength: 3 }),
  fromScratch: fc.boolean(),
});
const mutate = (
  base: Record<string, unknown>,
  m: { set: Record<string, unknown>; drop: string[]; fromScratch: boolean },
) => {
  const out: Record<string, unknown> = m.fromScratch ? {} : { ...base };
  for (const k of m.drop) delete out[k];
  return { ...out, ...m.set };
};

const flat = (v: unknown): string => (typeof v === "string" ? v : (JSON.stringify(v) ?? ""));

const headers = fc.record({
  accept: fc.constantFrom("text/html", "application/json", "*/*", ""),
  sameSite: fc.boolean(),
});

type Attack = { method: string; path: string; init: RequestInit; label: string };

/** Embedded pages need a partner key (a real one here, so the journey inside runs). */
const withPartner = (path: string) =>
  path.startsWith("/embed") && !path.includes("partner=")
    ? `${path}${path.includes("?") ? "&" : "?"}partner=partner`
    : path;

async function check(a: Attack) {
  const before = t.digest();
  const res = await t.request(withPartner(a.path), a.init);
  const text = await res.text();
  const label = `${a.label} -> ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, label).toBeLessThan(500);
  if (res.status >= 400) {
    const type = res.headers.get("content-type") ?? "";
    if (type.startsWith("application/problem+json")) {
      const problem = JSON.parse(text) as { code?: unknown; detail?: unknown };
      expect(typeof problem.code, label).toBe("string");
      expect(typeof problem.detail, label).toBe("string");
    } else {
      expect(type, label).toMatch(/^text\/html/);
      // A page that says what went wrong: a heading, and a message (error summary or problem).
      expect(text, label).toMatch(/<h1[^>]*>[^<]+</);
      expect(text, label).toMatch(/role="alert"|class="error-summary"|class="problem"|<p[^>]*>[^<]{10,}/);
    }
    expect(t.digest(), `${label}: a refused request changed the database`).toEqual(before);
  }
}

const RUNS = Number(process.env.PROPERTY_RUNS ?? 150);

describe("property: generated input on every route", () => {
  it("JSON bodies (mutations of valid ones, and arbitrary values) on every POST route", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.oneof(
          mutation.map((m) => ({ m, raw: undefined })),
          value.map((raw) => ({ m: undefined, raw })),
        ),
        headers,
        async (i, body, h) => {
          const path = posts[i % posts.length] as string;
          const json = body.m ? mutate(baseFor(path), body.m) : body.raw;
          await check({
            method: "POST",
            path,
            label: `POST ${path} json ${flat(json).slice(0, 200)}`,
            init: {
              method: "POST",
              headers: {
                "content-type": "application/json",
                ...(h.accept ? { accept: h.accept } : {}),
                ...(h.sameSite ? { origin: SITE } : {}),
              },
              body: JSON.stringify(json) ?? "null",
            },
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("forms (urlencoded, multipart, junk types) on every POST route", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        mutation,
        fc.constantFrom("urlencoded", "multipart", "text/plain", "none", "application/xml"),
        headers,
        async (i, m, kind, h) => {
          const path = posts[i % posts.length] as string;
          const fields = mutate(baseFor(path), m);
          let body: BodyInit;
          const extra: Record<string, string> = {};
          if (kind === "multipart") {
            const form = new FormData();
            for (const [k, v] of Object.entries(fields))
              for (const x of Array.isArray(v) ? v : [v]) form.append(k, flat(x));
            body = form;
          } else {
            const form = new URLSearchParams();
            for (const [k, v] of Object.entries(fields))
              for (const x of Array.isArray(v) ? v : [v]) form.append(k, flat(x));
            body = form.toString();
            if (kind === "urlencoded") extra["content-type"] = "application/x-www-form-urlencoded";
            if (kind === "text/plain" || kind === "application/xml") extra["content-type"] = kind;
          }
          await check({
            method: "POST",
            path,
            label: `POST ${path} ${kind} ${flat(fields).slice(0, 200)}`,
            init: {
              method: "POST",
              headers: {
                ...extra,
                ...(h.accept ? { accept: h.accept } : {}),
                ...(h.sameSite ? { origin: SITE } : {}),
              },
              body,
            },
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("query strings on every GET route", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.dictionary(
          fc.constantFrom(...FIELDS, "q", "postcode", "partner", "accent", "compact", "attr"),
          hostileString,
          {
            maxKeys: 4,
          },
        ),
        headers,
        async (i, query, h) => {
          const path = gets[i % gets.length] as string;
          const qs = new URLSearchParams(query).toString();
          await check({
            method: "GET",
            path: qs ? `${path}?${qs}` : path,
            label: `GET ${path}?${qs.slice(0, 200)}`,
            init: { headers: h.accept ? { accept: h.accept } : {} },
          });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
