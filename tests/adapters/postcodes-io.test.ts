/**
 * The postcodes.io client against msw serving real saved responses (data/fixtures/postcodes-io).
 */
import { HttpResponse, http, type JsonBodyType } from "msw";
import { describe, expect, it } from "vitest";
import { postcodesIo } from "../../src/adapters/http/postcodes-io";
import { AppError } from "../../src/lib/errors";
import { POSTCODES_IO, postcodesIoFixture, postcodesIoHandlers } from "../support/lookup-data";
import { useMsw } from "../support/msw";

const server = useMsw();
const client = (retries = 1) => postcodesIo(POSTCODES_IO, { timeoutMs: 300, retries });
/** A self-hosted copy of postcodes.io at another address, of unknown version. */
const SELF_HOSTED = "http://postcodes.internal";
const selfHosted = () => postcodesIo(SELF_HOSTED, { timeoutMs: 300, retries: 0 });

async function upstreamError(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(
    () => {
      throw new Error("expected the lookup to fail");
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AppError);
  expect((e as AppError).code).toBe("upstream_unavailable");
  return e as AppError;
}

describe("postcodes.io client", () => {
  it("reads the 2024 constituency code and name from a real /postcodes answer", async () => {
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    expect(await client().lookup("NW1 6LG")).toEqual({
      kind: "found",
      postcode: "NW1 6LG",
      constituencyCode: "E14001172",
      constituencyName: "Cities of London and Westminster",
      // An English postcode has no Senedd constituency (this saved answer predates the field).
      seneddName: null,
    });
    expect(calls).toEqual(["/postcodes/NW1%206LG"]);
  });

  it("reads a Welsh postcode's 2026 Senedd constituency from /postcodes (senedd_constituency)", async () => {
    const body = postcodesIoFixture("NW16LG.json") as { result: Record<string, unknown> };
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () =>
        HttpResponse.json({
          status: 200,
          result: {
            ...body.result,
            postcode: "CF24 2BT",
            country: "Wales",
            parliamentary_constituency: "Cardiff South and Penarth",
            parliamentary_constituency_2024: "Cardiff South and Penarth",
            senedd_constituency: "Caerdydd Penarth",
            senedd_constituency_no: 14,
            codes: { parliamentary_constituency: "W07000091", parliamentary_constituency_2024: "W07000091" },
          },
        }),
      ),
    );
    expect(await client().lookup("CF24 2BT")).toMatchObject({
      kind: "found",
      constituencyCode: "W07000091",
      seneddName: "Caerdydd Penarth",
    });
  });

  it("reads the 2026 Holyrood constituency and region from /scotland/postcodes, never the 2021 ones", async () => {
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    expect(await client().holyrood("EH1 2NG")).toEqual({
      kind: "found",
      constituencyCode: "S16000182",
      constituencyName: "Edinburgh Central",
      regionCode: "S17000022",
      regionName: "Edinburgh and Lothians East",
    });
    expect(calls).toEqual(["/scotland/postcodes/EH1%202NG"]);
  });

  it("reads codes some copies flatten to …_code, and answers not_found for a postcode outside the directory", async () => {
    server.use(
      http.get(`${POSTCODES_IO}/scotland/postcodes/:pc`, ({ params }) =>
        params.pc === "G12 8QQ"
          ? HttpResponse.json({
              status: 200,
              result: {
                postcode: "G12 8QQ",
                scottish_parliamentary_constituency: "Glasgow Kelvin and Maryhill",
                scottish_parliamentary_region: "Glasgow",
                scottish_parliamentary_constituency_code: "S16000199",
                scottish_parliamentary_region_code: "S17000023",
              },
            })
          : HttpResponse.json(postcodesIoFixture("404-scotland-not-in-spd.json"), { status: 404 }),
      ),
    );
    expect(await client().holyrood("G12 8QQ")).toMatchObject({
      kind: "found",
      constituencyCode: "S16000199",
      regionCode: "S17000023",
    });
    expect(await client().holyrood("PA75 6NU")).toEqual({ kind: "not_found" });
  });

  it("treats a directory from before 2026 (a 2014 constituency, no region field) as no answer", async () => {
    server.use(
      http.get(`${POSTCODES_IO}/scotland/postcodes/:pc`, () =>
        HttpResponse.json({
          status: 200,
          result: {
            postcode: "AB10 7EU",
            scottish_parliamentary_constituency: "Aberdeen South and North Kincardine",
            codes: { scottish_parliamentary_constituency: "S16000076" },
          },
        }),
      ),
    );
    expect(await client().holyrood("AB10 7EU")).toEqual({ kind: "not_found" });
  });

  it("asks for JSON and names itself in the user agent", async () => {
    let headers: Headers | undefined;
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, ({ request }) => {
        headers = request.headers;
        return HttpResponse.json(postcodesIoFixture("NW16LG.json"));
      }),
    );
    await client().lookup("NW1 6LG");
    expect(headers?.get("accept")).toBe("application/json");
    expect(headers?.get("user-agent")).toMatch(/^speakup/);
  });

  it("reads 'terminated' from the 404 body (postcodes.io 17.7.0 on) with one request", async () => {
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    expect(await client().lookup("E1W 1UU")).toEqual({ kind: "terminated", postcode: "E1W 1UU" });
    expect(calls).toEqual(["/postcodes/E1W%201UU"]);
  });

  it("takes a 404 without 'terminated' from the public service as never existed, with one request", async () => {
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls));
    expect(await client().lookup("SW1A 9ZZ")).toEqual({ kind: "not_found", postcode: "SW1A 9ZZ" });
    expect(calls).toEqual(["/postcodes/SW1A%209ZZ"]);
  });

  it("asks /terminated_postcodes after a bare 404 from an older self-hosted copy", async () => {
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls, { base: SELF_HOSTED, legacy: true }));
    const pc = selfHosted();
    expect(await pc.lookup("E1W 1UU")).toEqual({ kind: "terminated", postcode: "E1W 1UU" });
    expect(await pc.lookup("SW1A 9ZZ")).toEqual({ kind: "not_found", postcode: "SW1A 9ZZ" });
    expect(calls).toEqual([
      "/postcodes/E1W%201UU",
      "/terminated_postcodes/E1W%201UU",
      "/postcodes/SW1A%209ZZ",
      "/terminated_postcodes/SW1A%209ZZ",
    ]);
  });

  it("stops the second request once a self-hosted copy shows its 404s carry 'terminated'", async () => {
    const calls: string[] = [];
    server.use(...postcodesIoHandlers(calls, { base: SELF_HOSTED }));
    const pc = selfHosted();
    // Before it knows: a bare 404 is checked.
    expect(await pc.lookup("SW1A 9ZZ")).toEqual({ kind: "not_found", postcode: "SW1A 9ZZ" });
    expect(await pc.lookup("E1W 1UU")).toEqual({ kind: "terminated", postcode: "E1W 1UU" });
    calls.length = 0;
    expect(await pc.lookup("SW1A 9ZY")).toEqual({ kind: "not_found", postcode: "SW1A 9ZY" });
    expect(calls).toEqual(["/postcodes/SW1A%209ZY"]);
  });

  it("reads a null 2024 constituency as no constituency", async () => {
    const body = postcodesIoFixture("NW16LG.json") as { result: Record<string, unknown> };
    body.result.parliamentary_constituency_2024 = null;
    body.result.codes = { ...(body.result.codes as object), parliamentary_constituency_2024: null };
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.json(body as JsonBodyType)));
    expect(await client().lookup("NW1 6LG")).toMatchObject({ kind: "found", constituencyCode: null });
  });

  it.each([429, 500, 502, 503])("retries an HTTP %i once and uses the second answer", async (status) => {
    let attempts = 0;
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () =>
        ++attempts === 1
          ? HttpResponse.json({ status, error: "busy" }, { status })
          : HttpResponse.json(postcodesIoFixture("NW16LG.json")),
      ),
    );
    expect(await client(1).lookup("NW1 6LG")).toMatchObject({ kind: "found", constituencyCode: "E14001172" });
    expect(attempts).toBe(2);
  });

  it("gives up after the configured retries with upstream_unavailable and a retry hint", async () => {
    let attempts = 0;
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () => {
        attempts++;
        return new HttpResponse(null, { status: 503 });
      }),
    );
    const e = await upstreamError(client(2).lookup("NW1 6LG"));
    expect(attempts).toBe(3);
    expect(e.detail).toContain("HTTP 503");
    expect(e.extra.retryAfter).toBeGreaterThan(0);
  });

  it("does not retry a 400: it would fail the same way again", async () => {
    let attempts = 0;
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () => {
        attempts++;
        return HttpResponse.json({ status: 400, error: "Bad request" }, { status: 400 });
      }),
    );
    await upstreamError(client(2).lookup("NW1 6LG"));
    expect(attempts).toBe(1);
  });

  it("fails with upstream_unavailable when an older copy's /terminated_postcodes is down", async () => {
    server.use(
      http.get(`${SELF_HOSTED}/postcodes/:pc`, () =>
        HttpResponse.json(postcodesIoFixture("404-postcode-not-found.json"), { status: 404 }),
      ),
      http.get(`${SELF_HOSTED}/terminated_postcodes/:pc`, () => new HttpResponse(null, { status: 500 })),
    );
    await upstreamError(selfHosted().lookup("SW1A 9ZZ"));
  });

  it("fails with upstream_unavailable on a body that isn't JSON or isn't the expected shape", async () => {
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => new HttpResponse("<html>oops</html>")));
    expect((await upstreamError(client(0).lookup("NW1 6LG"))).detail).toMatch(/unreadable/);
    server.use(
      http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.json({ status: 200, result: [] })),
    );
    expect((await upstreamError(client(0).lookup("NW1 6LG"))).detail).toMatch(/unexpected shape/);
  });
});
