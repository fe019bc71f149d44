/**
 * The campaign leads' pages in Chromium: axe on every admin page (with something on each to
 * show), the hex map as drawn (every seat visible in its own place, more is darker, a legend),
 * distinct "Send it" / "Don't send" buttons, and Partners in the menu. Screenshots in
 * test-results/screenshots/admin-*.png.
 */
import { inflateSync } from "node:zlib";
import { and, eq } from "drizzle-orm";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outbox } from "../../src/db/schema.letters";
import { createUser } from "../../src/modules/admin/admin.auth";
import { confirmLetter, submitLetter } from "../../src/modules/letters/letters.service";
import { savePartner } from "../../src/modules/widget/widget.service";
import { expectAccessible, launchBrowser, shot, startAppServer, type TestServer } from "../support/browser";

let browser: Browser;
let app: TestServer;
const LEAD = { email: "lead@example.org", password: "correct horse battery staple" };
const LEEDS = "E14001319";
const GORTON = "E14001251";

let n = 0;
const STORIES = [
  "Our son was born early and the neonatal team were wonderful, but once we were home the support stopped.",
  "I am a childminder and I see toddlers arriving who have never had their two-year review.",
  "After my twins arrived I struggled with my mental health and waited months for a referral.",
  "Our family hub closed last spring; the nearest one is now two buses away with a pram.",
  "As a grandmother I worry that my daughter's generation has far less help than I had.",
];
/** A confirmed letter from a new supporter (the same story twice makes the second one held). */
async function letter(
  postcode: string,
  story = `My own story number ${++n}, about our family and our health visitor.`,
) {
  const i = ++n;
  const { letter } = await submitLetter(app.deps, {
    recipient: { kind: "mp" },
    asks: ["prevention"],
    story: story ?? STORIES[i % STORIES.length],
    supporter: {
      name: `Writer ${i}`,
      email: `writer${i}@example.org`,
      address: { line1: `${i} Park Road`, town: "Town", postcode },
    },
  });
  const [mail] = await app.deps.db
    .select({ body: outbox.bodyText })
    .from(outbox)
    .where(and(eq(outbox.letterId, letter.id), eq(outbox.kind, "confirm")));
  const token = /token=([A-Za-z0-9_.-]+)/.exec(mail?.body ?? "")?.[1] ?? "";
  return confirmLetter(app.deps, { token });
}

beforeAll(async () => {
  [browser, app] = await Promise.all([launchBrowser(), startAppServer({ ADMIN_ARGON2_MEMORY_KIB: "1024" })]);
  await createUser(app.deps, LEAD);
  await savePartner(app.deps, {
    key: "acme",
    name: "Acme",
    allowedOrigins: ["https://acme.example"],
    active: true,
  });
  for (let i = 0; i < 3; i++) await letter("LS1 1AZ");
  await letter("M12 4AA");
  // Two supporters sending the same words: the second waits for a moderator.
  const same = [
    "We waited eleven weeks for a health visitor after our daughter was born, and nobody checked on us at all in that time.",
    "My partner went back to work after a fortnight and I was alone with a crying baby, frightened and exhausted every single night.",
  ].join("\n");
  await letter("LS1 1PJ", same);
  const held = await letter("LS1 1PJ", same);
  expect(held.status).toBe("held");
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await app?.close();
});

async function signIn(page: Page) {
  await page.goto(`${app.url}/admin/sign-in`);
  await page.getByLabel("Email address").fill(LEAD.email);
  await page.getByLabel("Password").fill(LEAD.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect.poll(() => page.locator("h1").textContent()).toBe("Campaign dashboard");
}

/** The colour Chromium drew at one point of the page, from a 1x1 screenshot (PNG, no filter). */
async function pixelAt(page: Page, x: number, y: number): Promise<string> {
  const png = await page.screenshot({ clip: { x, y, width: 1, height: 1 } });
  const chunks: Buffer[] = [];
  let colourType = 2;
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.toString("ascii", at + 4, at + 8);
    if (type === "IHDR") colourType = png[at + 8 + 9] as number;
    if (type === "IDAT") chunks.push(png.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  // One pixel on one row: whatever the row's filter, with nothing before it the bytes are the pixel.
  const raw = inflateSync(Buffer.concat(chunks));
  const [r, g, b] = [raw[1], raw[2], raw[3]] as number[];
  expect([2, 6]).toContain(colourType);
  return `#${[r, g, b].map((v) => (v as number).toString(16).padStart(2, "0")).join("")}`;
}

// Browser steps on a busy 2-core machine: generous, and every wait is on an event, never a sleep.
describe("admin pages in Chromium", { timeout: 90_000 }, () => {
  it("pass axe on every page, with Partners in the menu and distinct moderation buttons", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${app.url}/admin/sign-in`);
    await expectAccessible(page, "admin sign-in");
    await signIn(page);
    const menu = page.getByRole("navigation", { name: "Dashboard" });
    for (const [name, path] of [
      ["Overview", "/admin"],
      ["Constituencies", "/admin/constituencies"],
      ["Pledges", "/admin/representatives"],
      ["Outbox", "/admin/outbox"],
      ["Moderation", "/admin/moderation"],
      ["Replies", "/admin/replies"],
      ["Partners", "/admin/partners"],
    ] as const) {
      await menu.getByRole("link", { name, exact: false }).first().click();
      await expect.poll(() => new URL(page.url()).pathname).toBe(path);
      await expectAccessible(page, path);
      await shot(page, `admin${path.replace(/\//g, "-")}`);
    }
    // Moderation: the letter's text scrolls inside a box a keyboard user can reach, and the two
    // decisions look different (the main action filled, the other outlined in the warning colour).
    await page.goto(`${app.url}/admin/moderation`);
    const send = page.getByRole("button", { name: "Send it" }).first();
    const dont = page.getByRole("button", { name: "Don't send" }).first();
    const style = (l: typeof send) =>
      l.evaluate((el) => {
        const s = getComputedStyle(el);
        return { bg: s.backgroundColor, colour: s.color, border: s.borderColor };
      });
    const [a, b] = [await style(send), await style(dont)];
    expect(a.bg).not.toBe(b.bg);
    expect(a.colour).not.toBe(b.colour);
    await page.close();
  });

  it("draws every seat in its own place on the hex map, darker for more, with a legend", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 2400 } });
    await signIn(page);
    await page.goto(`${app.url}/admin?map=letters`);
    const map = page.locator("figure.hexmap svg");
    await map.scrollIntoViewIfNeeded();
    await page.evaluate(() => document.querySelector("figure.hexmap")?.scrollIntoView({ block: "start" }));
    await expectAccessible(page, "dashboard with map");
    // Every polygon is the element on top at its own centre: no seat hides another.
    const hidden = await page.evaluate(() => {
      const out: string[] = [];
      const polys = [...document.querySelectorAll("figure.hexmap polygon")];
      for (const p of polys) {
        const r = p.getBoundingClientRect();
        const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        if (top !== p) out.push(p.getAttribute("data-code") ?? "?");
      }
      return { count: polys.length, hidden: out };
    });
    expect(hidden).toEqual({ count: 650, hidden: [] });
    const centre = async (code: string) => {
      const box = await page.locator(`polygon[data-code="${code}"]`).boundingBox();
      if (!box) throw new Error(`no hexagon for ${code}`);
      return [Math.round(box.x + box.width / 2), Math.round(box.y + box.height / 2)] as const;
    };
    const legend = await page
      .locator("figure.hexmap .legend rect")
      .evaluateAll((rs) => rs.map((r) => r.getAttribute("fill")));
    // Leeds Central (4 letters: the most) is drawn in the darkest step, Gorton (1) lighter, an
    // empty seat in the legend's "0" grey.
    expect(await pixelAt(page, ...(await centre(LEEDS)))).toBe(legend.at(-1));
    const gorton = await pixelAt(page, ...(await centre(GORTON)));
    expect(gorton).not.toBe(legend.at(-1));
    expect(legend.slice(1)).toContain(gorton);
    expect(await pixelAt(page, ...(await centre("E14001063")))).toBe(legend[0]);
    await expect.poll(() => page.locator("figure.hexmap .legend").textContent()).toMatch(/Fewer.*0.*More/);
    await map.screenshot({ path: "test-results/screenshots/admin-hexmap.png" });
    await page.close();
  });
});
