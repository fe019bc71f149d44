/**
 * Reply rates: per representative, party and nation on the dashboard (agreeing with each other
 * and with the replies page), what replies said about each ask, and an MP's own rate in public
 * only once REPLY_RATE_MIN_ANSWERS writers have answered.
 */
import { describe, expect, it } from "vitest";
import { ensureTestSeat } from "../../src/modules/lookup/lookup.import";
import { adminApp } from "../support/admin";
import { expectStatus } from "../support/deps";
import { columnSum, tableRows } from "../support/figures";

type T = Awaited<ReturnType<typeof adminApp>>;
let seq = 0;

/** A sent letter to the seat's MP (SEATS in tests/support/pledges.ts) with a follow-up answer. */
function answered(t: T, seat: { code: string; mp: string; personId: number }, answer: string | null) {
  const id = `l-${++seq}`;
  t.sqlite
    .prepare(
      `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_person_id, recipient_name,
        status, asks, subject, body, supporter_name, supporter_email, supporter_address, supporter_postcode,
        idempotency_key, created_at, confirmed_at, sent_at, reply_answer, reply_answered_at)
       values (?, 'manifesto-for-babies', ?, 'mp', ?, ?, 'sent', '["prevention","workforce"]', 's', 'b', 'n',
        ?, 'a\nb', 'p', ?, 1, 1, 1, ?, ?)`,
    )
    .run(id, seat.code, seat.personId, seat.mp, `w${seq}@example.org`, `k${seq}`, answer, answer ? 2 : null);
  return id;
}

const ALDERSHOT = { code: "E14001063", mp: "MP Aldershot", personId: 4000 };
const EDINBURGH = { code: "S14000021", mp: "MP Edinburgh East", personId: 4001 };
const CARDIFF = { code: "W07000081", mp: "MP Cardiff East", personId: 4002 };
const TEST = { code: "Z00000001", mp: "Test MP (letters come back to you)", personId: -1 };

async function withAnswers() {
  const t = await adminApp({ REPLY_RATE_MIN_ANSWERS: "3" });
  await ensureTestSeat(t.deps);
  // Aldershot (Labour, England): 2 of 3 replied. Edinburgh East (SNP, Scotland): 0 of 1.
  // Cardiff East (Labour, Wales): 1 of 2. Unanswered letters and the test seat count nowhere.
  const first = answered(t, ALDERSHOT, "yes");
  answered(t, ALDERSHOT, "yes");
  answered(t, ALDERSHOT, "not_yet");
  answered(t, ALDERSHOT, null);
  answered(t, EDINBURGH, "no");
  answered(t, CARDIFF, "yes");
  answered(t, CARDIFF, "not_yet");
  answered(t, TEST, "yes");
  answered(t, TEST, "yes");
  t.sqlite
    .prepare(
      "insert into letter_replies (letter_id, reply_text, stances, created_at, updated_at) values (?, ?, ?, 1, 1)",
    )
    .run(
      first,
      "I fully support <b>health visiting</b>.",
      JSON.stringify({ prevention: "supports", workforce: "partly" }),
    );
  return t;
}

describe("reply rates", () => {
  it("show per MP, party and nation on the dashboard, agreeing with each other and leaving the test seat out", async () => {
    const t = await withAnswers();
    const html = (await expectStatus(await t.get("/admin"), 200)) as string;
    const byRep = tableRows(html, "replies-by-rep");
    expect(byRep[0]).toEqual(["MP Aldershot", "Aldershot", "Labour", "3", "2", "67%"]);
    expect(byRep.map((r) => r[0])).not.toContain(TEST.mp);
    const byParty = tableRows(html, "replies-by-party");
    expect(byParty).toEqual([
      ["Labour", "5", "3", "60%"],
      ["SNP", "1", "0", "0%"],
    ]);
    const byNation = tableRows(html, "replies-by-nation");
    expect(byNation).toContainEqual(["England", "3", "2", "67%"]);
    for (const rows of [byParty, byNation]) {
      expect(columnSum(rows, 1)).toBe(columnSum(byRep, 3));
      expect(columnSum(rows, 2)).toBe(columnSum(byRep, 4));
    }
    // The replies page shows the same figures, what the reply said, escaped, and its stances.
    const page = (await expectStatus(await t.get("/admin/replies"), 200)) as string;
    expect(tableRows(page, "replies-by-party")).toEqual(byParty);
    expect(page).toContain("I fully support &lt;b&gt;health visiting&lt;/b&gt;.");
    expect(tableRows(page, "stances")).toContainEqual(["Put money into prevention", "1", "0", "0", "0"]);
  });

  it("shows an MP's own rate in public only once enough writers have answered", async () => {
    const t = await withAnswers();
    const aldershot = (await expectStatus(await t.request("/find?postcode=GU11+1AA"), 200)) as string;
    expect(aldershot).toMatch(/MP Aldershot has replied to 2 of the 3 constituents who told us/);
    const cardiff = (await expectStatus(await t.request("/find?postcode=CF24+1AA"), 200)) as string;
    expect(cardiff).not.toMatch(/has replied to/);
    expect(cardiff).not.toMatch(/constituents who told us/);
  });
});
