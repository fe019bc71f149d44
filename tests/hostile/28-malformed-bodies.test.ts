/**
 * HOSTILE 28: a malformed multipart body, a wrong content type or truncated JSON, on any route,
 * is a 400 with a code, never a 500 and never a stack trace in the log.
 * Finding: malformed multipart bodies returned 500 with a stack trace on seven form routes (all
 * 536 of the 5xx in a 60 s abuse run).
 */
import { describe, expect, it } from "vitest";
import { supporterPledges } from "../../src/db/schema";
import { outbox } from "../../src/db/schema.letters";
import { testApp } from "../support/deps";
import { everyRoute } from "./support";

const BAD_BODIES: { name: string; type: string; body: string }[] = [
  {
    name: "multipart without its closing boundary",
    type: "multipart/form-data; boundary=xyz",
    body: '--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c',
  },
  { name: "multipart with no boundary parameter", type: "multipart/form-data", body: "--x\r\n\r\n" },
  {
    name: "multipart with garbage",
    type: "multipart/form-data; boundary=----",
    body: "\u0000\u0001not multipart",
  },
  { name: "truncated JSON", type: "application/json", body: '{"name":"Jane","email":"j@example.org' },
  { name: "JSON that is not JSON", type: "application/json", body: "name=Jane" },
];

describe("28: malformed bodies on every POST route", () => {
  it.each(BAD_BODIES)(
    "$name: 400 problem+json (or the HTML error page), nothing stored, no error logged",
    async ({ type, body }) => {
      const t = testApp();
      const routes = everyRoute(t.app, ["POST"]);
      expect(routes.length).toBeGreaterThan(25);
      for (const { path } of routes) {
        for (const accept of ["application/json", "text/html"]) {
          const res = await t.request(path, {
            method: "POST",
            headers: { "content-type": type, accept, origin: "http://localhost" },
            body,
          });
          const text = await res.text();
          expect(res.status, `${path} (${accept}): ${text.slice(0, 200)}`).toBe(400);
          if (accept === "application/json")
            expect(JSON.parse(text)).toMatchObject({ code: "malformed_body" });
          else expect(text).toContain("could not be read");
        }
      }
      expect(t.logger.lines.filter((l) => l.level === "error")).toEqual([]);
      expect(await t.deps.db.select().from(supporterPledges)).toEqual([]);
      expect(await t.deps.db.select().from(outbox)).toEqual([]);
    },
  );

  it("a wrong content type on the JSON API is a 400 with a code, not a 500", async () => {
    const t = testApp();
    for (const path of ["/api/letters", "/api/letters/preview", "/api/pledges", "/api/letters/confirm"]) {
      for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
        const res = await t.request(path, { method: "POST", headers: { "content-type": type }, body: "a=b" });
        const text = await res.text();
        expect([400, 415], `${path} ${type}: ${text}`).toContain(res.status);
        expect(JSON.parse(text).code).toMatch(/validation_failed|unsupported_media_type|malformed_body/);
      }
    }
    expect(t.logger.lines.filter((l) => l.level === "error")).toEqual([]);
  });

  it("a form route given JSON re-renders the form with its messages instead of failing", async () => {
    const t = testApp();
    const res = await t.request("/pledge", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/html", origin: "http://localhost" },
      body: JSON.stringify({ name: "Jane" }),
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("There is a problem");
  });
});
