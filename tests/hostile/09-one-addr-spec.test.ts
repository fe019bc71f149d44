/**
 * HOSTILE 9: an email field holds one addr-spec and nothing else: a header smuggled after a line
 * break, a second address, or a display name are refused on every form and API that takes an
 * address (letters, "send the link again", pledges, privacy requests), and nothing is stored.
 */
import { describe, expect, it } from "vitest";
import { parseEmail } from "../../src/lib/email";
import { letterInput } from "../support/letters";
import { detailsForm, type HostileApp, hostileApp, pledgeForm } from "./support";

const NOT_ONE_ADDRESS = [
  "a@b.com\r\nBcc: x@y.org",
  "a@b.com\nBcc: x@y.org",
  "a@b.com\u0000x@y.org",
  "a@b.com, c@d.com",
  "a@b.com,c@d.com",
  "a@b.com;c@d.com",
  '"MP" <mp@parliament.uk>',
  "<mp@parliament.uk>",
  "MP mp@parliament.uk",
  "a@b@c.com",
  "a@[127.0.0.1]",
  "a@localhost",
];

const EMAIL_ROUTES: Record<string, (t: HostileApp, email: string) => Promise<number>> = {
  "POST /api/letters": async (t, email) => {
    const input = letterInput();
    return (await t.post("/api/letters", { ...input, supporter: { ...input.supporter, email } })).status;
  },
  "POST /api/letters/group": async (t, email) => {
    const input = letterInput();
    return (
      await t.post("/api/letters/group", {
        ...input,
        recipients: [{ kind: "mp" }],
        supporter: { ...input.supporter, email },
      })
    ).status;
  },
  "POST /write/send": async (t, email) => (await t.form("/write/send", detailsForm({ email }))).status,
  "POST /api/letters/resend-confirmation": async (t, email) =>
    (await t.post("/api/letters/resend-confirmation", { email })).status,
  "POST /api/pledges": async (t, email) => (await t.post("/api/pledges", pledgeForm({ email }))).status,
  "POST /pledge": async (t, email) => (await t.form("/pledge", pledgeForm({ email }))).status,
  "POST /embed/pledge": async (t, email) =>
    (await t.form("/embed/pledge", { ...pledgeForm({ email }), partner: "partner" })).status,
  "POST /privacy/request": async (t, email) =>
    (await t.form("/privacy/request", { email, kind: "export" })).status,
};

describe("09: one address only", () => {
  it("anything but a single addr-spec is refused on every route that takes an email, storing nothing", async () => {
    const t = await hostileApp();
    const before = t.digest();
    for (const [route, call] of Object.entries(EMAIL_ROUTES))
      for (const email of NOT_ONE_ADDRESS)
        expect(await call(t, email), `${route} ${JSON.stringify(email)}`).toBe(400);
    expect(t.digest()).toEqual(before);
    // The "send the link again" form answers the same whatever is typed, and queues nothing.
    const resend = await t.form("/write/resend", { email: "a@b.com\r\nBcc: x@y.org" });
    expect(resend.status).toBe(200);
    expect(t.digest()).toEqual(before);
  });

  it("the parser says why, and a plain address passes", () => {
    for (const email of NOT_ONE_ADDRESS) expect(parseEmail(email), email).toHaveProperty("error");
    expect(parseEmail(" jane@example.org ")).toEqual({
      address: "jane@example.org",
      ascii: "jane@example.org",
      canonical: "jane@example.org",
    });
  });
});
