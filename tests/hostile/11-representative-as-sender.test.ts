/**
 * HOSTILE 11: a letter whose supporter email is the representative's own address, or whose sender
 * name is the representative's, is flagged for moderation with the reason shown; no confirmation
 * (nor reminder, nor "send the link again") mail ever goes to the representative's address.
 * Finding: a supporter email equal to the MP's address went unflagged, and the confirmation was
 * mailed to the MP.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { sweepUnconfirmed } from "../../src/modules/letters/letters.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, hostileApp, signedIn } from "./support";

const MP_EMAIL = "alex.baker.mp@parliament.invalid";
const DAY = 86_400_000;

const toAldershot = (name: string, email: string) => {
  const base = letterInput();
  return {
    ...base,
    supporter: {
      name,
      email,
      address: { line1: "1 Alexandra Road", town: "Farnborough", postcode: "GU14 7JU" },
    },
  };
};

describe("11: the representative as sender", () => {
  it("their own address: flagged, answered as usual, and nothing is ever mailed to it", async () => {
    const t = await hostileApp({ ADMIN_SESSION_HOURS: "336" });
    const lead = await signedIn(t);
    const res = await t.post(
      "/api/letters",
      toAldershot("A Constituent", "Alex.Baker.MP@Parliament.invalid"),
    );
    const { id, status } = (await expectStatus(res, 201)) as { id: string; status: string };
    expect(status).toBe("awaiting_confirmation");
    const mailTo = () =>
      t.sqlite
        .prepare("select kind from outbox where lower(to_email) = ? and kind <> 'letter'")
        .all(MP_EMAIL) as { kind: string }[];
    expect(mailTo()).toEqual([]);
    // "Send the link again", a reminder half-way, and the outbox worker: still nothing to the MP.
    await expectStatus(await t.post("/api/letters/resend-confirmation", { email: MP_EMAIL }), 202);
    t.clock.advance(4 * DAY);
    await sweepUnconfirmed(t.deps);
    await drainOutbox(t.deps);
    expect(mailTo()).toEqual([]);
    expect(t.captured()).toEqual([]);
    const page = (await expectStatus(await lead.get("/admin/moderation"), 200)) as string;
    expect(page.replaceAll("&#x27;", "'")).toContain(
      "the supporter's email address is the representative's own address",
    );
    // A moderator can stop it at once; otherwise it expires unconfirmed.
    await lead.post(`/admin/moderation/${id}/reject`);
    expect(t.sqlite.prepare("select status from letters where id = ?").get(id)).toEqual({
      status: "cancelled",
    });
  });

  it("their name as sender: flagged, held when confirmed, reason shown; a shared first name is not", async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    const flagsOf = async (name: string, who: string) => {
      const { id } = (await expectStatus(
        await t.post("/api/letters", toAldershot(name, emailFor(who))),
        201,
      )) as {
        id: string;
      };
      return {
        id,
        flags: (t.sqlite.prepare("select flags from letters where id = ?").get(id) as { flags: string })
          .flags,
      };
    };
    const same = await flagsOf("Rt Hon Alex Baker MP", "a");
    expect(same.flags).toContain("representative_name");
    expect((await flagsOf("alex  BAKER", "b")).flags).toContain("representative_name");
    expect((await flagsOf("Alex", "c")).flags).toBeNull();
    expect((await flagsOf("Alexandra Bakerson", "d")).flags).toBeNull();
    expect(await expectStatus(await t.confirm(await t.confirmToken(same.id)), 200)).toMatchObject({
      status: "held",
    });
    const page = (await expectStatus(await lead.get("/admin/moderation"), 200)) as string;
    expect(page.replaceAll("&#x27;", "'")).toContain("the sender's name is the representative's name");
  });

  it("letters written to several representatives at once: the same, and no confirmation to anyone's office", async () => {
    const t = await hostileApp();
    const base = toAldershot("A Constituent", MP_EMAIL);
    const res = await t.post("/api/letters/group", { ...base, recipients: [{ kind: "mp" }] });
    expect(res.status).toBe(201);
    expect(t.sqlite.prepare("select flags from letters").all()).toEqual([
      { flags: '["representative_email"]' },
    ]);
    expect(t.sqlite.prepare("select kind from outbox where kind <> 'letter'").all()).toEqual([]);
  });
});
