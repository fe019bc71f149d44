/**
 * No letter to someone who has left: letters awaiting confirmation, held or queued for an MP
 * who leaves the seat are stopped by the members sync, the supporter is told (with a link to
 * write to the new MP, or that the seat is vacant), and queued letters follow a changed address.
 * A counting transport at the process edge shows what would have gone where.
 */
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { letterStops, letters, outbox } from "../../src/db/schema";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { seededApp } from "../support/members";
import { seat } from "../support/members-api";
import { useMsw } from "../support/msw";

useMsw();

const OLD_MP = "alex.sobel.mp@parliament.uk";
const NEW_MP = "jo.newton.mp@parliament.uk";

const story = (who: string) =>
  `${who} here. Our twins were born early and the neonatal unit saved them. Every family deserves that care close to home, and the support afterwards that we had to fight for.`;

async function writingApp() {
  const t = await seededApp();
  const post = (path: string, body: unknown) =>
    t.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  /** A letter to the MP for LS1 1AZ (Leeds Central and Headingley: Alex Sobel). */
  const submit = async (email: string, text = story(email)) =>
    (
      (await expectStatus(
        await post("/api/letters", {
          recipient: { kind: "mp" },
          asks: ["prevention"],
          story: text,
          supporter: {
            name: `Supporter ${email.split("@")[0]}`,
            email,
            address: { line1: "1 Park Row", town: "Leeds", postcode: "LS1 1AZ" },
          },
        }),
        201,
      )) as { id: string }
    ).id;
  const confirmToken = async (letterId: string) => {
    const [row] = await t.deps.db
      .select({ body: outbox.bodyText })
      .from(outbox)
      .where(and(eq(outbox.letterId, letterId), eq(outbox.kind, "confirm")));
    const m = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(row?.body ?? "");
    if (!m?.[1]) throw new Error("no confirm link");
    return m[1];
  };
  const confirm = async (letterId: string) =>
    post("/api/letters/confirm", { token: await confirmToken(letterId) });
  const status = async (letterId: string) =>
    (await expectStatus(await t.request(`/api/letters/${letterId}`), 200)) as {
      status: string;
      stopped?: { reason: string; newMp: string | null };
    };
  const letterRow = async (letterId: string) =>
    (
      await t.deps.db
        .select()
        .from(outbox)
        .where(and(eq(outbox.letterId, letterId), eq(outbox.kind, "letter")))
    )[0];
  return { ...t, post, submit, confirm, confirmToken, status, letterRow };
}

describe("letters to an MP who has left", () => {
  it("stops letters awaiting confirmation, held and queued; tells each supporter once; none reaches the MP", async () => {
    const t = await writingApp();
    // Sent before the by-election: it went, and stays sent.
    const sent = await t.submit("early@example.org");
    await expectStatus(await t.confirm(sent), 200);
    await drainOutbox(t.deps);
    expect(t.mail.to(OLD_MP)).toHaveLength(1);

    const waiting = await t.submit("waiting@example.org");
    // Distinct from the others' stories (a near-copy of them would be held, not queued).
    const copied =
      "I run a toddler group in Hyde Park. Half the parents who come cannot get a health visitor appointment for months, and the baby clinic by the library closed in the spring.";
    const queued = await t.submit("queued@example.org", copied);
    await expectStatus(await t.confirm(queued), 200);
    // Near-identical to `queued`: held for moderation when confirmed.
    const held = await t.submit("held@example.org", copied);
    expect(await expectStatus(await t.confirm(held), 200)).toMatchObject({ status: "held" });
    expect((await t.letterRow(queued))?.state).toBe("queued");
    expect((await t.letterRow(held))?.state).toBe("held");

    // The by-election: Jo Newton takes the seat.
    Object.assign(seat(t.api.control.roster, "Leeds Central and Headingley"), {
      id: 9001,
      name: "Jo Newton",
      party: "Green Party",
      email: NEW_MP,
      since: "2026-11-19",
    });
    const outcome = await t.sync();
    expect(outcome).toMatchObject({ status: "applied", lettersStopped: 3 });

    for (const id of [waiting, queued, held]) {
      expect(await t.status(id)).toMatchObject({
        status: "cancelled",
        stopped: { reason: "member_left", newMp: "Jo Newton" },
      });
      expect((await t.letterRow(id))?.state).toBe("cancelled");
    }
    expect(await t.status(sent)).toMatchObject({ status: "sent" });
    expect((await t.status(sent)).stopped).toBeUndefined();

    // Everything due goes now: nothing to the MP who left, one email to each stopped supporter.
    await drainOutbox(t.deps);
    expect(t.mail.to(OLD_MP)).toHaveLength(1);
    expect(t.mail.to(NEW_MP)).toHaveLength(0);
    for (const who of ["waiting", "queued", "held"]) {
      const notices = t.mail.to(`${who}@example.org`).filter((m) => m.subject.includes("was not sent"));
      expect(notices, who).toHaveLength(1);
      expect(notices[0]?.text).toContain("Alex Sobel is no longer the MP for Leeds Central and Headingley");
      expect(notices[0]?.text).toContain("Jo Newton is now the MP for Leeds Central and Headingley");
    }

    // The link in the email starts a letter to the new MP.
    const notice = t.mail.to("queued@example.org").find((m) => m.subject.includes("was not sent"));
    const link = /http:\/\/localhost:3000(\/write\?\S+)/.exec(notice?.text ?? "")?.[1];
    expect(link).toBe("/write?postcode=LS1+1AZ&seat=E14001319&to=mp");
    const page = (await expectStatus(await t.request(link as string), 200)) as string;
    expect(page).toContain("Write to Jo Newton");

    // Confirming the stopped letter now does nothing.
    expect(await expectStatus(await t.confirm(waiting), 409)).toMatchObject({
      code: "letter_not_confirmable",
    });

    // A second sync (same answer) stops nothing more and tells nobody twice.
    expect(await t.sync()).toMatchObject({ status: "applied", changes: 0, lettersStopped: 0 });
    await drainOutbox(t.deps);
    expect(t.mail.sent.filter((m) => m.subject.includes("was not sent"))).toHaveLength(3);
    expect(t.mail.duplicates).toEqual([]);
    expect(t.mail.to(OLD_MP)).toHaveLength(1);
  });

  it("tells the supporter the seat is vacant when nobody replaced their MP", async () => {
    const t = await writingApp();
    const queued = await t.submit("vacant@example.org");
    await expectStatus(await t.confirm(queued), 200);
    t.api.control.roster = t.api.control.roster.filter(
      (r) => r.constituency !== "Leeds Central and Headingley",
    );
    expect(await t.sync()).toMatchObject({ status: "applied", lettersStopped: 1 });
    expect(await t.status(queued)).toMatchObject({ stopped: { reason: "seat_vacant", newMp: null } });
    await drainOutbox(t.deps);
    expect(t.mail.to(OLD_MP)).toHaveLength(0);
    const [notice] = t.mail.to("vacant@example.org").filter((m) => m.subject.includes("was not sent"));
    expect(notice?.text).toContain("Leeds Central and Headingley has no MP at the moment");
    expect(notice?.text).toContain("http://localhost:3000/find?postcode=LS1+1AZ&seat=E14001319");
  });

  it("sends a queued letter to the MP's new address when only the address changed", async () => {
    const t = await writingApp();
    const queued = await t.submit("moved@example.org");
    await expectStatus(await t.confirm(queued), 200);
    const waiting = await t.submit(
      "later@example.org",
      "I am a health visitor in Leeds. Caseloads have doubled in five years, and the families who need us most are the ones we now see least.",
    );
    seat(t.api.control.roster, "Leeds Central and Headingley").email = "alex.sobel.office@parliament.uk";
    expect(await t.sync({ allContacts: true })).toMatchObject({
      status: "applied",
      changes: 1,
      lettersStopped: 0,
      lettersRedirected: 2,
    });
    await expectStatus(await t.confirm(waiting), 200);
    await drainOutbox(t.deps);
    expect(t.mail.to(OLD_MP)).toHaveLength(0);
    expect(t.mail.to("alex.sobel.office@parliament.uk")).toHaveLength(2);
    expect(await t.status(queued)).toMatchObject({ status: "sent" });
    expect(t.mail.duplicates).toEqual([]);
  });

  it("a new letter after the change goes to the new MP, and the stop record is kept with the old one", async () => {
    const t = await writingApp();
    const old = await t.submit("again@example.org");
    Object.assign(seat(t.api.control.roster, "Leeds Central and Headingley"), {
      id: 9001,
      name: "Jo Newton",
      email: NEW_MP,
    });
    await t.sync();
    // Writing again is allowed: the earlier letter was to someone else and never went.
    const fresh = await t.submit("again@example.org", story("Writing again"));
    await expectStatus(await t.confirm(fresh), 200);
    await drainOutbox(t.deps);
    expect(t.mail.to(NEW_MP)).toHaveLength(1);
    expect(t.mail.to(OLD_MP)).toHaveLength(0);
    const stops = await t.deps.db.select().from(letterStops);
    expect(stops.map((s) => s.letterId)).toEqual([old]);
    const [l] = await t.deps.db
      .select({ name: letters.recipientName })
      .from(letters)
      .where(eq(letters.id, fresh));
    expect(l?.name).toBe("Jo Newton");
  });
});
