/**
 * /dev/mail: only with mail captured, and only to this machine or a signed-in lead.
 * Finding: it needed no sign-in whenever MAIL_MODE=capture (the default), listing every captured
 * mail with live confirm, MP-verification, export and erasure links.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { linkParts } from "../../src/modules/letters/letters.pages";
import { adminApp } from "../support/admin";
import { expectStatus, LOOPBACK, PEER } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";

const SECRET = { TOKEN_SECRET: "a-long-and-real-secret-4f9c1" };

async function withMail(env: Record<string, string> = {}) {
  const t = await lettersApp(env);
  const { id } = await t.submit(letterInput({ story: "Please read https://evil.example/phish now." }));
  await t.confirm(await t.confirmToken(id));
  await drainOutbox(t.deps);
  const devMail = (peer: object | undefined, headers: Record<string, string> = {}) =>
    t.app.request("/dev/mail", { headers: { accept: "text/html", ...headers } }, peer);
  return { ...t, devMail };
}

describe("who may read captured mail", () => {
  it("this machine, connecting directly to a loopback listener, with a local PUBLIC_URL", async () => {
    const t = await withMail();
    await expectStatus(await t.devMail(LOOPBACK), 200);
    await expectStatus(await t.devMail(PEER("::1")), 200);
  });

  it.each([
    ["another machine", {}, PEER("203.0.113.9"), {}],
    ["an unknown peer", {}, undefined, {}],
    ["loopback through a proxy on this machine", {}, LOOPBACK, { "x-forwarded-for": "203.0.113.9" }],
    ["loopback through a proxy that sends Forwarded", {}, LOOPBACK, { forwarded: "for=203.0.113.9" }],
    ["a listener on every interface", { HOST: "0.0.0.0", ...SECRET }, LOOPBACK, {}],
    ["a public site address", { PUBLIC_URL: "https://speakup.example.org" }, LOOPBACK, {}],
  ] as const)("not %s without signing in", async (_what, env, peer, headers) => {
    const t = await withMail(env);
    const res = await t.devMail(peer, headers);
    const html = await res.text();
    expect(res.status).toBe(401);
    expect(html).not.toContain("/letters/confirm?token=");
  });

  it("a signed-in campaign lead, from anywhere", async () => {
    const t = await adminApp({ HOST: "0.0.0.0", ...SECRET });
    const res = await t.app.request(
      "/dev/mail",
      { headers: { accept: "text/html", cookie: t.cookie } },
      PEER("203.0.113.9"),
    );
    await expectStatus(res, 200);
  });

  it("never outside capture mode, not even for a lead", async () => {
    const t = await withMail({
      MAIL_MODE: "reflect",
      SMTP_URL: "smtp://127.0.0.1:1",
      MAIL_FROM: "campaign@example.org",
    });
    expect((await t.devMail(LOOPBACK)).status).toBe(404);
  });
});

describe("the captured mail page", () => {
  it("makes this site's links clickable, and nothing a supporter typed", async () => {
    const t = await withMail();
    const html = (await expectStatus(await t.devMail(LOOPBACK), 200)) as string;
    expect(html).toMatch(/<a href="http:\/\/localhost:3000\/letters\/confirm\?token&#x3D;[^"]+">/);
    expect(html).toContain("https://evil.example/phish");
    expect(html).not.toContain('<a href="https://evil.example');
  });

  it("splits text into plain parts and links to PUBLIC_URL only", () => {
    expect(linkParts("go to http://x.test/a and http://me.test/b?t=1.", "http://me.test")).toEqual([
      { text: "go to http://x.test/a and " },
      { text: "http://me.test/b?t=1.", href: "http://me.test/b?t=1." },
    ]);
    expect(linkParts("", "http://me.test")).toEqual([]);
  });
});
