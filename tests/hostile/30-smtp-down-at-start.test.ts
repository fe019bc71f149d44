/**
 * HOSTILE 30: the relay is down when sending starts (nothing listens on its port): supporters are
 * still told to check their email, every letter waits with nothing used up, probes back off
 * (jittered), an alert is raised (dashboard and log) once sending is paused, and everything goes,
 * once each, when the relay comes up.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { startSmtp } from "../support/smtp";
import { confirmedLetters, detailsForm, lettersAt, signedIn, withRealSmtp } from "./support";

describe("30: SMTP down at start", () => {
  it("letters wait, untouched; an alert; probes back off; all sent once when the relay is up", async () => {
    let port = 0;
    const t = await withRealSmtp({}, { ADMIN_SESSION_HOURS: "336" }, (sink) => {
      port = sink.port;
      return sink.url;
    });
    await t.sink.close();
    const lead = await signedIn(t);
    // The supporter's side does not depend on the relay.
    const page = await t.form("/write/send", detailsForm({ email: "form@example.org" }));
    expect(await page.text()).toContain("Check your email");
    await confirmedLetters(t, 3);
    expect(await drainOutbox(t.deps)).toMatchObject({ sent: 0, paused: true });
    expect(t.sqlite.prepare("select count(*) n from outbox where attempts > 0").get()).toEqual({ n: 0 });
    expect(t.sqlite.prepare("select count(*) n from delivery_log").get()).toEqual({ n: 0 });
    expect(t.logger.lines.some((l) => l.level === "error" && l.msg.startsWith("outbox paused"))).toBe(true);
    expect(await (await lead.get("/admin")).text()).toContain("Sending is paused");
    // Probes back off: 30 s then 60 s (each jittered down by up to a fifth), nothing used up.
    const next = () =>
      (t.sqlite.prepare("select next_probe_at n from relay_status").get() as { n: number }).n;
    const first = next() - t.clock.now();
    expect(first).toBeGreaterThanOrEqual(24_000);
    expect(first).toBeLessThanOrEqual(30_000);
    t.clock.advance(30_000);
    await drainOutbox(t.deps);
    expect(next() - t.clock.now()).toBeGreaterThan(first);
    expect(t.sqlite.prepare("select count(*) n from outbox where attempts > 0").get()).toEqual({ n: 0 });

    const relay = await startSmtp({ port });
    try {
      t.clock.advance(60_000);
      await drainOutbox(t.deps);
      expect(lettersAt(relay)).toHaveLength(3);
      expect(
        t.sqlite
          .prepare(
            "select distinct state from outbox where kind = 'letter' and state <> 'awaiting_confirmation'",
          )
          .all(),
      ).toEqual([{ state: "sent" }]);
      expect(t.sqlite.prepare("select state from relay_status").get()).toEqual({ state: "ok" });
    } finally {
      t.mailer.close?.();
      await relay.close();
    }
  });
});
