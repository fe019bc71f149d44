/**
 * Similarity benchmark: `npm run bench:similarity`. The near-duplicate check runs on every letter
 * submit: the writer's own words (letters.similarity.ts), the candidate query over the MinHash
 * bands (24 per letter) and the exact comparison of up to 50 candidates. Measured against a
 * campaign that already holds LETTERS letters (own-word sets drawn from a 5,000-word vocabulary
 * with a heavy head, so common words collide as real letters do; 1 in 100 a near-copy family),
 * then over the real submit route. Prints a table and rewrites the block in bench/REPORT.md.
 */
import { availableParallelism, cpus, loadavg } from "node:os";
import { resolve } from "node:path";
import { ROOT_DIR } from "../src/adapters/node/deps";
import { nearestDuplicate } from "../src/modules/letters/letters.service";
import { bands, signature } from "../src/modules/letters/letters.similarity";
import { ensureTestSeat } from "../src/modules/lookup/lookup.import";
import { testApp } from "../tests/support/deps";
import { letterInput } from "../tests/support/letters";
import { updateReport } from "./support/report";

const LETTERS = Number(process.env.LETTERS ?? 50_000);
const PROBES = 300;
const VOCAB = Array.from({ length: 5000 }, (_, i) => `word${i.toString(36)}x`);

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
/** A word, most often from the head of the vocabulary (as "baby", "nursery" are in real letters). */
const word = () => VOCAB[Math.floor(VOCAB.length * rand() ** 3)] as string;
const story = (n = 15 + Math.floor(rand() * 40)) => Array.from({ length: n }, word).join(" ");

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
};

async function main() {
  const t = testApp({ LETTER_LIMIT_PER_EMAIL_DAY: "1000", LETTER_LIMIT_PER_IP_HOUR: "100000" });
  await ensureTestSeat(t.deps);
  const insertLetter = t.sqlite.prepare(
    `insert into letters (id, campaign_id, constituency_code, recipient_kind, recipient_name, status, asks, subject,
      body, supporter_name, supporter_email, supporter_email_key, supporter_address, supporter_postcode,
      idempotency_key, signature, created_at)
     values (?, 'manifesto-for-babies', 'Z00000001', 'mp', 'Test MP', 'sent', '["prevention"]', 's', 'b', 'n', ?, ?, 'a', 'ZZ9 9ZZ', ?, ?, 0)`,
  );
  const insertBand = t.sqlite.prepare("insert into letter_bands (band, letter_id) values (?, ?)");
  const started = performance.now();
  let family = "";
  t.sqlite.transaction(() => {
    for (let i = 0; i < LETTERS; i++) {
      if (i % 100 === 0) family = story(40);
      const text = i % 100 < 2 ? family : story();
      const sig = signature(text);
      if (!sig) continue;
      const id = `l${i}`;
      insertLetter.run(id, `s${i}@example.org`, `s${i}@example.org`, `k${i}`, JSON.stringify(sig));
      for (const b of bands(sig)) insertBand.run(b, id);
    }
  })();
  const loadS = (performance.now() - started) / 1000;
  const bandRows = (t.sqlite.prepare("select count(*) n from letter_bands").get() as { n: number }).n;

  const check: number[] = [];
  let copiesFound = 0;
  for (let i = 0; i < PROBES; i++) {
    const copy = i % 10 === 0;
    const sig = signature(copy ? `${story(5)} ${family}` : story()) as number[];
    const s = performance.now();
    const dup = await nearestDuplicate(t.deps, "manifesto-for-babies", `probe${i}@example.org`, sig);
    check.push(performance.now() - s);
    if (copy && (dup?.score ?? 0) >= 0.5) copiesFound++;
  }

  const submit: number[] = [];
  for (let i = 0; i < 100; i++) {
    const input = letterInput({ story: story() });
    const s = performance.now();
    const res = await t.request("/api/letters", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...input, supporter: { ...input.supporter, email: `submit${i}@example.org` } }),
    });
    submit.push(performance.now() - s);
    if (res.status !== 201) throw new Error(`submit ${res.status}: ${await res.text()}`);
  }

  const rows = [
    ["near-duplicate check (candidates + exact)", pct(check, 50), pct(check, 99)],
    ["POST /api/letters (whole submit)", pct(submit, 50), pct(submit, 99)],
  ];
  const table = [
    "| step | p50 ms | p99 ms |",
    "|---|---|---|",
    ...rows.map(([n, a, b]) => `| ${n} | ${(a as number).toFixed(2)} | ${(b as number).toFixed(2)} |`),
  ].join("\n");
  const cpu = cpus()[0]?.model.replace(/\s+/g, " ").trim() ?? "unknown CPU";
  const body = `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:similarity\` on ${availableParallelism()} × ${cpu} (load ${loadavg()[0]?.toFixed(1)}; the machine was shared with other engineers' builds and tests). ${LETTERS.toLocaleString("en-GB")} letters already held (${bandRows.toLocaleString("en-GB")} band rows, loaded in ${loadS.toFixed(1)} s); ${PROBES} checks of new letters, one in ten a near-copy of a family (found: ${copiesFound} of ${PROBES / 10}).

${table}`;
  process.stdout.write(`${body}\n`);
  updateReport(resolve(ROOT_DIR, "bench/REPORT.md"), { section: "Similarity", key: "similarity", body });
  t.sqlite.close();
}

await main();
