/**
 * Near-duplicate detection for supporters' own words: word 3-shingles, a 32-value MinHash
 * signature, and LSH banding (8 bands of 4) so candidates come from an indexed lookup rather
 * than a scan of every letter. With 8x4 bands a pair at Jaccard 0.8 shares a band ~98% of the
 * time, at 0.4 only ~20%, so the threshold check sees nearly every true near-duplicate while
 * reading few rows.
 *
 * Only the words a supporter wrote are compared (paragraphs that are not the campaign's default
 * text): a letter built purely from the template is expected to look like thousands of others.
 */
export const SIGNATURE_SIZE = 32;
export const BANDS = 8;
const ROWS = SIGNATURE_SIZE / BANDS;
/** Fewer words than this carry too little to compare. */
export const MIN_WORDS = 12;
const SHINGLE = 3;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: a cheap, well-mixed family of hashes h_i(x) = mix(x ^ seed_i). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEEDS = Array.from({ length: SIGNATURE_SIZE }, (_, i) => mix(0x9e3779b9 + i * 0x632be5ab));

export function words(text: string): string[] {
  return (
    text
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

export function signature(text: string): number[] | null {
  const w = words(text);
  if (w.length < MIN_WORDS) return null;
  const sig = new Array<number>(SIGNATURE_SIZE).fill(0xffffffff);
  for (let i = 0; i + SHINGLE <= w.length; i++) {
    const h = fnv1a(w.slice(i, i + SHINGLE).join(" "));
    for (let j = 0; j < SIGNATURE_SIZE; j++) {
      const v = mix(h ^ (SEEDS[j] as number));
      if (v < (sig[j] as number)) sig[j] = v;
    }
  }
  return sig;
}

/** Band keys of a signature: letters sharing any key are candidates. */
export function bands(sig: number[]): string[] {
  const out: string[] = [];
  for (let b = 0; b < BANDS; b++) {
    out.push(`${b}:${fnv1a(sig.slice(b * ROWS, (b + 1) * ROWS).join(",")).toString(36)}`);
  }
  return out;
}

/** Estimated Jaccard similarity: the share of positions where two signatures agree. */
export function similarity(a: number[], b: number[]): number {
  let same = 0;
  for (let i = 0; i < SIGNATURE_SIZE; i++) if (a[i] === b[i]) same++;
  return same / SIGNATURE_SIZE;
}

const para = (s: string) => s.replace(/\s+/g, " ").trim();

/** The paragraphs of `body` that are not the campaign's default text. */
export function ownWords(body: string, defaultText: string): string {
  const defaults = new Set(defaultText.split(/\n\s*\n/).map(para));
  return body
    .split(/\n\s*\n/)
    .map(para)
    .filter((p) => p && !defaults.has(p))
    .join("\n\n");
}
