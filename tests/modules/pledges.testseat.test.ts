/**
 * The MP pledge flow on the ZZ9 9ZZ test seat: its MP has the reserved member id -1, so anyone
 * can try send link -> verify -> "has pledged" without touching a real MP, and the test pledge
 * never reaches public counts or the wall.
 */
import { describe, expect, it } from "vitest";
import { dashboard } from "../../src/modules/admin/admin.service";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { ensureTestSeat, TEST_SEAT } from "../../src/modules/lookup/lookup.import";
import { expectStatus, testApp } from "../support/deps";
import { form } from "../support/pledges";

async function testSeatApp() {
  const t = testApp({ MAIL_MODE: "capture" });
  await ensureTestSeat(t.deps);
  /** Mail captured so far (after the outbox has been drained), newest last. */
  const captured = async () => {
    await drainOutbox(t.deps);
    return t.sqlite.prepare("select to_header, subject, text from captured_mail order by rowid").all() as {
      to_header: string;
      subject: string;
      text: string;
    }[];
  };
  return { ...t, captured };
}

describe("MP pledge on the test seat", () => {
  it("gives the test MP the reserved member id -1, also on a database seeded before it had one", async () => {
    const t = testApp();
    const now = t.clock.now();
    t.sqlite
      .prepare(
        "insert into constituencies (ons_code, name, nation, region_code, region_name, is_test) values (?, ?, 'Test', ?, 'Test', 1)",
      )
      .run(TEST_SEAT.onsCode, TEST_SEAT.name, TEST_SEAT.onsCode);
    t.sqlite
      .prepare(
        "insert into members (constituency_code, status, name, party, email, reflects_to_sender, updated_at) values (?, 'sitting', ?, 'Test', ?, 1, ?)",
      )
      .run(TEST_SEAT.onsCode, TEST_SEAT.mpName, TEST_SEAT.email, now);
    await ensureTestSeat(t.deps);
    await ensureTestSeat(t.deps);
    expect(
      t.sqlite
        .prepare("select parliament_id id from members where constituency_code = ?")
        .get(TEST_SEAT.onsCode),
    ).toEqual({ id: -1 });
    expect(await expectStatus(await t.request("/api/lookup?postcode=ZZ9+9ZZ"), 200)).toMatchObject({
      mp: { parliamentId: -1, name: TEST_SEAT.mpName },
      pledge: { mp: "not_pledged" },
    });
  });

  it("sends the link to the captured test MP address, verifies it, and reports the MP as pledged", async () => {
    const t = await testSeatApp();
    const lookup = async () => expectStatus(await t.request("/api/lookup?postcode=ZZ9+9ZZ"), 200);
    expect(await lookup()).toMatchObject({ pledge: { mp: "not_pledged" } });

    const page = (await expectStatus(await t.request(`/pledge/mp/${TEST_SEAT.onsCode}`), 200)) as string;
    expect(page).toContain("has not signed the pledge yet");
    await expectStatus(await t.request(`/pledge/mp/${TEST_SEAT.onsCode}`, form({})), 202);

    const mail = await t.captured();
    expect(mail).toHaveLength(1);
    expect(mail[0]?.to_header).toContain(`<${TEST_SEAT.email}>`);
    const link = /https?:\/\/\S+\/pledge\/rep\/verify\?token=(\S+)/.exec(mail[0]?.text ?? "");
    const token = decodeURIComponent(link?.[1] ?? "");
    expect(token).not.toBe("");

    await expectStatus(await t.request(`/pledge/rep/verify?token=${encodeURIComponent(token)}`), 200);
    expect(await lookup()).toMatchObject({ pledge: { mp: "not_pledged" } });
    expect(await expectStatus(await t.request("/pledge/rep/verify", form({ token })), 200)).toContain(
      "Thank you",
    );
    expect(await lookup()).toMatchObject({ pledge: { mp: "pledged" } });
    expect(t.sqlite.prepare("select kind, person_id, status, verified_by from rep_pledges").all()).toEqual([
      { kind: "mp", person_id: -1, status: "verified", verified_by: "link" },
    ]);

    // A test pledge: never on the public wall or in the public counter.
    expect(await expectStatus(await t.request("/api/pledges/wall"), 200)).toMatchObject({
      total: 0,
      parties: [],
    });
    expect(await expectStatus(await t.request("/api/pledges/counter"), 200)).toMatchObject({
      representatives: { verified: 0 },
    });
    const wallPage = (await expectStatus(await t.request("/pledges/wall"), 200)) as string;
    expect(wallPage).not.toContain("Test MP");
    expect((await dashboard(t.deps)).totals.repPledges).toBe(0);
  });
});
