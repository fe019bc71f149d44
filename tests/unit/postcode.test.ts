import { describe, expect, it } from "vitest";
import {
  CROWN_DEPENDENCY_AREAS,
  normalisePostcode,
  parsePostcode,
  TEST_POSTCODE,
} from "../../src/lib/postcode";

describe("parsePostcode", () => {
  it.each([
    ["SW1A 1AA", "SW1A 1AA"],
    ["sw1a1aa", "SW1A 1AA"],
    ["  Sw1A \t 1aA  ", "SW1A 1AA"],
    ["SW1A\u00a01AA", "SW1A 1AA"],
    ["SW1A\u200b1AA", "SW1A 1AA"],
    ["ＳＷ１Ａ １ＡＡ", "SW1A 1AA"],
    ["m11aa", "M1 1AA"],
    ["b338th", "B33 8TH"],
    ["cr26xh", "CR2 6XH"],
    ["dn551pt", "DN55 1PT"],
    ["w1a 0ax", "W1A 0AX"],
    ["ec1a 1bb", "EC1A 1BB"],
    // A hyphen or dash between the halves, as some address books write it.
    ["sw1a-1aa", "SW1A 1AA"],
    ["SW1A–1AA", "SW1A 1AA"],
  ])("normalises %j to %s", (input, expected) => {
    expect(parsePostcode(input)?.postcode).toBe(expected);
  });

  it.each([
    "",
    "   ",
    "123456",
    "SW1A",
    "SW1A 1AAA",
    "SW1A 1AA1",
    "1AB 1AA",
    "hello",
    "SW1A-1AA-X",
    "SW-1A1AA",
    "SW1A 1AA, London",
  ])("rejects %j", (input) => {
    expect(parsePostcode(input)).toBeNull();
  });

  it("returns the area and outward code used to spot Crown dependencies", () => {
    expect(parsePostcode("je2 3bx")).toEqual({ postcode: "JE2 3BX", area: "JE", outcode: "JE2" });
    for (const pc of ["JE2 3BX", "GY1 1AA", "IM1 1AA"]) {
      expect(CROWN_DEPENDENCY_AREAS[parsePostcode(pc)?.area ?? ""]).toBeDefined();
    }
    expect(CROWN_DEPENDENCY_AREAS[parsePostcode("BT4 3XX")?.area ?? ""]).toBeUndefined();
  });

  it("accepts the test postcode", () => {
    expect(parsePostcode("zz99zz")?.postcode).toBe(TEST_POSTCODE);
  });
});

describe("normalisePostcode", () => {
  it("normalises ONS file forms (pcd, pcd2, pcds) to one form", () => {
    expect(["AB1 0AA", "AB1  0AA", "AB10AA"].map(normalisePostcode)).toEqual([
      "AB1 0AA",
      "AB1 0AA",
      "AB1 0AA",
    ]);
    expect(normalisePostcode("NOT A PC")).toBeNull();
  });
});
