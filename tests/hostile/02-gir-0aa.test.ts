/**
 * HOSTILE 2: GIR 0AA is a well-formed postcode (Girobank's, used by no home) with no
 * constituency: every route says there is no MP for this postcode, never "malformed", never a
 * 500. The overseas territories' single postcodes get the same answer.
 * Finding: GIR 0AA was answered as malformed.
 */
import { describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { hostileApp, POSTCODE_ROUTES } from "./support";

describe("02: GIR 0AA", () => {
  it("is 'no MP for this postcode' (422) on the lookup API, in any spelling", async () => {
    const t = await hostileApp();
    for (const pc of ["GIR 0AA", "gir0aa", " GIR  0AA ", "ＧＩＲ０ＡＡ"]) {
      const problem = await expectStatus(
        await t.request(`/api/lookup?postcode=${encodeURIComponent(pc)}`),
        422,
      );
      expect(problem).toMatchObject({ code: "postcode_no_westminster_mp", postcode: "GIR 0AA" });
      expect((problem as { detail: string }).detail).toMatch(/no MP for this postcode/);
    }
    for (const pc of ["FIQQ 1ZZ", "STHL1ZZ", "GX11 1AA"])
      expect(
        await expectStatus(await t.request(`/api/lookup?postcode=${encodeURIComponent(pc)}`), 422),
      ).toMatchObject({
        code: "postcode_no_westminster_mp",
      });
  });

  it("is refused the same way on every route that takes a postcode, with the page saying why", async () => {
    const t = await hostileApp();
    const before = t.digest();
    for (const [route, call] of Object.entries(POSTCODE_ROUTES)) {
      const got = await call(t, "GIR 0AA", 0);
      expect(got, route).toMatch(/^422:(postcode_no_westminster_mp|page)$/);
    }
    const page = await t.page("/find?postcode=GIR+0AA");
    expect(page.status).toBe(422);
    const html = await page.text();
    expect(html).toContain("no MP for this postcode");
    expect(html).not.toMatch(/doesn.t look like a UK postcode/);
    expect(t.digest()).toEqual(before);
  });
});
