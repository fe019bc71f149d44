/**
 * HOSTILE 12: whatever a spreadsheet would run as a formula (= + - @ first, or after spaces or a
 * tab) is neutralised in every CSV export (pledges, constituencies, representatives); a name that
 * is a web address (or carries one, or an email address) is refused, because names are printed in
 * the mail we send to whatever address was typed.
 */
import { parse } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { signToken } from "../../src/lib/tokens";
import { confirmPledge } from "../../src/modules/pledges/pledges.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, hostileApp, pledgeForm, signedIn } from "./support";

const FORMULAS = ["+1+1", "@SUM(A1)", "-2+3", " =1+1", "=1+1", '=HYPERLINK("x")'];
const WEB = [
  "www.evil.example",
  "https://evil.example/x",
  "Visit evil.com",
  "bit.ly/abc",
  "jane@example.org",
  "hxxp://x.ru",
];

/** Every cell of every row: none may start (after spaces) with a formula character. */
const cells = (csv: string) => (parse(csv) as string[][]).slice(1).flat();
// biome-ignore lint/suspicious/noControlCharactersInRegex: what a spreadsheet skips before a formula
const formulaCell = (cell: string) => /^[\s\u0000-\u001f]*[=+\-@]/.test(cell);

describe("12: spreadsheet formulas and web addresses in names", () => {
  it("are neutralised in every CSV export", async () => {
    const t = await hostileApp();
    const lead = await signedIn(t);
    for (const [i, name] of FORMULAS.entries()) {
      await expectStatus(await t.post("/api/pledges", pledgeForm({ name, email: emailFor(i) })), 202);
      const { id } = t.sqlite
        .prepare("select public_id id from supporter_pledges where email = ?")
        .get(emailFor(i)) as {
        id: string;
      };
      // Confirmed directly (the link's token names the public id).
      await confirmPledge(t.deps, {
        token: await signToken(t.deps.config, {
          purpose: "pledge.confirm",
          subject: id,
          expiresAt: t.clock.now() + 1e9,
        }),
      });
    }
    // Upstream data (an MP's name) and a lead's note can carry formulas too.
    t.sqlite
      .prepare("update members set name = '=cmd|''/C calc''!A0' where constituency_code = 'E14001063'")
      .run();
    await lead.post("/admin/representatives/verify", {
      kind: "mp",
      ref: "E14001063",
      note: "@signed at the launch",
    });
    for (const path of ["pledges.csv", "constituencies.csv", "representatives.csv"]) {
      const csv = (await expectStatus(await lead.get(`/admin/export/${path}`), 200)) as string;
      const bad = cells(csv).filter(formulaCell);
      expect(bad, path).toEqual([]);
    }
    const pledges = (await (await lead.get("/admin/export/pledges.csv")).text()) as string;
    for (const name of FORMULAS) expect(pledges).toContain(`'${name.trim()}`.replace(/"/g, '""'));
  });

  it("a name that is or carries a web or email address is refused wherever a name is typed", async () => {
    const t = await hostileApp();
    const before = t.digest();
    for (const name of WEB) {
      expect((await t.post("/api/pledges", pledgeForm({ name }))).status, name).toBe(400);
      const input = letterInput();
      expect(
        (await t.post("/api/letters", { ...input, supporter: { ...input.supporter, name } })).status,
        name,
      ).toBe(400);
      expect((await t.form("/pledge", pledgeForm({ name }))).status, name).toBe(400);
    }
    expect(t.digest()).toEqual(before);
    // Names with dots are still names.
    for (const name of ["J.R.R. Tolkien", "Dr. Amaka Obi-Smith", "St.John Rivers"])
      await expectStatus(
        await t.post("/api/pledges", pledgeForm({ name, email: emailFor(name.length) })),
        202,
      );
  });
});
