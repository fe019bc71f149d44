/**
 * Lookup in the real Workers runtime (workerd via Miniflare) over local D1 with the real
 * migrations and the data/ seed. postcodes.io is answered at the HTTP boundary.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_splitSqlQuery } from "wrangler";
import { buildPostcodeSql } from "../../scripts/d1-postcodes";
import { expectStatus } from "../support/deps";
import { ROOT_DIR, startWorker, type TestWorker } from "./support";

/** Not in data/postcodes.csv, so only postcodes.io knows it. */
const REMOTE_ONLY = "AB12 9ZZ";
let w: TestWorker;

beforeAll(async () => {
  w = await startWorker({
    bindings: { POSTCODES_IO_URL: "http://postcodes.test", UPSTREAM_RETRIES: "0" },
    outbound(call) {
      if (call.url === `http://postcodes.test/postcodes/${encodeURIComponent(REMOTE_ONLY)}`)
        return Response.json({
          status: 200,
          result: { postcode: REMOTE_ONLY, codes: { parliamentary_constituency_2024: "S14000061" } },
        });
      // The Holyrood constituency (2026) of a Scottish postcode data/ doesn't place: answered as
      // postcodes.io answers a postcode outside its Scottish Postcode Directory.
      if (call.url.startsWith("http://postcodes.test/scotland/postcodes/"))
        return Response.json(
          { status: 404, error: "Postcode exists in ONSPD but not in SPD" },
          { status: 404 },
        );
      if (call.url.startsWith("http://postcodes.test/")) return new Response("down", { status: 503 });
      return undefined;
    },
  });
});
afterAll(() => w?.dispose());

describe("lookup on Workers + D1", () => {
  it("answers the ZZ9 9ZZ test postcode from D1 with the test MP", async () => {
    const body = (await expectStatus(await w.fetch("/api/lookup?postcode=zz99zz"), 200)) as {
      postcode: string;
      source: string;
      seat: string;
      mp: { name: string; contactable: boolean };
    };
    expect(body).toMatchObject({ postcode: "ZZ9 9ZZ", source: "local", seat: "sitting" });
    expect(body.mp).toMatchObject({ name: "Test MP (letters come back to you)", contactable: true });
  });

  it("answers a sample postcode imported from data/ without calling postcodes.io", async () => {
    const before = w.calls.length;
    const body = (await expectStatus(await w.fetch("/api/lookup?postcode=EH1%202NG"), 200)) as {
      source: string;
      constituency: { code: string; name: string };
      devolved: { status: string; constituency: { name: string }; members: { name: string }[] };
    };
    expect(body.source).toBe("local");
    expect(body.constituency).toMatchObject({ code: "S14000078", name: "Edinburgh East and Musselburgh" });
    // Its Holyrood constituency and MSPs come from D1 too (data/devolved/).
    expect(body.devolved).toMatchObject({ status: "known", constituency: { name: "Edinburgh Central" } });
    expect(body.devolved.members.map((m) => m.name)).toEqual(["Lorna Slater"]);
    expect(w.calls.length).toBe(before);
  });

  it("asks postcodes.io only for the Holyrood constituency of a Scottish sample postcode data/ doesn't place", async () => {
    const before = w.calls.length;
    const body = (await expectStatus(await w.fetch("/api/lookup?postcode=AB11%206EW"), 200)) as {
      source: string;
      constituency: { code: string };
      mp: { name: string };
      devolved: { status: string; choices: unknown[] };
    };
    expect(body).toMatchObject({
      source: "local",
      constituency: { code: "S14000061" },
      mp: { name: "Douglas Lumsden" },
    });
    expect(body.devolved.status).toBe("unknown");
    expect(body.devolved.choices.length).toBeGreaterThan(70);
    expect(w.calls.slice(before).map((c) => c.url)).toEqual([
      "http://postcodes.test/scotland/postcodes/AB11%206EW",
    ]);
  });

  it("asks postcodes.io for a postcode D1 lacks, then answers the repeat from the D1 cache", async () => {
    const first = (await expectStatus(
      await w.fetch(`/api/lookup?postcode=${encodeURIComponent(REMOTE_ONLY)}`),
      200,
    )) as { source: string; constituency: { code: string } };
    expect(first).toMatchObject({ source: "postcodes.io", constituency: { code: "S14000061" } });
    const calls = w.calls.length;
    const again = (await expectStatus(
      await w.fetch(`/api/lookup?postcode=${encodeURIComponent(REMOTE_ONLY)}`),
      200,
    )) as { source: string };
    expect(again.source).toBe("cache");
    expect(w.calls.length).toBe(calls);
  });

  it("returns problem+json 503 when postcodes.io is down and D1 has no answer", async () => {
    const res = await w.fetch("/api/lookup?postcode=AB10%201XY");
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(await expectStatus(res, 503)).toMatchObject({ code: "upstream_unavailable" });
  });

  it("rejects a malformed postcode with 400 and a Jersey postcode with 422, without I/O", async () => {
    const before = w.calls.length;
    expect(await expectStatus(await w.fetch("/api/lookup?postcode=hello"), 400)).toMatchObject({
      code: "postcode_malformed",
    });
    expect(await expectStatus(await w.fetch("/api/lookup?postcode=JE2%203AB"), 422)).toMatchObject({
      code: "postcode_no_westminster_mp",
    });
    expect(w.calls.length).toBe(before);
  });

  it("renders the HTML result page from precompiled templates", async () => {
    const res = await w.fetch("/find?postcode=ZZ9+9ZZ", { headers: { accept: "text/html" } });
    const html = (await expectStatus(res, 200)) as string;
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(html).toContain("Test MP (letters come back to you)");
  });

  it("searches constituencies by name in D1", async () => {
    const body = (await expectStatus(await w.fetch("/api/lookup?q=aberdeen"), 200)) as {
      results: { constituency: { name: string } }[];
    };
    expect(body.results.map((r) => r.constituency.name)).toContain("Aberdeen South");
  });

  it("answers from postcodes loaded by the D1 postcode build, applied to local D1 as wrangler would", async () => {
    const out = mkdtempSync(join(tmpdir(), "d1-postcodes-"));
    try {
      const m = await buildPostcodeSql(resolve(ROOT_DIR, "tests/fixtures/import/nspl-sample.zip"), {
        out,
        rowsPerFile: 3,
      });
      for (const f of m.files) {
        const statements = unstable_splitSqlQuery(readFileSync(join(out, f.name), "utf8"));
        await w.db.batch(statements.map((q) => w.db.prepare(q)));
      }
      // Twice: every statement is an upsert, so a file applied again (a resumed load) is harmless.
      const first = m.files[0]?.name ?? "";
      await w.db.batch(
        unstable_splitSqlQuery(readFileSync(join(out, first), "utf8")).map((q) => w.db.prepare(q)),
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    const before = w.calls.length;
    const body = (await expectStatus(await w.fetch("/api/lookup?postcode=SW1A%201AA"), 200)) as {
      source: string;
      constituency: { code: string };
    };
    expect(body).toMatchObject({ source: "local", constituency: { code: "E14001172" } });
    expect(w.calls.length).toBe(before);
  });

  it("makes no outbound request that no handler answered", () => {
    expect(w.unhandled).toEqual([]);
  });
});
