/**
 * Writing to the parliament that can act, end to end in each nation with a devolved parliament:
 * postcode -> representatives -> one letter per parliament with the asks it can act on -> ONE
 * confirmation -> the mail each representative receives (the counting transport of
 * tests/support/mail.ts). Over a database seeded from data/ as `npm start` seeds it; the Senedd's
 * and the Assembly's addresses come from a sync against stand-ins of their official data in the
 * real shapes (the shipped lists have none).
 */
import { and, eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { devolvedMembers, letterStops, letters, outbox, postcodes } from "../../src/db/schema";
import { createUser } from "../../src/modules/admin/admin.auth";
import { byBodyAndNation } from "../../src/modules/admin/admin.service";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { sweepUnconfirmed } from "../../src/modules/letters/letters.service";
import { ADMIN, cookieFrom, csrfIn, ORIGIN, signInForm } from "../support/admin";
import { expectStatus } from "../support/deps";
import { seededApp } from "../support/members";
import { useMsw } from "../support/msw";

useMsw();

type App = Awaited<ReturnType<typeof seededApp>>;
type GroupAnswer = {
  group: string;
  letters: { id: string; status: string; recipient: { kind: string; name: string } }[];
  skipped: { name: string; role: string; reason: string }[];
};
type Preview = {
  letters: {
    body: string;
    key: string;
    role: string;
    asks: string[];
    recipients: { kind: string; personId: number | null; name: string; greeting: string | null }[];
    subject: string;
    text: string;
  }[];
  skipped: { name: string; reason: string }[];
};

const DAY = 24 * 60 * 60 * 1000;
const supporter = (postcode: string, email = "morag@example.org") => ({
  name: "Morag Test",
  email,
  address: { line1: "1 High Street", town: "Town", postcode },
});
const STORY = "Our health visitor in the first weeks after our son was born made all the difference.";

function helpers(t: App) {
  const post = (path: string, body: unknown) =>
    t.request(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const preview = async (body: unknown, status = 200) =>
    (await expectStatus(await post("/api/letters/group/preview", body), status)) as Preview;
  const submit = async (body: unknown, status = 201) =>
    (await expectStatus(await post("/api/letters/group", body), status)) as GroupAnswer;
  /** The confirmation emails queued for an address, and the link in the latest. */
  const confirmMails = async (email: string) =>
    t.deps.db
      .select({ subject: outbox.subject, body: outbox.bodyText, kind: outbox.kind })
      .from(outbox)
      .where(and(eq(outbox.toEmail, email), sql`${outbox.kind} in ('confirm','reminder')`))
      .orderBy(outbox.createdAt);
  const tokenIn = (body: string) => {
    const m = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(body);
    if (!m?.[1]) throw new Error("no confirm link");
    return m[1];
  };
  const confirm = async (token: string, status = 200) =>
    (await expectStatus(await post("/api/letters/confirm", { token }), status)) as {
      group: true;
      status: string;
      alreadyConfirmed: boolean;
      letters: { recipientName: string; role: string; status: string; problem: string | null }[];
    };
  /** Letters the transport was handed for an address (not the supporter's own mail). */
  const lettersTo = (address: string) =>
    t.mail.to(address).filter((m) => !/confirm|has been sent|waiting/i.test(m.subject));
  return { post, preview, submit, confirmMails, tokenIn, confirm, lettersTo };
}

describe("Scotland: EH1 2NG (Edinburgh Central, Edinburgh and Lothians East)", () => {
  it("writes to the MP about what Westminster decides and to the MSPs about what Holyrood decides, and one click sends them all", async () => {
    const t = await seededApp();
    const h = helpers(t);
    const found = await t.lookup("EH1 2NG");
    expect((found as unknown as { constituency: { code: string } }).constituency.code).toBe("S14000078");
    expect(found.mp?.name).toBe("Chris Murray");
    expect(found.devolved).toMatchObject({
      status: "known",
      constituency: { code: "S16000182", name: "Edinburgh Central" },
      region: { code: "S17000022" },
    });
    const msp = found.devolved?.members[0];
    const regional = found.devolved?.regionalMembers.find((m) => m.contactable);
    expect(msp?.name).toBe("Lorna Slater");
    expect(found.devolved?.regionalMembers).toHaveLength(7);
    if (!msp || !regional) throw new Error("no MSPs");

    // The result page offers the journey to all of them.
    const page = (await expectStatus(await t.request("/find?postcode=EH1+2NG"), 200)) as string;
    expect(page).toContain('href="/write?postcode=EH1%202NG&to=all"');

    const draft = {
      recipients: [{ kind: "mp" }, { kind: "msp", personId: msp.id }, { kind: "msp", personId: regional.id }],
      asks: ["families", "prevention", "strategy"],
      story: STORY,
      supporter: supporter("EH1 2NG"),
    };
    const p = await h.preview(draft);
    const [toMp, toMsps] = p.letters;
    // The MP: only the asks Westminster can act on in Scotland (prevention is devolved).
    expect(toMp).toMatchObject({ body: "uk_parliament", role: "MP", asks: ["strategy", "families"] });
    expect(toMp?.text).toMatch(/^Dear Chris Murray,/);
    // The MSPs: every ask chosen (Holyrood can act on all three), one shared text, each greeted.
    expect(toMsps).toMatchObject({
      body: "scottish_parliament",
      role: "MSP",
      asks: ["strategy", "prevention", "families"],
    });
    expect(toMsps?.recipients.map((r) => r.greeting)).toEqual([
      "Dear Lorna Slater MSP,",
      `Dear ${regional.name} MSP,`,
    ]);
    expect(toMsps?.subject).toBe("Please speak up for babies in Edinburgh Central: a question for my MSP");
    expect(toMsps?.text).toContain("in the Edinburgh and Lothians East region");
    expect(toMsps?.text).toContain("Scottish Parliament");
    expect(toMsps?.text).toContain(STORY);

    const group = await h.submit(draft);
    expect(group.letters.map((l) => [l.recipient.kind, l.recipient.name, l.status])).toEqual([
      ["mp", "Chris Murray", "awaiting_confirmation"],
      ["msp", "Lorna Slater", "awaiting_confirmation"],
      ["msp", regional.name, "awaiting_confirmation"],
    ]);
    // A replay (same submission) is the same group.
    expect((await h.submit(draft, 200)).group).toBe(group.group);
    // ONE confirmation email for the three letters, naming them all.
    const mails = await h.confirmMails("morag@example.org");
    expect(mails).toHaveLength(1);
    expect(mails[0]?.subject).toBe(
      `Please confirm your letters to Chris Murray MP, Lorna Slater MSP and ${regional.name} MSP`,
    );
    const token = h.tokenIn(mails[0]?.body ?? "");
    const confirmPage = (await expectStatus(
      await t.request(`/letters/confirm?token=${token}`),
      200,
    )) as string;
    expect(confirmPage).toContain("Send my letters");
    expect(confirmPage).toContain("To Lorna Slater (MSP)");
    // Nothing goes before the click.
    await drainOutbox(t.deps);
    expect(h.lettersTo("chris.murray.mp@parliament.uk")).toHaveLength(0);

    const confirmed = await h.confirm(token);
    expect(confirmed).toMatchObject({ group: true, status: "confirmed", alreadyConfirmed: false });
    expect(confirmed.letters.every((l) => l.status === "confirmed" && l.problem === null)).toBe(true);
    await drainOutbox(t.deps);

    const [mpMail] = h.lettersTo("chris.murray.mp@parliament.uk");
    expect(mpMail?.to.name).toBe("Chris Murray MP");
    expect(mpMail?.subject).toBe("Please speak up for babies in Edinburgh East and Musselburgh");
    expect(mpMail?.text).toContain("A joined-up national plan for babies");
    expect(mpMail?.text).not.toContain("Put money into prevention");
    expect(mpMail?.text).toContain("1 High Street\nTown\nEH1 2NG");
    const [mspMail] = h.lettersTo("Lorna.Slater.msp@parliament.scot");
    expect(mspMail?.to.name).toBe("Lorna Slater MSP");
    expect(mspMail?.text).toMatch(/^Dear Lorna Slater MSP,\n\nI live in Edinburgh Central/);
    expect(mspMail?.text).toContain("Put money into prevention");
    expect(mspMail?.replyTo?.address).toBe("morag@example.org");
    const regionalRow = await t.deps.db
      .select()
      .from(letters)
      .where(eq(letters.recipientName, regional.name));
    expect(regionalRow[0]).toMatchObject({ status: "sent", areaCode: "S17000022", groupId: group.group });

    // A replayed click changes nothing and sends nothing more.
    expect(await h.confirm(token)).toMatchObject({ alreadyConfirmed: true });
    const before = t.mail.sent.length;
    await drainOutbox(t.deps);
    expect(t.mail.sent.length).toBe(before);

    // The dashboard counts letters by parliament and nation.
    const byBody = await byBodyAndNation(t.deps);
    expect(byBody.find((r) => r.body === "scottish_parliament")).toMatchObject({
      nation: "Scotland",
      letters: 2,
    });
    expect(byBody.find((r) => r.body === "uk_parliament" && r.nation === "Scotland")).toMatchObject({
      letters: 1,
    });
  });

  it("never writes to two regional MSPs at once, nor to an MSP who isn't the supporter's", async () => {
    const t = await seededApp();
    const h = helpers(t);
    const found = await t.lookup("EH1 2NG");
    const [a, b] = found.devolved?.regionalMembers ?? [];
    const two = await h.submit(
      {
        recipients: [
          { kind: "msp", personId: a?.id },
          { kind: "msp", personId: b?.id },
        ],
        asks: ["prevention"],
        supporter: supporter("EH1 2NG"),
      },
      400,
    );
    expect(JSON.stringify(two)).toContain("choose one regional MSP");
    // Airdrie's constituency MSP for an Edinburgh postcode.
    const [stranger] = await t.deps.db
      .select({ id: devolvedMembers.id })
      .from(devolvedMembers)
      .where(eq(devolvedMembers.areaCode, "S16000156"));
    const other = await h.submit(
      {
        recipients: [{ kind: "msp", personId: stranger?.id }],
        asks: ["prevention"],
        supporter: supporter("EH1 2NG"),
      },
      400,
    );
    expect(JSON.stringify(other)).toContain("choose one of yours");
    // An MS for a Scottish postcode.
    const ms = await h.submit(
      { recipients: [{ kind: "ms", personId: 1 }], asks: ["prevention"], supporter: supporter("EH1 2NG") },
      400,
    );
    expect(JSON.stringify(ms)).toContain("only represents people in Wales");
  });

  it("stops the letter to an MSP who left before it was confirmed; the others still go, and the supporter is told", async () => {
    const t = await seededApp();
    const h = helpers(t);
    const found = await t.lookup("EH1 2NG");
    const msp = found.devolved?.members[0];
    const group = await h.submit({
      recipients: [{ kind: "mp" }, { kind: "msp", personId: msp?.id }],
      asks: ["strategy", "workforce"],
      supporter: supporter("EH1 2NG"),
    });
    // Lorna Slater resigns; the seat is vacant until a by-election.
    t.devolved.control.msps = t.devolved.control.msps.filter((m) => m.name !== "Lorna Slater");
    const sync = await t.syncBody("scottish_parliament");
    expect(sync).toMatchObject({ status: "applied" });
    const [stop] = await t.deps.db
      .select()
      .from(letterStops)
      .where(eq(letterStops.letterId, group.letters[1]?.id ?? ""));
    expect(stop).toMatchObject({ reason: "seat_vacant" });

    const [mail] = await h.confirmMails("morag@example.org");
    const confirmed = await h.confirm(h.tokenIn(mail?.body ?? ""));
    expect(confirmed.letters).toEqual([
      { recipientName: "Chris Murray", role: "MP", status: "confirmed", problem: null },
      {
        recipientName: "Lorna Slater",
        role: "MSP",
        status: "cancelled",
        problem: expect.stringContaining("Lorna Slater is no longer your MSP"),
      },
    ]);
    await drainOutbox(t.deps);
    expect(h.lettersTo("chris.murray.mp@parliament.uk")).toHaveLength(1);
    expect(h.lettersTo("Lorna.Slater.msp@parliament.scot")).toHaveLength(0);
    expect(t.mail.to("morag@example.org").some((m) => /not been sent|will not be sent/i.test(m.text))).toBe(
      true,
    );
  });

  it("reminds once per group and sends the link again once per group", async () => {
    const t = await seededApp();
    const h = helpers(t);
    const found = await t.lookup("EH1 2NG");
    await h.submit({
      recipients: [{ kind: "mp" }, { kind: "msp", personId: found.devolved?.members[0]?.id }],
      asks: ["strategy"],
      supporter: supporter("EH1 2NG"),
    });
    t.clock.advance(5 * 60_000);
    await expectStatus(await h.post("/api/letters/resend-confirmation", { email: "morag@example.org" }), 202);
    t.clock.advance(4 * DAY);
    expect(await sweepUnconfirmed(t.deps)).toMatchObject({ reminded: 2 });
    const mails = await h.confirmMails("morag@example.org");
    expect(mails.map((m) => m.kind)).toEqual(["confirm", "confirm", "reminder"]);
    expect(mails[2]?.subject).toBe(
      "Reminder: your letters to Chris Murray MP and Lorna Slater MSP are waiting",
    );
    // Every link confirms both letters.
    const last = await h.confirm(h.tokenIn(mails[2]?.body ?? ""));
    expect(last.letters.map((l) => l.status)).toEqual(["confirmed", "confirmed"]);
  });
});

describe("Wales: CF10 1AA (Cardiff South and Penarth; Senedd: Caerdydd Penarth)", () => {
  it("writes only to the MS when the chosen asks are all for the Senedd, and says why the MP is left out", async () => {
    const t = await seededApp();
    const h = helpers(t);
    expect(await t.syncBody("senedd")).toMatchObject({ status: "applied" });
    const found = await t.lookup("CF10 1AA");
    expect(found.devolved).toMatchObject({ status: "known", constituency: { code: "W09000053" } });
    expect(found.devolved?.members).toHaveLength(6);
    const ms = found.devolved?.members.find((m) => m.contactable);
    if (!ms) throw new Error("no MS with an address");
    // Never all six at once.
    const all = await h.submit(
      {
        recipients: found.devolved?.members.slice(0, 2).map((m) => ({ kind: "ms", personId: m.id })),
        asks: ["workforce"],
        supporter: supporter("CF10 1AA", "dai@example.org"),
      },
      400,
    );
    expect(JSON.stringify(all)).toContain("choose one MS, not several");

    const group = await h.submit({
      recipients: [{ kind: "mp" }, { kind: "ms", personId: ms.id }],
      asks: ["workforce", "prevention"],
      supporter: supporter("CF10 1AA", "dai@example.org"),
    });
    expect(group.letters.map((l) => l.recipient.kind)).toEqual(["ms"]);
    expect(group.skipped).toEqual([
      {
        name: "Stephen Doughty",
        role: "MP",
        reason:
          "The UK Parliament can't act on the asks you chose, so we won't write to Stephen Doughty about them.",
      },
    ]);
    const [mail] = await h.confirmMails("dai@example.org");
    // One letter: its own link and the singular wording.
    expect(mail?.subject).toBe(`Please confirm your letter to ${ms.name} MS`);
    await h.confirm(h.tokenIn(mail?.body ?? ""));
    await drainOutbox(t.deps);
    const address = t.devolved.control.mss.find((m) => m.name === ms.name)?.email ?? "";
    const [sent] = h.lettersTo(address);
    expect(sent?.to.name).toBe(`${ms.name} MS`);
    expect(sent?.text).toMatch(new RegExp(`^Dear ${ms.name} MS,\\n\\nI live in Caerdydd Penarth`));
    expect(sent?.text).toContain("the Senedd");
    expect(h.lettersTo("stephen.doughty.mp@parliament.uk")).toHaveLength(0);
  });

  it("shows MSs without an address (before any sync) and refuses to write to them", async () => {
    const t = await seededApp();
    const h = helpers(t);
    const found = await t.lookup("CF10 1AA");
    const ms = found.devolved?.members[0];
    expect(ms).toMatchObject({ contactable: false, contactUrl: expect.stringMatching(/^https:\/\//) });
    const refused = await h.submit(
      {
        recipients: [{ kind: "ms", personId: ms?.id }],
        asks: ["workforce"],
        supporter: supporter("CF10 1AA"),
      },
      422,
    );
    expect(refused).toMatchObject({ code: "recipient_not_contactable" });
  });
});

describe("Northern Ireland: BT1 1AA (Belfast North)", () => {
  it("writes to the MP and one MLA, each with the asks their parliament can act on", async () => {
    const t = await seededApp();
    const h = helpers(t);
    expect(await t.syncBody("ni_assembly")).toMatchObject({ status: "applied" });
    const found = await t.lookup("BT1 1AA");
    expect(found.devolved).toMatchObject({ status: "known", constituency: { code: "N06000002" } });
    const mla = found.devolved?.members.find((m) => m.contactable);
    if (!mla) throw new Error("no MLA with an address");
    const group = await h.submit({
      recipients: [{ kind: "mp" }, { kind: "mla", personId: mla.id }],
      asks: ["strategy", "prevention", "inequalities", "workforce", "families"],
      story: STORY,
      supporter: supporter("BT1 1AA", "siobhan@example.org"),
    });
    expect(group.letters).toHaveLength(2);
    const [mail] = await h.confirmMails("siobhan@example.org");
    await h.confirm(h.tokenIn(mail?.body ?? ""));
    await drainOutbox(t.deps);
    const [toMp] = h.lettersTo("john.finucane.mp@parliament.uk");
    expect(toMp?.text).not.toContain("Put money into prevention");
    expect(toMp?.text).not.toContain("Enough trained people");
    const address = t.devolved.control.mlas.find((m) => m.name === mla.name)?.email ?? "";
    const [toMla] = h.lettersTo(address);
    expect(toMla?.to.name).toBe(`${mla.name} MLA`);
    expect(toMla?.text).toMatch(new RegExp(`^Dear ${mla.name} MLA,`));
    expect(toMla?.text).toContain("Put money into prevention");
    expect(toMla?.text).toContain("the Assembly");
    const rows = await t.deps.db.select().from(letters).where(eq(letters.groupId, group.group));
    expect(rows.map((r) => [r.recipientKind, r.status, r.asks])).toEqual([
      ["mp", "sent", ["strategy", "inequalities", "families"]],
      ["mla", "sent", ["strategy", "prevention", "inequalities", "workforce", "families"]],
    ]);
  });

  it("asks which Assembly constituency where a 2024 seat spans several, and writes only once it is chosen", async () => {
    const t = await seededApp();
    const h = helpers(t);
    await t.syncBody("ni_assembly");
    // A postcode of Belfast South and Mid Down (the seat takes parts of Lagan Valley and Strangford).
    await t.deps.db.insert(postcodes).values({ postcode: "BT8 9ZZ", constituencyCode: "N05000003" });
    const found = await t.lookup("BT8 9ZZ");
    expect(found.devolved?.status).toBe("choose");
    expect(found.devolved?.choices.map((c) => c.code).sort()).toEqual([
      "N06000003",
      "N06000009",
      "N06000016",
    ]);
    const lagan = (await expectStatus(
      await t.request("/api/lookup?postcode=BT8+9ZZ&area=N06000009"),
      200,
    )) as Awaited<ReturnType<App["lookup"]>>;
    const mla = lagan.devolved?.members.find((m) => m.contactable);
    expect(lagan.devolved).toMatchObject({
      status: "known",
      source: "supporter",
      constituency: { name: "Lagan Valley" },
    });
    const draft = {
      recipients: [{ kind: "mla", personId: mla?.id }],
      asks: ["workforce"],
      supporter: supporter("BT8 9ZZ", "ciara@example.org"),
    };
    const unchosen = await h.submit(draft, 400);
    expect(JSON.stringify(unchosen)).toContain("Choose your NI Assembly constituency first");
    const group = await h.submit({ ...draft, area: "N06000009" });
    expect(group.letters).toHaveLength(1);
  });
});

describe("MSPs, MSs and MLAs pledge like MPs", () => {
  it("sends an MSP the pledge link at their official address; a campaign lead can verify an MLA; both on the public wall", async () => {
    const t = await seededApp();
    const found = await t.lookup("EH1 2NG");
    const msp = found.devolved?.members[0];
    const page = (await expectStatus(await t.request(`/pledge/msp/${msp?.id}`), 200)) as string;
    expect(page).toContain("Lorna Slater");
    expect(page).toContain("has not signed the pledge yet");
    await expectStatus(
      await t.request(`/api/representatives/msp/${msp?.id}/pledge-link`, { method: "POST" }),
      202,
    );
    await drainOutbox(t.deps);
    const [link] = t.mail.to("Lorna.Slater.msp@parliament.scot");
    const token = /\/pledge\/rep\/verify\?token=([A-Za-z0-9_.-]+)/.exec(link?.text ?? "")?.[1] ?? "";
    expect(token).not.toBe("");
    await expectStatus(
      await t.request("/pledge/rep/verify", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }).toString(),
      }),
      200,
    );

    // A campaign lead records an MLA's pledge made at an event.
    const mla = (await t.lookup("BT1 1AA")).devolved?.members[0];
    await createUser(t.deps, ADMIN);
    const session = cookieFrom(await signInForm(t as never), "speakup_admin");
    const cookie = `speakup_admin=${session}`;
    const csrf = csrfIn(await (await t.request("/admin", { headers: { cookie } })).text());
    const verified = await t.request("/admin/representatives/verify", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, cookie },
      body: new URLSearchParams({
        _csrf: csrf,
        kind: "mla",
        ref: String(mla?.id),
        note: "Signed at Stormont",
      }).toString(),
    });
    expect(verified.status).toBe(303);

    const wall = (await expectStatus(await t.request("/api/pledges/wall"), 200)) as {
      total: number;
      parties: { pledges: { kind: string; name: string }[] }[];
    };
    expect(wall.total).toBe(2);
    const pledges = wall.parties.flatMap((p) => p.pledges);
    expect(pledges.map((p) => [p.kind, p.name]).sort()).toEqual([
      ["mla", mla?.name],
      ["msp", "Lorna Slater"],
    ]);
    const html = (await expectStatus(await t.request("/pledges/wall"), 200)) as string;
    expect(html).toContain("MSP for Edinburgh Central");
    expect((await t.lookup("EH1 2NG")).devolved?.members[0]?.pledged).toBe(true);
    const byBody = await byBodyAndNation(t.deps);
    expect(byBody.find((r) => r.body === "ni_assembly")).toMatchObject({ repPledges: 1 });
    expect(byBody.find((r) => r.body === "scottish_parliament")).toMatchObject({ repPledges: 1 });
  });
});
