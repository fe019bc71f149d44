/**
 * Partner isolation: every partner route (enumerated from the app's own routing table), tried
 * with one partner's session and the other partner's key and ids in every place a request can
 * carry them (path, query, form), never reads or changes the other partner's data, and nothing
 * reaches a partner about a supporter who did not opt in to it.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { saveWebhook } from "../../src/modules/partners/partners.webhooks";
import { expectStatus } from "../support/deps";
import { ACME, BRAVO, partnersApp } from "../support/partners";

describe("partner isolation", () => {
  it("every partner route, with another partner's key and ids anywhere in the request, shows and changes only the session's own partner", async () => {
    const t = await partnersApp({ WEBHOOK_ALLOW_PRIVATE: "on", OUTBOX_MAX_ATTEMPTS: "1" });
    const acme = await t.contact(ACME.key);
    const bravo = await t.contact(BRAVO.key);
    // Bravo's world: settings, a webhook (its endpoint is down: a dead delivery), an opted-in
    // supporter, one who didn't opt in, and letters.
    await expectStatus(
      await bravo.post("/partner/widget", {
        allowedOrigins: BRAVO.origin,
        accent: "#1f4e79",
        lang: "cy",
        embedEnabled: "yes",
      }),
      200,
    );
    await saveWebhook(t.deps, {
      partnerKey: BRAVO.key,
      url: "http://127.0.0.1:9/bravo-hook",
      events: ["pledge.confirmed", "letter.confirmed"],
      enabled: true,
    });
    await t.pledgeVia(BRAVO, { name: "Eve Bravo", email: "eve@example.org" }, { consent: true });
    await t.pledgeVia(BRAVO, { name: "Quiet Person", email: "quiet@example.org" });
    await t.letterVia(BRAVO, { name: "Quiet Writer", email: "writer@example.org" });
    await drainOutbox(t.deps);
    const bravoRow = () =>
      t.sqlite
        .prepare("select id, message_id m, state from outbox where partner_key = 'bravo' order by created_at")
        .all() as {
        id: string;
        m: string;
        state: string;
      }[];
    const bravoDelivery = bravoRow()[0];
    expect(bravoDelivery?.state).toBe("dead");
    const bravoSecretPage = String(
      await expectStatus(await bravo.get("/partner/webhooks", { accept: "text/html" }), 200),
    );
    const bravoSecret = /id="secret" type="text" readonly value="([^"]+)"/.exec(bravoSecretPage)?.[1] ?? "";
    expect(bravoSecret).not.toBe("");
    // Acme's own: one supporter who didn't opt in.
    await t.pledgeVia(ACME, { name: "Silent Acme", email: "silent@example.org" });

    const snapshot = () => ({
      partner: t.sqlite.prepare("select * from partners where key = 'bravo'").get(),
      hook: t.sqlite.prepare("select * from partner_webhooks where partner_key = 'bravo'").get(),
      deliveries: t.sqlite
        .prepare("select id, state, attempts from outbox where partner_key = 'bravo'")
        .all(),
      consents: t.sqlite.prepare("select * from partner_consents where partner_key = 'bravo'").all(),
      contacts: t.sqlite.prepare("select id, email from admin_users where partner_key = 'bravo'").all(),
    });
    const before = snapshot();
    const secrets = [
      BRAVO.name,
      BRAVO.origin,
      "bravo-hook",
      "1f4e79",
      bravoSecret,
      bravoDelivery?.id ?? "",
      bravoDelivery?.m ?? "",
      bravo.email,
      "eve@example.org",
      "Eve Bravo",
      "quiet@example.org",
      "writer@example.org",
      "silent@example.org",
    ];
    const leaks = (body: string) => secrets.filter((s) => body.includes(s));

    const routes = [
      ...new Map(
        t.app.routes
          // Signing out would end the session the rest is tried with: it is tried last, below.
          .filter(
            (r) => r.method !== "ALL" && r.path.startsWith("/partner") && r.path !== "/partner/sign-out",
          )
          .map((r) => [`${r.method} ${r.path}`, r]),
      ).values(),
    ];
    expect(routes.length).toBeGreaterThanOrEqual(12);
    const foreign = { partner: BRAVO.key, partnerKey: BRAVO.key, key: BRAVO.key };
    const tried: string[] = [];
    for (const r of routes) {
      const path = `${r.path.replace(":id", bravoDelivery?.id ?? "")}?${new URLSearchParams(foreign)}`;
      const res =
        r.method === "GET"
          ? await acme.get(path, { accept: "text/html" })
          : await acme.post(path, {
              ...foreign,
              allowedOrigins: ACME.origin,
              lang: "en",
              embedEnabled: "yes",
              url: "http://127.0.0.1:9/acme-hook",
              events: ["pledge.confirmed"],
              enabled: "yes",
            });
      const body = await res.text();
      tried.push(`${r.method} ${r.path} ${res.status}`);
      expect(leaks(body), `${r.method} ${r.path} (${res.status})`).toEqual([]);
      expect(res.status, `${r.method} ${r.path}: ${body.slice(0, 300)}`).toBeLessThan(500);
    }
    // Bravo's dead delivery stayed dead: "retry" with its id was not found for Acme.
    expect(tried, tried.join("\n")).toContain("POST /partner/deliveries/:id/retry 404");
    expect(snapshot()).toEqual(before);
    // The dashboard's partner pages and exports are not a partner's either.
    for (const path of [`/admin/partners/${BRAVO.key}`, "/admin/partners", "/admin/export/pledges.csv"]) {
      const res = await acme.get(path);
      expect(leaks(await res.text()), path).toEqual([]);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    // Signing out ends this session only.
    expect((await acme.post("/partner/sign-out", foreign)).status).toBe(303);
    expect((await bravo.get("/partner")).status).toBe(200);
  });

  it("a partner's CSV and webhooks never carry a supporter who did not tick its box, nor another partner's", async () => {
    const t = await partnersApp();
    const acme = await t.contact(ACME.key);
    await t.pledgeVia(ACME, { name: "Opted", email: "opted@example.org" }, { consent: true });
    await t.letterVia(ACME, { name: "Writer", email: "writer@example.org" });
    await t.pledgeVia(BRAVO, { name: "Bravo's", email: "bravos@example.org" }, { consent: true });
    // Ticking Acme's box on Bravo's page credits Bravo: Acme gets nothing, and Bravo's box wasn't ticked.
    await t.letterVia(BRAVO, { name: "Mixed", email: "mixed@example.org" }, { consent: false });
    const csv = String(await expectStatus(await acme.get("/partner/supporters.csv"), 200));
    expect(csv).toContain("opted@example.org");
    for (const other of ["writer@example.org", "bravos@example.org", "mixed@example.org"])
      expect(csv).not.toContain(other);
    // Nor does any event queued for Acme carry anyone but the one who opted in.
    const bodies = (
      t.sqlite.prepare("select body_text b from outbox where partner_key = 'acme'").all() as { b: string }[]
    )
      .map((r) => r.b)
      .join("\n");
    for (const other of ["writer@example.org", "bravos@example.org", "mixed@example.org", "Writer"])
      expect(bodies).not.toContain(other);
  });
});
