/**
 * HOSTILE 6: an address that carries a second postcode, in another constituency, is someone
 * borrowing a constituent's postcode to reach an MP: the letter is flagged, held for a moderator
 * when confirmed (not sent), and the moderation page says why. The supporter's answer is the same
 * as for any letter. A second postcode in the same seat, or the supporter's own repeated, is fine.
 * Finding: a second postcode in the address went unflagged.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, hostileApp, signedIn } from "./support";

const inAldershot = (who: string, line1: string, line2?: string) => {
  const base = letterInput({ story: undefined });
  return {
    ...base,
    supporter: {
      ...base.supporter,
      email: emailFor(who),
      address: { line1, ...(line2 ? { line2 } : {}), town: "Farnborough", postcode: "GU14 7JU" },
    },
  };
};

describe("06: a second postcode in the address", () => {
  it("in another constituency: flagged, held when confirmed, reason shown; nothing reaches the MP", async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    // SW1A 1AA is in Cities of London and Westminster; the supporter's postcode is in Aldershot.
    const res = await t.post("/api/letters", inAldershot("borrowed", "10 Downing Street, SW1A 1AA"));
    const letter = (await expectStatus(res, 201)) as { id: string; status: string };
    expect(letter.status).toBe("awaiting_confirmation");
    expect(await expectStatus(await t.confirm(await t.confirmToken(letter.id)), 200)).toMatchObject({
      status: "held",
    });
    await drainOutbox(t.deps);
    expect(t.captured().filter((m) => m.subject.includes("babies"))).toEqual([]);
    const page = (await expectStatus(await lead.get("/admin/moderation"), 200)) as string;
    expect(page).toContain("the postal address contains a second postcode, in another constituency");
    // The moderator can still send it (it may be a genuine second home) or stop it.
    await lead.post(`/admin/moderation/${letter.id}/release`);
    await drainOutbox(t.deps);
    expect(t.captured().filter((m) => m.subject.includes("babies"))).toHaveLength(1);
  });

  it("a second postcode we can't place (unknown, closed) is flagged too; one in the same seat is not", async () => {
    const t = await hostileApp();
    t.sqlite
      .prepare("insert into postcodes (postcode, constituency_code) values ('GU11 1AA', 'E14001063')")
      .run();
    const flags = async (who: string, line1: string, line2?: string) => {
      const { id } = (await expectStatus(
        await t.post("/api/letters", inAldershot(who, line1, line2)),
        201,
      )) as {
        id: string;
      };
      return (t.sqlite.prepare("select flags from letters where id = ?").get(id) as { flags: string | null })
        .flags;
    };
    expect(await flags("a", "Flat 2", "c/o 1 Station Road, EH99 9ZZ")).toContain("second_postcode");
    expect(await flags("b", "Flat 2, AB1 0AA")).toContain("second_postcode");
    expect(await flags("c", "Unit 4, GU11 1AA")).toBeNull();
    expect(await flags("d", "12 Lynchford Road GU14 7JU")).toBeNull();
    expect(await flags("e", "12 Lynchford Road")).toBeNull();
  });
});
