/**
 * HOSTILE 8: a name carrying a line break (CRLF, LF, CR, NUL, U+2028, NEL) and a header after it
 * is refused on every form and API that takes a name (letters API and form, pledges API, the
 * site's and the embed's pledge forms, partners in the admin), with nothing stored; and the raw
 * MIME of every mail we do send has exactly one From and no Bcc.
 * Finding: pledge names accepted line breaks, then printed in mail sent to any address typed.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import {
  detailsForm,
  emailFor,
  type HostileApp,
  hostileApp,
  pledgeForm,
  signedIn,
  withRealSmtp,
} from "./support";

const BREAKS = ["\r\n", "\n", "\r", "\u0000", "\u2028", "\u0085"];
const NAMES = BREAKS.map((b) => `Alice${b}Bcc: victim@example.com`);

/** Every way a name gets in, and whether it was refused (status) for this name. */
const NAME_ROUTES: Record<string, (t: HostileApp, name: string, n: number) => Promise<number>> = {
  "POST /api/letters": async (t, name, n) => {
    const input = letterInput();
    return (
      await t.post("/api/letters", {
        ...input,
        supporter: { ...input.supporter, name, email: emailFor(`a${n}`) },
      })
    ).status;
  },
  "POST /api/letters/group": async (t, name, n) => {
    const input = letterInput();
    return (
      await t.post("/api/letters/group", {
        ...input,
        recipients: [{ kind: "mp" }],
        supporter: { ...input.supporter, name, email: emailFor(`g${n}`) },
      })
    ).status;
  },
  "POST /api/letters/preview": async (t, name) => {
    const input = letterInput();
    return (await t.post("/api/letters/preview", { ...input, supporter: { ...input.supporter, name } }))
      .status;
  },
  "POST /write/send": async (t, name, n) =>
    (await t.form("/write/send", detailsForm({ name, email: emailFor(`f${n}`) }))).status,
  "POST /api/pledges": async (t, name, n) =>
    (await t.post("/api/pledges", pledgeForm({ name, email: emailFor(`p${n}`) }))).status,
  "POST /pledge": async (t, name, n) =>
    (await t.form("/pledge", pledgeForm({ name, email: emailFor(`q${n}`) }))).status,
  "POST /embed/pledge": async (t, name, n) =>
    (await t.form("/embed/pledge", { ...pledgeForm({ name, email: emailFor(`e${n}`) }), partner: "partner" }))
      .status,
};

describe("08: line breaks in names", () => {
  it("are refused on every form and API that takes a name, storing nothing", async () => {
    const t = await hostileApp();
    const before = t.digest();
    for (const [route, call] of Object.entries(NAME_ROUTES))
      for (const [n, name] of NAMES.entries())
        expect(await call(t, name, n), `${route} ${JSON.stringify(name)}`).toBe(400);
    expect(t.digest()).toEqual(before);
  });

  it("are refused as a partner's name in the admin", async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    for (const name of NAMES) {
      const res = await lead.post("/admin/partners", {
        key: "evil",
        name,
        allowedOrigins: "https://evil.example",
      });
      expect(res.status, JSON.stringify(name)).toBe(400);
    }
    expect(t.sqlite.prepare("select count(*) n from partners where key = 'evil'").get()).toEqual({ n: 0 });
  });

  it("the mail we do send (letter, confirmations, pledge) has one From and no Bcc in its raw MIME", async () => {
    const t = await withRealSmtp();
    const input = letterInput();
    const { id } = await t.submit({
      ...input,
      supporter: { ...input.supporter, name: "Alice Bcc: victim" },
    });
    await t.confirm(await t.confirmToken(id));
    await expectStatus(await t.post("/api/pledges", pledgeForm({ name: "Bob Bcc: victim" })), 202);
    await drainOutbox(t.deps);
    expect(t.sink.raw.length).toBeGreaterThanOrEqual(3);
    for (const source of t.sink.raw) {
      const headers = source.slice(0, source.search(/\r?\n\r?\n/));
      expect(headers.match(/^From:/gim), headers).toHaveLength(1);
      expect(headers).not.toMatch(/^Bcc:/im);
      expect(headers).not.toMatch(/^Cc:/im);
    }
    // Each message went to one recipient, never the address typed after "Bcc:".
    expect(t.sink.recipients.every((r) => r.length === 1)).toBe(true);
    expect(t.sink.recipients.flat()).not.toContain("victim@example.com");
  });
});
