/**
 * Partners as users, over app.request: invited contacts, their own pages, the consent box, the
 * supporters' CSV, figures that agree with the dashboard, widget settings and the off-switch.
 */
import { describe, expect, it } from "vitest";
import { expectStatus } from "../support/deps";
import { ACME, BRAVO, partnersApp } from "../support/partners";

describe("partner contacts", () => {
  it("a lead invites a contact, who chooses a password from the emailed link and signs in to their own pages", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    const page = String(await expectStatus(await acme.get("/partner", { accept: "text/html" }), 200));
    expect(page).toContain(ACME.name);
    expect(page).not.toContain(BRAVO.name);
  });
});
