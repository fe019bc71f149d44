/**
 * HOSTILE 5: postcodes.io answers carry the old (2010) and the 2024 constituency side by side:
 * the 2024 seat is the one used, even when the old field names a seat we hold.
 */
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { POSTCODES_IO, postcodesIoFixture } from "../support/lookup-data";
import { useMsw } from "../support/msw";
import { hostileApp } from "./support";

const server = useMsw();

describe("05: old and 2024 constituency fields", () => {
  it("uses parliamentary_constituency_2024, never the old field", async () => {
    const answer = postcodesIoFixture("NW16LG.json") as {
      result: Record<string, unknown> & { codes: Record<string, unknown> };
    };
    // The old fields point at Aldershot (which we hold); the 2024 ones at Cities of London.
    answer.result.parliamentary_constituency = "Aldershot";
    answer.result.codes.parliamentary_constituency = "E14001063";
    server.use(http.get(`${POSTCODES_IO}/postcodes/:pc`, () => HttpResponse.json(answer)));
    const t = await hostileApp({ REMOTE_LOOKUP: "on" });
    const got = await expectStatus(await t.request("/api/lookup?postcode=NW1+6LG"), 200);
    expect(got).toMatchObject({
      postcode: "NW1 6LG",
      source: "postcodes.io",
      constituency: { code: "E14001172", name: "Cities of London and Westminster" },
      mp: { name: "Rachel Blake" },
    });
  });
});
