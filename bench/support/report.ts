/**
 * bench/REPORT.md holds one `## <Area>` section per benchmark. A benchmark rewrites only the
 * block between its own markers (`<!-- bench:<key>:begin -->` ... `end -->`), so hand-written
 * notes in its section and other areas' sections survive every run.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const INTRO = `# Benchmark report

Figures measured on the project machine with the scripts in bench/ (\`npm run bench:<area>\`).
One section per area. Each script rewrites only the block between its own \`bench:<key>\` markers,
so notes written by hand around the block are kept.
`;

export function updateReport(path: string, opts: { section: string; key: string; body: string }): void {
  const begin = `<!-- bench:${opts.key}:begin -->`;
  const end = `<!-- bench:${opts.key}:end -->`;
  const block = `${begin}\n${opts.body.trim()}\n${end}`;
  let text = existsSync(path) ? readFileSync(path, "utf8") : INTRO;

  const b = text.indexOf(begin);
  const e = text.indexOf(end);
  if (b !== -1 && e > b) {
    text = text.slice(0, b) + block + text.slice(e + end.length);
  } else {
    const heading = `## ${opts.section}`;
    const h = text.split("\n").findIndex((l) => l.trim() === heading);
    if (h === -1) {
      text = `${text.trimEnd()}\n\n${heading}\n\n${block}\n`;
    } else {
      // Put the block at the end of the existing section, before the next `## ` heading.
      const lines = text.split("\n");
      let next = lines.findIndex((l, i) => i > h && l.startsWith("## "));
      if (next === -1) next = lines.length;
      while (next > h + 1 && lines[next - 1]?.trim() === "") next--;
      lines.splice(next, 0, "", block);
      text = lines.join("\n");
    }
  }
  writeFileSync(path, text.endsWith("\n") ? text : `${text}\n`);
}
