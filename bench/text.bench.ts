/**
 * Text benchmark: `npm run bench:text`. Every pass supporters' text goes through, fed 1 MB of
 * adversarial input each (the shapes that make backtracking patterns quadratic), in process.
 *
 * The request path never lets 1 MB through (BODY_LIMIT_KB, then the schemas' maxima), so these
 * are worst cases with a wide margin. The last rows run the real preview route with the largest
 * body it accepts. Prints a table and rewrites the text block of bench/REPORT.md.
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { ROOT_DIR } from "../src/adapters/node/deps";
import { linkParts } from "../src/modules/letters/letters.pages";
import { LetterDraftInput } from "../src/modules/letters/letters.schemas";
import { ownWords, signature, words } from "../src/modules/letters/letters.similarity";
import { tidy } from "../src/modules/letters/letters.templates";
import { ensureTestSeat } from "../src/modules/lookup/lookup.import";
import { testApp } from "../tests/support/deps";
import { updateReport } from "./support/report";

const MB = 1024 * 1024;
const fill = (unit: string, size = MB) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

/** Inputs of 1 MB each, named for what they attack. */
const INPUTS: Record<string, string> = {
  "spaces, no newline": `x${fill(" ", MB - 2)}x`,
  "40,000 spaces, repeated": fill(`${" ".repeat(40_000)}x\n`),
  "blank lines": fill("\n"),
  "space-newline pairs": fill(" \n"),
  "CR only": fill("\r"),
  "CRLF/LF mix": fill("a\r\n\nb\r\r\n"),
  "one 1 MB word": fill("a"),
  "5,000-character words": fill(`${"w".repeat(5000)} `),
  "newline + spaces runs": fill(`\n${" ".repeat(5000)}`),
  "NUL and lone surrogates": fill("\u0000a\ud800b\udc00\u2028"),
  "tabs before newlines": fill("\t\t\t\t\n"),
  "many links": fill("http://localhost:3000/x?token=abc "),
  "link-like without end": `http://localhost:3000/${fill("a", MB - 30)}`,
};

const PASSES: Record<string, (s: string) => unknown> = {
  tidy,
  "words (similarity)": words,
  "ownWords (similarity)": (s) => ownWords(s, "default paragraph one\n\ndefault paragraph two"),
  "signature (MinHash)": signature,
  // The schema's own transform, without its length limit (which would stop 1 MB at once).
  "prose sanitiser": (s) =>
    s
      .normalize("NFC")
      .replace(/\r\n?/g, "\n")
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the schema's pattern
      .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "")
      .trim(),
  "dev mail links": (s) => linkParts(s, "http://localhost:3000"),
};

function time(fn: () => unknown, runs = 3): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

async function main() {
  const rows: string[] = [];
  let worst = { ms: 0, what: "" };
  for (const [pass, fn] of Object.entries(PASSES)) {
    const cells: string[] = [];
    let slowest = { ms: 0, name: "" };
    for (const [name, input] of Object.entries(INPUTS)) {
      const ms = time(() => fn(input));
      if (ms > worst.ms) worst = { ms, what: `${pass} on "${name}"` };
      if (ms > slowest.ms) slowest = { ms, name };
      cells.push(ms.toFixed(1));
    }
    // Growth on this pass's slowest input: a quarter of it vs all of it (linear: about 4).
    const whole = INPUTS[slowest.name] as string;
    const quarter = time(() => fn(whole.slice(0, whole.length / 4)));
    cells.push((slowest.ms / Math.max(quarter, 0.01)).toFixed(1));
    rows.push(`| ${pass} | ${cells.join(" | ")} |`);
    process.stdout.write(`${pass}: max ${Math.max(...cells.map(Number)).toFixed(1)} ms\n`);
  }

  // The real route, with the longest letter body the schema accepts (20,000 characters after
  // trimming) made of spaces: the kind of request that cost ~1 s when tidy() was quadratic.
  const t = testApp({ PREVIEW_LIMIT_PER_IP_HOUR: "1000000" });
  await ensureTestSeat(t.deps);
  const body = `Dear MP,${" ".repeat(19_991)}x`;
  if (!LetterDraftInput.shape.body.safeParse(body).success) throw new Error("bench body no longer accepted");
  const preview = async () => {
    const res = await t.request("/api/letters/preview", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        asks: ["prevention"],
        body,
        story: `${" ".repeat(4990)}y`,
        supporter: { address: { postcode: "ZZ9 9ZZ" } },
      }),
    });
    if (res.status !== 200) throw new Error(`preview answered ${res.status}: ${await res.text()}`);
  };
  await preview();
  const routeTimes: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await preview();
    routeTimes.push(performance.now() - s);
  }
  routeTimes.sort((a, b) => a - b);
  const median = routeTimes[Math.floor(routeTimes.length / 2)] ?? 0;
  process.stdout.write(
    `POST /api/letters/preview with a 20,000-character body of spaces: median ${median.toFixed(1)} ms\n`,
  );

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const date = new Date().toISOString().slice(0, 10);
  const header = `| pass | ${Object.keys(INPUTS).join(" | ")} | 4× input → × time |`;
  const rule = `|---|${[...Object.keys(INPUTS), "x"].map(() => "---:").join("|")}|`;
  const report = `Measured ${date} by \`npm run bench:text\` on ${availableParallelism()} × ${cpu} (load ${loadavg()[0]?.toFixed(1)}; the machine was shared with other engineers' builds and tests). Best of 3 runs, milliseconds, 1 MB of input each.

${header}
${rule}
${rows.join("\n")}

Slowest: ${worst.ms.toFixed(1)} ms (${worst.what}). Every pass is linear (the last column: four times the input takes about four times as long; a quadratic pass would show 16), so 1 MB of the worst input takes milliseconds. Before, \`tidy()\` used \`/[ \\t]+\\n/\`, which is quadratic on a long run of spaces: 40,000 spaces took about a second of the event loop, and 1 MB would have taken minutes.

The real route: \`POST /api/letters/preview\` with the longest body the schema accepts (\`Dear MP,\` + 19,991 spaces + \`x\`, 20,000 characters), in process: median ${median.toFixed(1)} ms over 20 requests.`;
  updateReport(resolve(ROOT_DIR, "bench/REPORT.md"), { section: "Text", key: "text", body: report });
  t.sqlite.close();
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : e}\n`);
  process.exit(1);
});
