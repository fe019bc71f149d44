/**
 * HOSTILE 1: a postcode typed with odd spacing, a hyphen, full-width characters, a non-breaking
 * space or a tab is normalised to "SW1A 1AA" the same way on every route that takes a postcode
 * (lookup API, the find and write pages, letter preview and submit, the letter form, the pledge
 * API and form); something that is not a postcode is refused the same way everywhere.
 */
import { describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { hostileApp, POSTCODE_ROUTES as ROUTES } from "./support";

const VARIANTS = [
  "  sw1a1aa ",
  "SW1A  1AA",
  "sw1a-1aa",
  "ＳＷ１Ａ１ＡＡ",
  "SW1A\u00a01AA",
  "SW1A\t1AA",
  "sw1a 1aa\u200b",
];

describe("01: postcode variants", () => {
  it("are all normalised to SW1A 1AA on every route that takes a postcode", async () => {
    const t = await hostileApp();
    // Letters go to the seat's MP in this test (the address is a reserved domain: nothing leaves).
    const answers: Record<string, string[]> = {};
    for (const [route, call] of Object.entries(ROUTES))
      answers[route] = await Promise.all(VARIANTS.map((pc, n) => call(t, pc, n)));
    for (const [route, got] of Object.entries(answers))
      expect(got, route).toEqual(VARIANTS.map(() => "ok:SW1A 1AA"));
  });

  it("something that is not a postcode is refused on every route, never stored, never a 500", async () => {
    const t = await hostileApp();
    const before = t.digest();
    for (const bad of ["SW1A 1A", "SW1A-1AA-1", "12345", "SW1A 1AA<script>"]) {
      for (const [route, call] of Object.entries(ROUTES)) {
        const got = await call(t, bad, 0);
        expect(got, `${route} ${JSON.stringify(bad)}`).toMatch(/^4\d\d:/);
      }
      const api = await t.request(`/api/lookup?postcode=${encodeURIComponent(bad)}`);
      expect(await expectStatus(api, 400)).toMatchObject({ code: "postcode_malformed" });
    }
    expect(t.digest()).toEqual(before);
  });
});
