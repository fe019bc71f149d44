/**
 * HOSTILE 16: template syntax typed by a supporter ({{mp.email}}, {{#each this}},
 * {{constructor.constructor}}) is data, never template source: it comes out literally in the
 * preview, the confirm page, the letter and every email, and nothing it names leaks.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { hostileApp, pledgeForm } from "./support";

const SYNTAX = [
  "{{mp.email}}",
  "{{#each this}}x{{/each}}",
  "{{constructor.constructor}}",
  "{{> layout}}",
  "{{{supporter}}}",
];
const typed = SYNTAX.join(" ");

describe("16: template syntax typed by a supporter", () => {
  it("is rendered literally in the preview, the confirm page, the letter and the emails", async () => {
    const t = await hostileApp();
    const input = letterInput({ story: `My story ${typed}`, subject: `Subject ${SYNTAX[0]}` });
    const letter = {
      ...input,
      supporter: {
        ...input.supporter,
        name: "Jane {{mp.email}}",
        address: { ...input.supporter.address, line1: `1 ${SYNTAX[2]} Street` },
      },
    };
    const preview = (await expectStatus(await t.post("/api/letters/preview", letter), 200)) as {
      text: string;
    };
    for (const s of SYNTAX) expect(preview.text).toContain(s);
    const edited = (await expectStatus(
      await t.post("/api/letters/preview", { ...letter, body: typed }),
      200,
    )) as {
      draft: string;
    };
    expect(edited.draft).toBe(typed);
    const { id } = await t.submit(letter);
    const token = await t.confirmToken(id);
    const page = (await (await t.page(`/letters/confirm?token=${token}`)).text()) as string;
    expect(page).toContain("{{mp.email}}");
    await t.confirm(token);
    await t.post("/api/pledges", pledgeForm({ name: "Pat {{#each this}}x{{/each}}" }));
    await drainOutbox(t.deps);
    const mail = t.captured();
    const toMp = mail.find((m) => m.subject.includes("Subject"));
    for (const s of SYNTAX) expect(toMp?.text).toContain(s);
    expect(toMp?.subject).toBe("Subject {{mp.email}}");
    expect(mail.find((m) => m.subject.startsWith("Please confirm your #SpeakUp"))?.text).toContain(
      "Pat {{#each this}}x{{/each}}",
    );
    // What the syntax names never appears: no address of the MP, no function source.
    for (const m of mail) {
      expect(m.text).not.toContain("test-mp@speakup.invalid");
      expect(m.text).not.toMatch(/function\s*\w*\s*\(|\[native code\]|\[object Object\]/);
    }
  });
});
