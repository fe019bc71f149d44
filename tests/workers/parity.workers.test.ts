/**
 * The Node build's flows in the Workers runtime: a campaign lead signs in with a password hash
 * made on Node (and the Worker's own re-hash verifies on Node), then the dashboard, the streamed
 * CSV export, partner admin, the widget loader and embed framing, privacy export and erasure,
 * and the MP pledge link on the test seat. workerd over local D1, mail captured in D1 and sent
 * by the delivery queue's consumer.
 */
import { hash as nativeHash, verify as nativeVerify } from "@node-rs/argon2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, cookieFrom, csrfIn } from "../support/admin";
import { expectStatus } from "../support/deps";
import { BASE_URL, startWorker, type TestWorker, until } from "./support";

let w: TestWorker;
const SECRET = "workers-test-token-secret-0123456789";
const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  method: "POST",
  // See the 303 itself (fetch would follow it).
  redirect: "manual" as const,
  headers: { "content-type": "application/x-www-form-urlencoded", origin: BASE_URL, ...headers },
  body: new URLSearchParams(fields).toString(),
});
const html = { headers: { accept: "text/html" } };

beforeAll(async () => {
  w = await startWorker({ bindings: { TOKEN_SECRET: SECRET } });
  // The campaign lead, created with the Node build's hasher at the configured (OWASP) parameters.
  await addLead(
    ADMIN.email,
    await nativeHash(ADMIN.password, { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }),
  );
});

const addLead = (email: string, hash: string) =>
  w.db
    .prepare("insert into admin_users (id, email, password_hash, created_at) values (?, ?, ?, ?)")
    .bind(crypto.randomUUID(), email, hash, Date.now())
    .run();
afterAll(() => w?.dispose());

/** Mail captured in D1 to `address` (the queue's consumer writes it), newest last. */
async function mailTo(address: string, n = 1) {
  return until(
    async () => {
      const rows = (
        await w.db
          .prepare("select subject, text from captured_mail where to_address = ? order by id")
          .bind(address)
          .all()
      ).results as { subject: string; text: string }[];
      return rows.length >= n ? rows : undefined;
    },
    { what: `mail to ${address}` },
  );
}

async function signIn(password = ADMIN.password, email = ADMIN.email) {
  const page = await w.fetch("/admin/sign-in");
  const signin = cookieFrom(page, "speakup_signin") ?? "";
  const csrf = csrfIn(await page.text());
  return w.fetch(
    "/admin/sign-in",
    form({ _csrf: csrf, email, password }, { cookie: `speakup_signin=${signin}` }),
  );
}

/** A signed-in lead's GET and form POST (with the session's CSRF token). */
async function lead() {
  const res = await signIn();
  expect(res.status, await res.clone().text()).toBe(303);
  const cookie = `speakup_admin=${cookieFrom(res, "speakup_admin")}`;
  const dash = await w.fetch("/admin", { headers: { cookie } });
  const csrf = csrfIn(await dash.text());
  return {
    get: (path: string) => w.fetch(path, { headers: { cookie } }),
    post: (path: string, fields: Record<string, string> = {}) =>
      w.fetch(path, form({ _csrf: csrf, ...fields }, { cookie })),
  };
}

describe("Workers parity with the Node build", () => {
  it("signs a lead in with an argon2id hash made on Node, and re-hashes it in a form Node verifies", async () => {
    // Made by the Node build's hasher, with cheaper parameters than the Worker is configured for.
    const email = "older.lead@speakup.invalid";
    const nodeHash = await nativeHash(ADMIN.password, {
      algorithm: 2,
      memoryCost: 1024,
      timeCost: 1,
      parallelism: 1,
    });
    await addLead(email, nodeHash);
    const stored = async () =>
      (
        (await w.db
          .prepare("select password_hash h from admin_users where email = ?")
          .bind(email)
          .first()) as { h: string }
      ).h;
    expect((await signIn("not the password", email)).status).toBe(401);
    const res = await signIn(ADMIN.password, email);
    expect(res.status, await res.clone().text()).toBe(303);
    // The sign-in re-hashed it with the configured parameters (OWASP's 19 MiB, 2 passes), in
    // WebAssembly inside workerd; the Node build verifies that hash.
    const h = await stored();
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(h).not.toBe(nodeHash);
    expect(await nativeVerify(h, ADMIN.password)).toBe(true);
    expect(await nativeVerify(h, "not the password")).toBe(false);
    // And the Worker verifies its own hash next time (no second re-hash).
    expect((await signIn(ADMIN.password, email)).status).toBe(303);
    expect(await stored()).toBe(h);
  });

  it("shows the dashboard and streams the CSV export of 2,500 confirmed pledges", async () => {
    const now = Date.now();
    await w.db
      .prepare(
        `with recursive n(i) as (select 1 union all select i + 1 from n where i < 2500)
         insert into supporter_pledges (campaign_id, email_norm, email_hash, name, postcode,
           constituency_code, status, pledge_consent_version, pledge_consent_at, created_at, confirmed_at, public_id)
         select 'manifesto-for-babies', 'p' || i || '@example.org', 'h' || i, '=Name ' || i, 'AB11 6EW',
           'S14000061', 'confirmed', 'pledge-2026-11', ?1, ?1, ?1, 'pub' || i from n`,
      )
      .bind(now)
      .run();
    const l = await lead();
    const dash = await expectStatus(await l.get("/admin"), 200);
    expect(String(dash)).toContain("Dashboard");
    const res = await l.get("/admin/export/pledges.csv");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toContain("pledges.csv");
    // Read as a stream: the export arrives in pages, not as one string built in memory.
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let text = "";
    let chunks = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks++;
      text += dec.decode(value, { stream: true });
    }
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^id,name,email,postcode/);
    expect(lines).toHaveLength(2501);
    expect(chunks).toBeGreaterThan(1);
    // Formula-looking cells are defused, as on Node.
    expect(lines[1]).toContain("'=Name 1");
  });

  it("adds a partner in partner admin; the widget loader and the embed's framing follow it", async () => {
    const l = await lead();
    const page = await l.post("/admin/partners", {
      key: "family-hub",
      name: "Family Hub",
      allowedOrigins: "https://family-hub.example",
      active: "yes",
    });
    expect(String(await expectStatus(page, 200))).toContain('data-partner="family-hub"');
    const loader = await w.fetch("/widget.js");
    expect(loader.status).toBe(200);
    expect(loader.headers.get("content-type")).toContain("text/javascript");
    expect(loader.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(await loader.text()).toContain("e.origin !== origin || e.source !== f.contentWindow");
    const embed = await w.fetch("/embed?partner=family-hub", html);
    expect(embed.status).toBe(200);
    expect(embed.headers.get("content-security-policy")).toContain(
      "frame-ancestors https://family-hub.example;",
    );
    expect(embed.headers.get("x-frame-options")).toBeNull();
    const home = await w.fetch("/", html);
    expect(home.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    // The partner's site may call the API (CORS for its origin only).
    const api = await w.fetch("/api/lookup?postcode=ZZ99ZZ", {
      headers: { origin: "https://family-hub.example" },
    });
    expect(api.headers.get("access-control-allow-origin")).toBe("https://family-hub.example");
  });

  it("exports and then erases a supporter's data from emailed links", async () => {
    const email = "privacy.person@example.org";
    await expectStatus(
      await w.fetch("/api/pledges", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: "Pri Vacy",
          email,
          postcode: "ab116ew",
          pledgeConsent: "pledge-2026-11",
        }),
      }),
      202,
    );
    await expectStatus(await w.fetch("/privacy/request", form({ email, kind: "export" })), 202);
    const exportMail = (await mailTo(email, 2)).find((m) => m.text.includes("/privacy/export?token="));
    const exportToken = decodeURIComponent(
      /\/privacy\/export\?token=(\S+)/.exec(exportMail?.text ?? "")?.[1] ?? "",
    );
    const data = (await expectStatus(
      await w.fetch("/privacy/export", form({ token: exportToken })),
      200,
    )) as {
      email: string;
      pledges: { name: string }[];
    };
    expect(data.email).toBe(email);
    expect(data.pledges.map((p) => p.name)).toEqual(["Pri Vacy"]);

    await expectStatus(await w.fetch("/privacy/request", form({ email, kind: "erase" })), 202);
    const eraseMail = (await mailTo(email, 3)).find((m) => m.text.includes("/privacy/erase?token="));
    const eraseToken = decodeURIComponent(
      /\/privacy\/erase\?token=(\S+)/.exec(eraseMail?.text ?? "")?.[1] ?? "",
    );
    await expectStatus(await w.fetch("/privacy/erase", form({ token: eraseToken })), 200);
    const held = await w.db
      .prepare(
        "select (select count(*) from supporter_pledges where email_norm = ?1) + (select count(*) from captured_mail where to_address = ?1) n",
      )
      .bind(email)
      .first();
    expect(held).toEqual({ n: 0 });
  });

  it("sends the test MP a pledge link, verifies it, and reports the MP as pledged", async () => {
    const lookup = async () => expectStatus(await w.fetch("/api/lookup?postcode=ZZ9+9ZZ"), 200);
    expect(await lookup()).toMatchObject({ mp: { parliamentId: -1 }, pledge: { mp: "not_pledged" } });
    const { e } = (await w.db.prepare("select email e from members where parliament_id = -1").first()) as {
      e: string;
    };
    await expectStatus(await w.fetch("/pledge/mp/Z00000001", form({})), 202);
    const [mail] = await mailTo(e.toLowerCase());
    const token = decodeURIComponent(/\/pledge\/rep\/verify\?token=(\S+)/.exec(mail?.text ?? "")?.[1] ?? "");
    expect(token).not.toBe("");
    await expectStatus(await w.fetch(`/pledge/rep/verify?token=${encodeURIComponent(token)}`), 200);
    expect(String(await expectStatus(await w.fetch("/pledge/rep/verify", form({ token })), 200))).toContain(
      "Thank you",
    );
    expect(await lookup()).toMatchObject({ pledge: { mp: "pledged" } });
  });

  it("takes a letter through the pages: the form, the emailed link's page, its button, the letter sent", async () => {
    const email = "page.writer@example.org";
    const sent = await w.fetch(
      "/write/send",
      form({
        postcode: "ZZ9 9ZZ",
        to: "mp",
        asks: "prevention",
        subject: "Please speak up for babies",
        body: "Dear Test MP,\n\nPlease back the Manifesto for Babies.",
        idem: "workers-page-journey-1",
        recipientName: "Test MP",
        name: "Page Writer",
        email,
        line1: "1 Test Street",
        town: "Testtown",
        agree: "yes",
        pledge: "yes",
      }),
    );
    const sentPage = String(await expectStatus(sent, 200));
    expect(sentPage).toContain("The same link confirms your pledge");
    const [confirmMail] = await mailTo(email);
    const token = /\/letters\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(confirmMail?.text ?? "")?.[1] ?? "";
    const page = await w.fetch(`/letters/confirm?token=${token}`, html);
    expect(String(await expectStatus(page, 200))).toContain('<form method="post" action="/letters/confirm">');
    expect(String(await expectStatus(await w.fetch("/letters/confirm", form({ token })), 200))).toContain(
      "on its way",
    );
    // The test MP reflects: the letter and its "sent" notice come back to the writer.
    const all = await mailTo(email, 3);
    expect(all.map((m) => m.subject).join("\n")).toMatch(/has been sent/);
    expect(
      await w.db.prepare("select status from supporter_pledges where email_norm = ?").bind(email).first(),
    ).toEqual({
      status: "confirmed",
    });
  });

  it("requeues a dead message from the dashboard, and the queue sends it", async () => {
    const email = "requeue.me@example.org";
    await expectStatus(
      await w.fetch("/api/pledges", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          name: "Re Queue",
          email,
          postcode: "ab116ew",
          pledgeConsent: "pledge-2026-11",
        }),
      }),
      202,
    );
    await mailTo(email);
    // As if its sends had all failed (a fixture: the dead state is the state machine's, tested on Node).
    const { id } = (await w.db.prepare("select id from outbox where to_email = ?").bind(email).first()) as {
      id: string;
    };
    await w.db.prepare("update outbox set state = 'dead', attempts = 8 where id = ?").bind(id).run();
    const l = await lead();
    const res = await l.post(`/admin/outbox/${id}/requeue`);
    expect([200, 303]).toContain(res.status);
    await mailTo(email, 2);
    expect(await w.db.prepare("select state, attempts from outbox where id = ?").bind(id).first()).toEqual({
      state: "sent",
      attempts: 9,
    });
  });
});
