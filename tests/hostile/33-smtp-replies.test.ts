/**
 * HOSTILE 33: what each relay answer does, through a real SMTP server: 421/451/452 are retried;
 * 550 5.1.1 bounces the letter, tells the supporter and flags the address; 552 (5.2.2, mailbox
 * full) is retried no sooner than two hours later; 535 at AUTH and 5xx at MAIL FROM pause the
 * outbox, consume nothing and raise an alert.
 */
import { describe, expect, it } from "vitest";
import { MAILBOX_FULL_RETRY_MS } from "../../src/modules/delivery/delivery.machine";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { confirmedLetters, lettersAt, withRealSmtp } from "./support";

const LATER = 6 * 60 * 60 * 1000;
const once = (reply: { code: number; message: string }) => {
  let n = 1;
  return () => (n-- > 0 ? reply : null);
};

describe("33: relay replies", () => {
  it.each([
    [421, "4.7.0 try again later, closing connection"],
    [451, "4.3.0 local error in processing"],
    [452, "4.3.1 insufficient system storage"],
  ])("%i at RCPT: retried, then sent once", async (code, message) => {
    const t = await withRealSmtp({ onRcpt: once({ code, message }) });
    await confirmedLetters(t, 1);
    await drainOutbox(t.deps);
    expect(lettersAt(t.sink)).toHaveLength(0);
    t.clock.advance(LATER);
    await drainOutbox(t.deps);
    expect(lettersAt(t.sink)).toHaveLength(1);
  });

  it("550 5.1.1: bounced, the supporter told with a copy, the address flagged, no retry", async () => {
    const MP = "alex.baker.mp@parliament.example.net";
    // Live mode, to a local SMTP server: the MP's (made-up) address is refused at RCPT.
    const t = await withRealSmtp(
      {
        onRcpt: (to) =>
          to === MP
            ? { code: 550, message: "5.1.1 <alex.baker.mp@parliament.example.net>: no such user" }
            : null,
      },
      { MAIL_MODE: "live" },
    );
    t.sqlite.prepare("update members set email = ? where constituency_code = 'E14001063'").run(MP);
    const input = letterInput({ story: "Our health visitor moved away and nobody replaced her." });
    const { id } = await t.submit({
      ...input,
      supporter: {
        ...input.supporter,
        email: "sender@example.org",
        address: { line1: "2 Queens Road", town: "Farnborough", postcode: "GU14 7JU" },
      },
    });
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);
    await drainOutbox(t.deps);
    expect(
      t.sqlite.prepare("select state, attempts from outbox where letter_id = ? and kind = 'letter'").get(id),
    ).toEqual({
      state: "bounced",
      attempts: 1,
    });
    expect(t.sqlite.prepare("select status from letters where id = ?").get(id)).toEqual({
      status: "undeliverable",
    });
    const notice = t.sink.messages.find(
      (m) =>
        m.subject?.toLowerCase().includes("not delivered") ||
        m.text?.includes("Our health visitor moved away"),
    );
    expect(notice?.text).toContain("Our health visitor moved away");
    expect(t.sqlite.prepare("select address from recipient_flags").all()).toEqual([{ address: MP }]);
    t.clock.advance(LATER);
    await drainOutbox(t.deps);
    expect(
      t.sqlite.prepare("select attempts from outbox where letter_id = ? and kind = 'letter'").get(id),
    ).toEqual({ attempts: 1 });
    // No further letter goes to a bouncing address: refused at the form, with a reason.
    const again = letterInput();
    const res = await t.post("/api/letters", {
      ...again,
      supporter: {
        ...again.supporter,
        email: "other@example.org",
        address: { line1: "3 Queens Road", town: "Farnborough", postcode: "GU14 7JU" },
      },
    });
    expect(await expectStatus(res, 422)).toMatchObject({ code: "recipient_address_bouncing" });
  });

  it("552 5.2.2 (mailbox full): retried, not sooner than two hours later", async () => {
    let full = 1;
    const t = await withRealSmtp({
      onData: (_n, parsed) =>
        parsed.subject?.includes("babies") && full-- > 0
          ? { code: 552, message: "5.2.2 mailbox full" }
          : null,
    });
    await confirmedLetters(t, 1);
    expect(await drainOutbox(t.deps)).toMatchObject({ retrying: 1 });
    t.clock.advance(MAILBOX_FULL_RETRY_MS - 60_000);
    await drainOutbox(t.deps);
    expect(lettersAt(t.sink)).toHaveLength(0);
    t.clock.advance(LATER);
    await drainOutbox(t.deps);
    expect(lettersAt(t.sink)).toHaveLength(1);
  });

  it.each([
    ["535 at AUTH", "auth"],
    ["553 at MAIL FROM", "sender_refused"],
  ])("%s: the outbox pauses, nothing is consumed, an alert is raised", async (what, reason) => {
    let refuse = true;
    const t = await withRealSmtp(
      {
        auth: { user: "campaign", pass: "right" },
        onMailFrom: () =>
          refuse && reason === "sender_refused" ? { code: 553, message: "5.7.1 sender not allowed" } : null,
      },
      {},
      (sink) => (reason === "auth" ? sink.url.replace(":right@", ":wrong@") : sink.url),
    );
    await confirmedLetters(t, 2);
    expect(await drainOutbox(t.deps), what).toMatchObject({ sent: 0, paused: true, bounced: 0, dead: 0 });
    expect(t.sqlite.prepare("select reason from relay_status").get()).toEqual({ reason });
    expect(
      t.sqlite.prepare("select count(*) n from outbox where attempts > 0 or state <> 'queued'").get(),
    ).toEqual({
      n: 0,
    });
    expect(t.logger.lines.some((l) => l.level === "error" && l.msg.startsWith("outbox paused"))).toBe(true);
    refuse = false;
  });
});
