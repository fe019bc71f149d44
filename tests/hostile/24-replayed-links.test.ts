/**
 * HOSTILE 24: a confirmation link replayed after the letter was sent says "already sent" and
 * queues nothing; after expiry it says "expired"; with one character changed, or minted for
 * another purpose, it is a 404 (as if it never existed), and those two take the same time.
 */
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/lib/tokens";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, hostileApp, slowerShare } from "./support";

const DAY = 86_400_000;
/** The token with the character at `i` replaced by another valid one. */
const alter = (token: string, i: number) => {
  const c = token[i] === "A" ? "B" : "A";
  return token.slice(0, i) + c + token.slice(i + 1);
};

describe("24: replayed, expired and altered links", () => {
  it("after sending, a replay says 'already sent' on the page and the API, and queues nothing", async () => {
    const t = await hostileApp();
    const { id } = await t.submit(letterInput());
    const token = await t.confirmToken(id);
    await expectStatus(await t.confirm(token), 200);
    await drainOutbox(t.deps);
    expect(t.sqlite.prepare("select status from letters").get()).toEqual({ status: "sent" });
    const before = t.digest();
    expect(await expectStatus(await t.confirm(token), 200)).toMatchObject({
      status: "sent",
      alreadyConfirmed: true,
    });
    expect(await (await t.page(`/letters/confirm?token=${token}`)).text()).toContain("already been sent");
    expect(await (await t.form("/letters/confirm", { token })).text()).toContain("already been sent");
    await drainOutbox(t.deps);
    expect(t.digest()).toEqual(before);
  });

  it("after expiry: 410 expired, on the API and the page, and the letter is never sent", async () => {
    const t = await hostileApp();
    const { id } = await t.submit(letterInput());
    const token = await t.confirmToken(id);
    t.clock.advance(8 * DAY);
    await drainOutbox(t.deps);
    expect(await expectStatus(await t.confirm(token), 410)).toMatchObject({ code: "token_expired" });
    const page = await t.page(`/letters/confirm?token=${token}`);
    expect(page.status).toBe(410);
    expect(await page.text()).toMatch(/expired/i);
    expect(t.sqlite.prepare("select status from letters").get()).toEqual({ status: "expired" });
  });

  it("one character changed anywhere, or a token for another purpose: 404, changing nothing", async () => {
    const t = await hostileApp();
    const { id } = await t.submit(
      letterInput({ supporter: { ...letterInput().supporter, email: emailFor(24) } }),
    );
    const token = await t.confirmToken(id);
    const before = t.digest();
    const [kid = "", payload = ""] = token.split(".");
    for (const i of [0, kid.length + 1, kid.length + 5, kid.length + payload.length + 3, token.length - 1])
      expect(await expectStatus(await t.confirm(alter(token, i)), 404)).toMatchObject({
        code: "token_invalid",
      });
    const now = t.clock.now();
    for (const purpose of ["pledge.confirm", "letter.followup", "privacy.erase", "rep_pledge.verify"]) {
      const other = await signToken(t.deps.config, { purpose, subject: id, expiresAt: now + DAY });
      expect(await expectStatus(await t.confirm(other), 404), purpose).toMatchObject({
        code: "token_invalid",
      });
      expect((await t.page(`/letters/confirm?token=${other}`)).status).toBe(404);
    }
    expect(t.digest()).toEqual(before);
  });

  it("an altered link and one for another purpose take the same time to refuse", async () => {
    const t = await hostileApp();
    const { id } = await t.submit(letterInput());
    const token = await t.confirmToken(id);
    const other = await signToken(t.deps.config, {
      purpose: "pledge.confirm",
      subject: id,
      expiresAt: t.clock.now() + DAY,
    });
    const share = await slowerShare(
      () => t.confirm(alter(token, token.length - 2)),
      () => t.confirm(other),
    );
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.7);
  });
});
