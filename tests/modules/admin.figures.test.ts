/**
 * The dashboard tells one story: for the same data, every figure it shows agrees with every other
 * figure that counts the same thing (tiles, the days table, nations, regions, parties, partners,
 * parliaments, top constituencies), the front page's counters and the public counter agree with
 * the tiles, and the ZZ9 9ZZ test seat is in none of them.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { outbox } from "../../src/db/schema.letters";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { savePartner } from "../../src/modules/widget/widget.service";
import { adminApp } from "../support/admin";
import { expectStatus } from "../support/deps";
import { columnSum, figures, tableRows } from "../support/figures";
import { json, tokenIn } from "../support/pledges";

const DAY = 86_400_000;
const PARTNER_ORIGIN = "https://nct.example";

async function campaignWithTestSeatActivity() {
  const t = await adminApp({ LETTER_LIMIT_PER_EMAIL_DAY: "50", ADMIN_SESSION_HOURS: "72" });
  await ensureTestSeat(t.deps);
  await savePartner(t.deps, { key: "nct", name: "NCT", allowedOrigins: [PARTNER_ORIGIN], active: true });

  let n = 0;
  /** A letter through the JSON API, confirmed from the token its email carries. */
  const letter = async (postcode: string, viaPartner = false) => {
    const headers: Record<string, string> = viaPartner ? { origin: PARTNER_ORIGIN } : {};
    const res = await t.request(
      "/api/letters",
      json(
        {
          recipient: { kind: "mp" },
          asks: ["prevention"],
          story: `Story number ${++n}: our health visitor spotted a problem early, and it made all the difference.`,
          supporter: {
            name: `Writer ${n}`,
            email: `writer${n}@example.org`,
            address: { line1: `${n} High Street`, town: "Town", postcode },
          },
          ...(viaPartner ? { partner: "nct" } : {}),
        },
        headers,
      ),
    );
    const { id } = (await expectStatus(res, 201)) as { id: string };
    const [row] = await t.deps.db
      .select({ body: outbox.bodyText })
      .from(outbox)
      .where(eq(outbox.letterId, id));
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(
      (
        await t.deps.db
          .select({ body: outbox.bodyText, kind: outbox.kind })
          .from(outbox)
          .where(eq(outbox.letterId, id))
      ).find((r) => r.kind === "confirm")?.body ?? "",
    )?.[1];
    expect(row, "letter row").toBeDefined();
    await expectStatus(await t.request("/api/letters/confirm", json({ token })), 200);
  };
  /** A supporter pledge through the JSON API, confirmed from its email. */
  const pledge = async (postcode: string, viaPartner = false) => {
    const i = ++n;
    await expectStatus(
      await t.request(
        "/api/pledges",
        json(
          {
            name: `Pledger ${i}`,
            email: `pledger${i}@example.org`,
            postcode,
            pledgeConsent: "pledge-2026-11",
            ...(viaPartner ? { partner: "nct" } : {}),
          },
          viaPartner ? { origin: PARTNER_ORIGIN } : {},
        ),
      ),
      202,
    );
    const mail = t.sent.findLast((m) => m.to.address === `pledger${i}@example.org`);
    await expectStatus(
      await t.request("/api/pledges/confirm", json({ token: tokenIn(mail, "/pledge/confirm") })),
      200,
    );
  };

  // Day 1: real letters and pledges, some through a partner; the test seat gets both too.
  await letter("GU11 1AA");
  await letter("GU11 1AA", true);
  await letter("ZZ9 9ZZ", true);
  await pledge("GU11 1AA", true);
  await pledge("ZZ9 9ZZ");
  await pledge("ZZ9 9ZZ", true);
  t.clock.advance(DAY);
  // Day 2.
  await letter("EH8 8AA");
  await letter("CF24 1AA");
  await letter("ZZ9 9ZZ");
  await pledge("CF24 1AA");
  // Representatives' pledges recorded by a lead: a real MP counts, the test MP never does.
  expect(
    (await t.post("/admin/representatives/verify", { kind: "mp", ref: "E14001063", note: "at the launch" }))
      .status,
  ).toBe(303);
  expect(
    (await t.post("/admin/representatives/verify", { kind: "mp", ref: "Z00000001", note: "trying it out" }))
      .status,
  ).toBe(303);
  return t;
}

describe("dashboard figures", () => {
  it("agree with each other everywhere on the dashboard, and leave the test seat out of every one", async () => {
    const t = await campaignWithTestSeatActivity();
    const html = (await expectStatus(await t.get("/admin"), 200)) as string;
    const tiles = figures(html);
    // 4 real letters (Aldershot x2, Edinburgh East, Cardiff East), 2 real pledges, 1 real MP pledge.
    expect(tiles).toMatchObject({ letters: 4, pledges: 2, "rep-pledges": 1 });

    const byDay = tableRows(html, "by-day");
    expect(columnSum(byDay, 1), "pledges by day").toBe(tiles.pledges);
    expect(columnSum(byDay, 2), "letters by day").toBe(tiles.letters);
    for (const id of ["by-nation", "by-region", "by-party", "by-partner"]) {
      const rows = tableRows(html, id);
      expect(columnSum(rows, 1), `pledges ${id}`).toBe(tiles.pledges);
      expect(columnSum(rows, 2), `letters ${id}`).toBe(tiles.letters);
      expect(rows.map((r) => r[0]).join(" "), id).not.toMatch(/Test/);
    }
    // The partner's share: one real letter and one real pledge (its test-seat ones don't count).
    expect(tableRows(html, "by-partner")).toContainEqual(["nct", "1", "1"]);
    const byBody = tableRows(html, "by-body");
    expect(columnSum(byBody, 2), "letters by parliament").toBe(tiles.letters);
    expect(columnSum(byBody, 3), "members pledged by parliament").toBe(tiles["rep-pledges"]);
    const top = tableRows(html, "top-seats");
    // Only seats with something to show, busiest first, never padded with zeros.
    expect(top).toEqual([
      ["Aldershot", "1", "2"],
      ["Cardiff East", "1", "1"],
      ["Edinburgh East", "0", "1"],
    ]);
    expect(columnSum(tableRows(html, "top-recipients"), 2)).toBe(tiles.letters);
    expect(html).not.toContain("Test MP");
  });

  it("shows the same totals on the front page and the public counter as on the dashboard", async () => {
    const t = await campaignWithTestSeatActivity();
    const tiles = figures((await expectStatus(await t.get("/admin"), 200)) as string);
    const home = figures((await expectStatus(await t.request("/"), 200)) as string);
    expect(home).toMatchObject({
      letters: tiles.letters,
      pledges: tiles.pledges,
      "rep-pledges": tiles["rep-pledges"],
    });
    const counter = (await expectStatus(await t.request("/api/pledges/counter"), 200)) as {
      supporters: { total: number };
      representatives: { verified: number };
      letters: { total: number };
    };
    expect(counter.supporters.total).toBe(tiles.pledges);
    expect(counter.representatives.verified).toBe(tiles["rep-pledges"]);
    expect(counter.letters.total).toBe(tiles.letters);
  });
});
