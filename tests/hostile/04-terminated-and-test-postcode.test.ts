/**
 * HOSTILE 4: a postcode Royal Mail no longer uses is "no longer in use", naming the seat it was in
 * when we know it; ZZ9 9ZZ is the test MP, whose mail never leaves (it comes back to the writer).
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { hostileApp } from "./support";

describe("04: terminated postcodes and the test postcode", () => {
  it("a closed postcode is 410 'no longer in use', with the seat it was in when known", async () => {
    const t = await hostileApp();
    t.sqlite
      .prepare(
        "insert into postcodes (postcode, constituency_code, terminated) values ('GU14 9ZZ', 'E14001063', 1)",
      )
      .run();
    const known = await expectStatus(await t.request("/api/lookup?postcode=gu149zz"), 410);
    expect(known).toMatchObject({ code: "postcode_terminated", constituency: { name: "Aldershot" } });
    expect((known as { detail: string }).detail).toMatch(/no longer in use.*It was in Aldershot/);
    // The page asks "is that still where you live?" and carries on with the seat if so.
    const page = (await (await t.page("/find?postcode=GU14+9ZZ")).text()) as string;
    expect(page).toContain("no longer in use");
    expect(page).toContain("seat=E14001063");
    expect(
      await expectStatus(await t.request("/api/lookup?postcode=GU149ZZ&seat=E14001063"), 200),
    ).toMatchObject({
      terminated: true,
      constituency: { name: "Aldershot" },
    });
    // Closed, seat unknown to us: still "no longer in use", without a seat.
    const unknown = await expectStatus(await t.request("/api/lookup?postcode=AB1+0AA"), 410);
    expect(unknown).toMatchObject({ code: "postcode_terminated" });
    expect(unknown).not.toHaveProperty("constituency");
  });

  it("ZZ9 9ZZ is the test MP, and a letter to them comes back to the writer, even in live mode", async () => {
    const t = await hostileApp({
      MAIL_MODE: "live",
      SMTP_URL: "smtp://127.0.0.1:1",
      MAIL_FROM: "campaign@example.org",
    });
    const { countingMailer } = await import("../support/mail");
    const mail = countingMailer();
    t.deps.mailer = mail;
    expect(await expectStatus(await t.request("/api/lookup?postcode=zz99zz"), 200)).toMatchObject({
      mp: { name: "Test MP (letters come back to you)" },
    });
    const { id } = await t.submit(letterInput());
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);
    expect(mail.sent.length).toBeGreaterThan(0);
    expect(mail.sent.every((m) => m.to.address === "jane@example.org")).toBe(true);
    expect(mail.to("test-mp@speakup.invalid")).toEqual([]);
  });
});
