/**
 * HOSTILE 18: near-copies of another person's letter are held for moderation: 50 identical
 * letters, the same story with its first line changed, with every fourth word changed. Distinct
 * personal letters are never held for sharing the campaign's own wording, including letters that
 * choose one ask and add no story, or a short story of their own.
 * Finding: one-ask letters with no story, or a short distinct story, were held (the campaign's
 * wording counted as the writer's), while the 0.8 threshold let near-copies at 0.75-0.78 through.
 */
import { describe, expect, it } from "vitest";
import { ownWords, signature, similarity } from "../../src/modules/letters/letters.similarity";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, type HostileApp, hostileApp, signedIn } from "./support";

const COPIED = [
  "As a grandmother of three I have watched the children's centre on Mill Lane close and the queue for a health visitor grow longer every month.",
  "My daughter waited eleven weeks for her first check after her son was born, and by then she was struggling badly and nobody had noticed.",
  "Please visit a toddler group in your constituency and talk to the parents there, because they will tell you the same thing I am telling you.",
].join("\n");

/** Distinct letters by different people on the same subject, as real supporters write them. */
const DISTINCT = [
  "Our twins arrived at 29 weeks. The neonatal team in Leeds kept them alive, but when we came home the support simply stopped.",
  "I am a nursery manager in Wigan. We lose trained staff every term to supermarkets that pay more, and the babies notice every change of face.",
  "When my son was born I had severe postnatal depression. It took five months and a crisis before anyone referred me to the perinatal team.",
  "My wife and I adopted a baby girl last spring. The only parenting course nearby was full for a year, so we learned from videos online.",
  "I work nights as a paramedic. Childcare that opens at six in the morning does not exist in my town, so my partner gave up her job.",
  "Three years ago our local Sure Start became a car park. The mums I met there are still my closest friends; new mums have nowhere now.",
  "As a health visitor with a caseload of seven hundred families, I see problems I could have prevented if I had time for a second visit.",
  "Our family hub is brilliant: speech and language drop-ins saved my son from a two year wait. Every area should have one like it.",
];

/** Every fourth word of `text` replaced with another word (what a rewriter does to evade a check). */
const everyFourthChanged = (text: string) =>
  text
    .split(/(\s+)/)
    .map((w, i) => (i % 8 === 6 && /\w/.test(w) ? `altered${i}` : w))
    .join("");

async function write(t: HostileApp, who: string, over: Record<string, unknown>) {
  const input = letterInput(over);
  const { id } = (await expectStatus(
    await t.post("/api/letters", { ...input, supporter: { ...input.supporter, email: emailFor(who) } }),
    201,
  )) as { id: string };
  const confirmed = (await expectStatus(await t.confirm(await t.confirmToken(id)), 200)) as {
    status: string;
  };
  return { id, status: confirmed.status };
}

describe("18: near-duplicate letters", () => {
  it("50 identical letters: every copy after the first is held, with the reason on the moderation page", async () => {
    const t = await hostileApp();
    const statuses = [];
    for (let i = 0; i < 50; i++) statuses.push((await write(t, `same${i}`, { story: COPIED })).status);
    expect(statuses[0]).toBe("confirmed");
    expect(statuses.slice(1).every((s) => s === "held")).toBe(true);
    const lead = await signedIn(t);
    const page = ((await (await lead.get("/admin/moderation")).text()) as string).replaceAll("&#x27;", "'");
    expect(page).toContain(
      "its writer's own words are very like another supporter's letter (100% the same words)",
    );
  });

  it("a first line changed, or every fourth word changed, is still held", async () => {
    const t = await hostileApp();
    expect((await write(t, "original", { story: COPIED })).status).toBe("confirmed");
    const lines = COPIED.split("\n");
    const firstChanged = [
      "I have been a childminder in Bradford for twenty years and I am worried.",
      ...lines.slice(1),
    ].join("\n");
    expect((await write(t, "first-line", { story: firstChanged })).status).toBe("held");
    expect((await write(t, "fourth-word", { story: everyFourthChanged(COPIED) })).status).toBe("held");
    // Pasted into the letter body instead of the story box: the same.
    expect((await write(t, "in-body", { body: `Dear MP,\n\n${everyFourthChanged(COPIED)}` })).status).toBe(
      "held",
    );
  });

  it("distinct personal letters, one-ask letters with no story and short stories are never held", async () => {
    const t = await hostileApp();
    // The campaign's own wording in every combination first: none of it is anyone's own words.
    for (const [i, asks] of [
      ["prevention"],
      ["workforce"],
      ["prevention", "workforce", "families"],
    ].entries())
      expect((await write(t, `template${i}`, { asks, story: undefined })).status).toBe("confirmed");
    for (let i = 0; i < 10; i++)
      expect((await write(t, `one-ask${i}`, { asks: ["prevention"], story: undefined })).status).toBe(
        "confirmed",
      );
    for (const [i, story] of [
      "Please help.",
      "My son is 4 months old.",
      "I care about this a lot.",
      "From a worried dad in Hull.",
    ].entries())
      expect((await write(t, `short${i}`, { asks: ["inequalities"], story })).status).toBe("confirmed");
    for (const [i, story] of DISTINCT.entries())
      expect(await write(t, `distinct${i}`, { story }), `story ${i}`).toMatchObject({ status: "confirmed" });
    // And all of them with a single ask (on a fresh database: the same stories again would be copies).
    const u = await hostileApp();
    for (const [i, story] of DISTINCT.entries())
      expect((await write(u, `distinct-one${i}`, { asks: ["workforce"], story })).status).toBe("confirmed");
  });

  it("scores own words only: distinct stories sit far below the threshold, copies far above", () => {
    const campaign =
      "Dear MP, I am writing to ask you to speak up for babies, health visiting and family hubs.";
    const sig = (text: string) => signature(ownWords(text, campaign)) ?? [];
    let highest = 0;
    for (const a of DISTINCT)
      for (const b of DISTINCT) if (a !== b) highest = Math.max(highest, similarity(sig(a), sig(b)));
    expect(highest).toBeLessThan(0.3);
    expect(similarity(sig(COPIED), sig(everyFourthChanged(COPIED)))).toBeGreaterThan(0.6);
  });

  it("the threshold is a setting: raised to 0.95, the rewritten copy goes", async () => {
    const t = await hostileApp({ LETTER_SIMILARITY_HOLD: "0.95" });
    await write(t, "original", { story: COPIED });
    expect((await write(t, "fourth-word", { story: everyFourthChanged(COPIED) })).status).toBe("confirmed");
    expect((await write(t, "copy", { story: COPIED })).status).toBe("held");
  });
});
