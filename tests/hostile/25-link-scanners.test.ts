/**
 * HOSTILE 25: mail scanners and link previewers follow every link in every email we send (GET,
 * HEAD, and OPTIONS from some): none of them changes anything. Only the button on the page does,
 * and the links still work for the person afterwards.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, hostileApp, pledgeForm } from "./support";

const DAY = 86_400_000;
const SCANNER = { "user-agent": "Mozilla/5.0 (compatible; SafeLinks; link preview)", accept: "*/*" };

describe("25: link scanners", () => {
  it("GET, HEAD and OPTIONS on every link in every email change nothing", async () => {
    const t = await hostileApp({ ADMIN_SESSION_HOURS: "336" });
    // One of each email that carries a link: letter confirmation (and its reminder), pledge
    // confirmation, the MP's pledge link, export and erasure links, and the follow-up.
    const sent = await t.submit(
      letterInput({ supporter: { ...letterInput().supporter, email: emailFor("sent") } }),
    );
    await t.confirm(await t.confirmToken(sent.id));
    await t.submit(letterInput({ supporter: { ...letterInput().supporter, email: emailFor("waiting") } }));
    await expectStatus(await t.post("/api/pledges", pledgeForm({ email: emailFor("pledge") })), 202);
    await expectStatus(
      await t.request("/api/representatives/mp/Z00000001/pledge-link", { method: "POST" }),
      202,
    );
    for (const kind of ["export", "erase"])
      await expectStatus(await t.form("/privacy/request", { email: emailFor("pledge"), kind }), 202);
    await drainOutbox(t.deps);
    t.clock.advance(15 * DAY);
    await drainOutbox(t.deps);

    const links = new Set<string>();
    for (const m of t.captured())
      for (const url of m.text.match(/https?:\/\/localhost:\d+\/[^\s]*/g) ?? []) links.add(url);
    const paths = [...links].map((u) => new URL(u)).map((u) => u.pathname + u.search);
    for (const expected of [
      "/letters/confirm?",
      "/pledge/confirm?",
      "/pledge/rep/verify?",
      "/privacy/export?",
      "/privacy/erase?",
      "/letters/followup?",
    ])
      expect(
        paths.some((p) => p.startsWith(expected)),
        expected,
      ).toBe(true);

    const before = t.digest();
    for (const path of paths)
      for (const method of ["GET", "HEAD", "OPTIONS"]) {
        const res = await t.request(path, { method, headers: SCANNER });
        expect(res.status, `${method} ${path}`).toBeLessThan(500);
      }
    await drainOutbox(t.deps);
    expect(t.digest()).toEqual(before);

    // The person, after the scanner: the follow-up link (the one still valid) still works.
    const followup = paths.find((p) => p.startsWith("/letters/followup?")) as string;
    const token = new URLSearchParams(followup.split("?")[1]).get("token") ?? "";
    await expectStatus(await t.post("/api/letters/followup", { token, answer: "yes" }), 200);
    expect(t.sqlite.prepare("select reply_answer from letters where id = ?").get(sent.id)).toEqual({
      reply_answer: "yes",
    });
  });
});
