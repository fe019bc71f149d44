/**
 * HOSTILE 27: a data export holds everything we hold for that mailbox (letters, pledges with their
 * consents, every email queued to or about them with its delivery attempts, the suppression entry,
 * privacy requests) and nothing of anyone else's; asking for it takes the same time whether or not
 * we hold anything; and asking again and again mails the address at most once per window.
 * Finding: the export left out the outbox, delivery log and suppression entry; its timing differed
 * when data was held (228 of 300 pairs); 25 requests sent 25 mails.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { processPrivacyRequests } from "../../src/modules/privacy/privacy.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { type HostileApp, hostileApp, pledgeForm, privacyToken, slowerShare } from "./support";

const DAY = 86_400_000;
const ADA = "Ada.Lovelace@gmail.com";

async function write(t: HostileApp, email: string, story: string) {
  const input = letterInput({ story });
  return t.submit({ ...input, supporter: { ...input.supporter, name: "Ada Lovelace", email } });
}

describe("27: data export", () => {
  it("holds everything for that mailbox, however it is spelled, and nothing of anyone else's", async () => {
    const t = await hostileApp();
    // Ada was erased once (a suppression entry), then came back: a pledge, two letters, mail.
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: ADA })), 202);
    await t.form("/privacy/erase", { token: await privacyToken(t, ADA, "erase") });
    t.clock.advance(DAY);
    await expectStatus(
      await t.post("/api/pledges", {
        ...pledgeForm({ name: "Ada Lovelace", email: "adalovelace+pledge@gmail.com" }),
        updatesConsent: "updates-2026-11",
      }),
      202,
    );
    const sent = await write(t, ADA, "My granddaughter was born in the spring and I worry.");
    await t.confirm(await t.confirmToken(sent.id));
    const waiting = await write(t, "ADA.LOVELACE@googlemail.com", "A second letter, not yet confirmed.");
    // Someone else, in the same seat, on the same days.
    const bob = await write(t, "bob.bobson@example.org", "Bob's own story about his son.");
    await t.confirm(await t.confirmToken(bob.id));
    await expectStatus(
      await t.post("/api/pledges", pledgeForm({ name: "Bob Bobson", email: "bob.bobson@example.org" })),
      202,
    );
    await drainOutbox(t.deps);

    const token = await privacyToken(t, "adalovelace@gmail.com", "export");
    const res = await t.form("/privacy/export", { token });
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const data = (await expectStatus(res, 200)) as Record<string, unknown> & {
      pledges: { email: string; pledgeConsent: unknown; updatesConsent: unknown }[];
      letters: { id: string; body: string }[];
      emails: { kind: string; letter: string | null; attempts: { outcome: string }[] }[];
      suppression: { reason: string } | null;
      privacyRequests: { kind: string }[];
    };
    expect(data.pledges).toEqual([
      expect.objectContaining({
        email: "adalovelace+pledge@gmail.com",
        pledgeConsent: expect.objectContaining({ version: "pledge-2026-11" }),
        updatesConsent: expect.objectContaining({ version: "updates-2026-11" }),
      }),
    ]);
    expect(data.letters.map((l) => l.id).sort()).toEqual([sent.id, waiting.id].sort());
    expect(data.letters.find((l) => l.id === sent.id)?.body).toContain("My granddaughter");
    const kinds = data.emails.map((e) => e.kind).sort();
    // Her letter (to the MP), its confirmations, the "sent" notice, the follow-up to come, the
    // pledge confirmation and the export link itself.
    expect(kinds).toEqual(
      expect.arrayContaining([
        "letter",
        "letter",
        "confirm",
        "confirm",
        "sent_notice",
        "followup",
        "service",
      ]),
    );
    expect(data.emails.find((e) => e.kind === "letter" && e.letter === sent.id)?.attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: "sent" }),
    ]);
    expect(data.suppression).toMatchObject({ reason: "erased" });
    expect(data.privacyRequests.map((r) => r.kind)).toContain("export");
    // Nothing of Bob's: not his address, story, letter, pledge or mail.
    const text = JSON.stringify(data);
    expect(text).not.toMatch(/bob/i);
    expect(text).not.toContain(bob.id);
  });

  it("asking takes the same time whether or not we hold anything, and the answer is the same", async () => {
    const t = await hostileApp({ PRIVACY_LIMIT_PER_EMAIL_DAY: "1000", PRIVACY_LIMIT_PER_IP_HOUR: "100000" });
    await write(t, "held@example.org", "Some words of mine.");
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: "held@example.org" })), 202);
    const ask = (email: string) => t.form("/privacy/request", { email, kind: "export" });
    const [held, nothing] = [await ask("held@example.org"), await ask("nobody@example.org")];
    expect([held.status, nothing.status]).toEqual([202, 202]);
    expect(await held.text()).toBe(await nothing.text());
    const share = await slowerShare(
      () => ask("held@example.org"),
      () => ask("nobody@example.org"),
      200,
    );
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  });

  it("25 requests for one address mail it once; another after the window; then the daily limit", async () => {
    const t = await hostileApp({ PRIVACY_LIMIT_PER_IP_HOUR: "1000", PRIVACY_LIMIT_PER_EMAIL_DAY: "30" });
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: "target@example.org" })), 202);
    await drainOutbox(t.deps);
    const links = () => t.captured().filter((m) => m.subject.includes("download link")).length;
    for (let i = 0; i < 25; i++) {
      expect(
        (
          await t.form("/privacy/request", {
            email: i % 2 ? "TARGET@example.org" : "target@example.org",
            kind: "export",
          })
        ).status,
      ).toBe(202);
      await processPrivacyRequests(t.deps);
      await drainOutbox(t.deps);
    }
    expect(links()).toBe(1);
    t.clock.advance(61 * 60_000);
    await t.form("/privacy/request", { email: "target@example.org", kind: "export" });
    await drainOutbox(t.deps);
    expect(links()).toBe(2);
    // Past the daily allowance for the address: refused, with the form kept and Retry-After.
    for (let i = 0; i < 4; i++)
      await t.form("/privacy/request", { email: "target@example.org", kind: "export" });
    const refused = await t.form("/privacy/request", { email: "target@example.org", kind: "export" });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await refused.text()).toContain('value="target@example.org"');
  });
});
