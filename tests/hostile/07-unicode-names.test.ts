/**
 * HOSTILE 7: a name with emoji, decomposed accents, a right-to-left mark and a zero-width joiner
 * is stored NFC (é typed two ways is one name), arrives intact in the From display name and the
 * body of real mail (nodemailer -> SMTP -> mailparser), and its length is counted in code points.
 */
import { describe, expect, it } from "vitest";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { MAX_NAME } from "../../src/modules/letters/letters.schemas";
import { expectStatus } from "../support/deps";
import { letterInput } from "../support/letters";
import { emailFor, lettersAt, withRealSmtp } from "./support";

/** "Zoë 👶 Ó Briain" typed with combining accents, plus an RTL mark and a ZWJ family emoji. */
const TYPED = "Zoe\u0308 \u{1F476} O\u0301 Briain \u200F\u{1F469}\u200D\u{1F467}";
const NFC = "Zo\u00eb \u{1F476} \u00d3 Briain \u200F\u{1F469}\u200D\u{1F467}";

describe("07: names beyond ASCII", () => {
  it("are stored NFC and arrive intact in From, Reply-To, the sign-off and the confirmation mail", async () => {
    const t = await withRealSmtp();
    const input = letterInput();
    const { id } = await t.submit({
      ...input,
      supporter: { ...input.supporter, name: TYPED, email: emailFor(7) },
    });
    const row = t.sqlite.prepare("select supporter_name n, body from letters where id = ?").get(id) as {
      n: string;
      body: string;
    };
    expect(row.n).toBe(NFC);
    expect(row.body).toContain(`\n${NFC}\n`);
    await t.confirm(await t.confirmToken(id));
    await drainOutbox(t.deps);
    const [letter] = lettersAt(t.sink);
    expect(letter?.from?.value).toEqual([
      { name: `${NFC} via #SpeakUpForBabies`, address: "campaign@example.org" },
    ]);
    expect(letter?.replyTo?.value).toEqual([{ name: NFC, address: emailFor(7) }]);
    expect(letter?.text).toContain(NFC);
    // The RTL mark and the joiner survive the trip (they are part of how the name is written).
    expect(letter?.from?.value[0]?.name).toContain("\u200F");
    expect(letter?.from?.value[0]?.name).toContain("\u200D");
    const confirm = t.sink.messages.find((m) => m.subject?.startsWith("Please confirm"));
    expect(confirm?.text).toContain(NFC);
  });

  it("counts lengths in code points: the longest name in emoji is accepted, one more is not", async () => {
    const t = await withRealSmtp();
    const input = letterInput();
    const named = (name: string, n: number) =>
      t.post("/api/letters", {
        ...input,
        supporter: { ...input.supporter, name, email: emailFor(`len${n}`) },
      });
    // 100 babies: 200 UTF-16 units, 100 characters.
    await expectStatus(await named("\u{1F476}".repeat(MAX_NAME), 1), 201);
    expect(await expectStatus(await named("\u{1F476}".repeat(MAX_NAME + 1), 2), 422)).toMatchObject({
      code: "text_too_long",
    });
    // Decomposed, the name is longer in code points than it will be stored: NFC first, then counted.
    await expectStatus(await named("e\u0301".repeat(MAX_NAME), 3), 201);
  });
});
