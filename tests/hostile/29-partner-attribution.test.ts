/**
 * HOSTILE 29: partner attribution only from a valid key, on one of that partner's own pages.
 * Finding: attribution could be faked: any `partner` in an API body, any ?partner= on the site's
 * pledge page and any partner field posted to /embed was credited.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { supporterPledges } from "../../src/db/schema";
import { letters } from "../../src/db/schema.letters";
import { signToken } from "../../src/lib/tokens";
import { ATTRIBUTION_PURPOSE } from "../../src/modules/widget/widget.attribution";
import { savePartner } from "../../src/modules/widget/widget.service";
import { expectStatus } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";
import { form, json } from "../support/pledges";

const ACME = "https://acme.example";

async function app() {
  const t = await lettersApp();
  await savePartner(t.deps, { key: "acme", name: "Acme Parents", allowedOrigins: [ACME], active: true });
  await savePartner(t.deps, {
    key: "other",
    name: "Other",
    allowedOrigins: ["https://other.example"],
    active: true,
  });
  const pledgeOf = async (email: string) =>
    (await t.deps.db.select().from(supporterPledges).where(eq(supporterPledges.emailNorm, email)))[0];
  const letterOf = async (email: string) =>
    (await t.deps.db.select().from(letters).where(eq(letters.supporterEmail, email)))[0];
  return { ...t, pledgeOf, letterOf };
}

const PLEDGE = (email: string, partner?: string) => ({
  name: "Ada",
  email,
  postcode: "ZZ9 9ZZ",
  pledgeConsent: "pledge-2026-11",
  ...(partner ? { partner } : {}),
});
const attrIn = (html: string) => /name="attr" value="([^"]+)"/.exec(html)?.[1];

describe("29: JSON API", () => {
  it("credits a partner only for a call from one of its origins; unknown keys and look-alikes get nothing", async () => {
    const t = await app();
    const cases: [string, string | undefined, string | null][] = [
      ["a@example.org", undefined, null], // no Origin: a script, not the partner's page
      ["b@example.org", "https://acme.example.evil.org", null],
      ["c@example.org", "http://acme.example", null], // wrong scheme
      ["d@example.org", "https://other.example", null], // another partner's page
      ["e@example.org", ACME, "acme"],
    ];
    for (const [email, origin, credited] of cases) {
      await expectStatus(
        await t.request("/api/pledges", json(PLEDGE(email, "acme"), origin ? { origin } : {})),
        202,
      );
      expect((await t.pledgeOf(email))?.partnerKey, email).toBe(credited);
    }
    await expectStatus(
      await t.request("/api/pledges", json(PLEDGE("f@example.org", "nope"), { origin: ACME })),
      202,
    );
    expect((await t.pledgeOf("f@example.org"))?.partnerKey).toBeNull();

    const letter = (email: string, origin?: string) =>
      t.post(
        "/api/letters",
        letterInput({ partner: "acme", supporter: { ...letterInput().supporter, email } }),
        origin ? { origin } : {},
      );
    await expectStatus(await letter("g@example.org"), 201);
    expect((await t.letterOf("g@example.org"))?.partnerKey).toBeNull();
    await expectStatus(await letter("h@example.org", ACME), 201);
    expect((await t.letterOf("h@example.org"))?.partnerKey).toBe("acme");
  });
});

describe("29: the embed", () => {
  const embedPledge = (t: Awaited<ReturnType<typeof app>>, fields: Record<string, string>) =>
    t.request("/embed/pledge", form({ ...PLEDGE(fields.email ?? ""), ...fields }, { accept: "text/html" }));

  it("credits the flow only when its first page was requested from the partner's own page", async () => {
    const t = await app();
    // From the partner's page: the form carries a signed attribution.
    const fromPartner = await t.request("/embed/pledge?partner=acme", {
      headers: { accept: "text/html", referer: `${ACME}/campaign/page` },
    });
    const attr = attrIn(await fromPartner.text());
    expect(attr).toBeTruthy();
    await expectStatus(
      await embedPledge(t, { email: "p1@example.org", partner: "acme", attr: attr as string }),
      200,
    );
    expect((await t.pledgeOf("p1@example.org"))?.partnerKey).toBe("acme");

    // From anywhere else (or nowhere): the page works but nothing is credited.
    for (const referer of ["https://evil.example/", "https://acme.example.evil.org/", undefined]) {
      const page = await t.request("/embed/pledge?partner=acme", {
        headers: { accept: "text/html", ...(referer ? { referer } : {}) },
      });
      expect(attrIn(await page.text()), referer).toBeUndefined();
    }
    await expectStatus(await embedPledge(t, { email: "p2@example.org", partner: "acme" }), 200);
    expect((await t.pledgeOf("p2@example.org"))?.partnerKey).toBeNull();
  });

  it("ignores an attribution token that was altered, expired, or minted for another partner", async () => {
    const t = await app();
    const page = await t.request("/embed/pledge?partner=acme", {
      headers: { accept: "text/html", referer: ACME },
    });
    const attr = attrIn(await page.text()) as string;
    const altered = `${attr.slice(0, -3)}${attr.endsWith("A") ? "B" : "A"}${attr.slice(-2)}`;
    await expectStatus(
      await embedPledge(t, { email: "q1@example.org", partner: "acme", attr: altered }),
      200,
    );
    expect((await t.pledgeOf("q1@example.org"))?.partnerKey).toBeNull();

    const forOther = await signToken(t.deps.config, {
      purpose: ATTRIBUTION_PURPOSE,
      subject: "other",
      expiresAt: t.clock.now() + 60_000,
    });
    await expectStatus(
      await embedPledge(t, { email: "q2@example.org", partner: "acme", attr: forOther }),
      200,
    );
    expect((await t.pledgeOf("q2@example.org"))?.partnerKey).toBeNull();

    t.clock.advance(13 * 3_600_000);
    await expectStatus(await embedPledge(t, { email: "q3@example.org", partner: "acme", attr }), 200);
    expect((await t.pledgeOf("q3@example.org"))?.partnerKey).toBeNull();
  });
});

describe("29: the site's pledge page", () => {
  it("ignores a posted partner field, and credits ?partner= only when followed from the partner's site", async () => {
    const t = await app();
    const post = (fields: Record<string, string>) =>
      t.request("/pledge", form(fields, { accept: "text/html", origin: "http://localhost" }));
    await expectStatus(await post({ ...PLEDGE("s1@example.org"), partner: "acme" }), 202);
    expect((await t.pledgeOf("s1@example.org"))?.partnerKey).toBeNull();

    const forged = await t.request("/pledge?partner=acme", { headers: { accept: "text/html" } });
    expect(attrIn(await forged.text())).toBeUndefined();

    const followed = await t.request("/pledge?partner=acme", {
      headers: { accept: "text/html", referer: `${ACME}/` },
    });
    const attr = attrIn(await followed.text()) as string;
    await expectStatus(await post({ ...PLEDGE("s2@example.org"), attr }), 202);
    expect((await t.pledgeOf("s2@example.org"))?.partnerKey).toBe("acme");
  });
});
