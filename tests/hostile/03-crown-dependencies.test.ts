/**
 * HOSTILE 3: Jersey, Guernsey and the Isle of Man have postcodes but no MP at Westminster: the
 * answer says so (naming the island), on the API and on every form, before any upstream call.
 */
import { describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { hostileApp, POSTCODE_ROUTES } from "./support";

const ISLANDS: [string, string][] = [
  ["JE2 4WD", "Jersey"],
  ["GY1 1AA", "Guernsey"],
  ["IM1 1AA", "the Isle of Man"],
];

describe("03: Crown dependencies", () => {
  it.each(ISLANDS)("%s: no Westminster MP, explained, on every route", async (pc, island) => {
    // Remote lookups on, with no handler: any call to postcodes.io would fail the request.
    const t = await hostileApp({ REMOTE_LOOKUP: "on", POSTCODES_IO_URL: "http://127.0.0.1:9" });
    const problem = await expectStatus(
      await t.request(`/api/lookup?postcode=${encodeURIComponent(pc)}`),
      422,
    );
    expect(problem).toMatchObject({ code: "postcode_no_westminster_mp", territory: island });
    expect((problem as { detail: string }).detail).toContain(`is in ${island}`);
    for (const [route, call] of Object.entries(POSTCODE_ROUTES))
      expect(await call(t, pc, 0), route).toMatch(/^422:(postcode_no_westminster_mp|page)$/);
    expect(await (await t.page(`/find?postcode=${encodeURIComponent(pc)}`)).text()).toContain(
      "no MP at Westminster",
    );
  });
});
