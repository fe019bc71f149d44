/**
 * HOSTILE 15: NUL, lone surrogates, CRLF/LF mixes, 10,000 blank lines, a 5,000-character word and
 * 40,000 spaces are sanitised in linear time, and the mail is valid MIME.
 * Finding: tidy() was quadratic (/[ \t]+\n/ on a run of spaces): 40,000 spaces cost about a
 * second of the event loop on the unthrottled preview endpoint.
 *
 * Speed figures are in bench/REPORT.md (`npm run bench:text`); the bounds here are two orders of
 * magnitude above them, there only to catch a pass going quadratic again (which on these inputs
 * takes minutes, not milliseconds).
 */
import { afterEach, describe, expect, it } from "vitest";
import { smtpMailer } from "../../src/adapters/node/mailer";
import { drainOutbox } from "../../src/modules/delivery/delivery.service";
import { LetterDraftInput } from "../../src/modules/letters/letters.schemas";
import { ownWords, signature } from "../../src/modules/letters/letters.similarity";
import { tidy } from "../../src/modules/letters/letters.templates";
import { expectStatus } from "../support/deps";
import { letterInput, lettersApp } from "../support/letters";
import { type SmtpSink, startSmtp } from "../support/smtp";

const MB = 1024 * 1024;

const HOSTILE_TEXT: Record<string, string> = {
  "NUL and lone surrogates": "Dear MP,\u0000 my \ud800 son \udc00 and \u0000 daughter",
  "CRLF/LF/CR mix": "Dear MP,\r\nline two\rline three\n\r\nline five",
  "10,000 blank lines": `Dear MP,${"\n".repeat(10_000)}Yours`,
  "a 5,000-character word": `Dear MP, ${"w".repeat(5000)} end`,
  "19,990 spaces in the body (the longest it may be), 4,990 in the story": `Dear MP,${" ".repeat(19_990)}x`,
};

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

describe("15: hostile text", () => {
  it("tidy() and the similarity passes handle 1 MB of the worst shapes well inside a second", () => {
    const inputs = [
      `x${" ".repeat(MB)}x`,
      " \n".repeat(MB / 2),
      "\r".repeat(MB),
      `${"\n".repeat(MB / 2)}${" \t".repeat(MB / 4)}`,
    ];
    for (const input of inputs) {
      const started = performance.now();
      tidy(input);
      ownWords(input, "default");
      signature(input);
      expect(performance.now() - started).toBeLessThan(3000);
    }
    expect(tidy(`a${" ".repeat(40_000)}\n\n\n\nb  \r\n`)).toBe("a\n\nb");
  });

  it.each(Object.entries(HOSTILE_TEXT))(
    "%s: previewed, sent and received as valid MIME, sanitised",
    async (_name, text) => {
      const sink: SmtpSink = await startSmtp();
      const t = await lettersApp({
        MAIL_MODE: "reflect",
        SMTP_URL: sink.url,
        MAIL_FROM: "campaign@example.org",
      });
      const mailer = smtpMailer({ url: sink.url, poolSize: 1, timeoutMs: 5000 });
      t.deps.mailer = mailer;
      // The pool's connection first, or the server waits for it before closing.
      cleanups.push(
        () => mailer.close?.(),
        () => sink.close(),
      );

      const body = LetterDraftInput.shape.body.safeParse(text);
      expect(body.success).toBe(true);
      const story = `${" ".repeat(4990)}${text.slice(0, 8)}`;
      const preview = await t.post("/api/letters/preview", letterInput({ body: text, story }));
      const shown = (await expectStatus(preview, 200)) as { text: string };
      const { id } = await t.submit(letterInput({ body: text }));
      await t.confirm(await t.confirmToken(id));
      await drainOutbox(t.deps);

      const toMp = sink.messages.find((m) => m.subject?.includes("babies"));
      expect(toMp, "the letter reached the relay").toBeTruthy();
      const received = toMp?.text ?? "";
      for (const sent of [shown.text, received]) {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: the point of the check
        expect(sent).not.toMatch(/[\u0000\r]/);
        expect(sent).not.toMatch(/\n\n\n/);
        expect(sent).not.toMatch(/[ \t]\n/);
      }
      expect(received).toContain("1 Test Street");
      expect(toMp?.headers.get("message-id")).toMatch(/^<.+@example\.org>$/);
    },
  );
});
