/**
 * Near-duplicate letters, measured on the writer's own words only (as WriteToThem does: a letter
 * is held when it is more than MAX_MESSAGE_SIMILARITY, 0.5 by default, like another person's).
 *
 * Rules:
 * - The campaign's wording is not the writer's: every word of the default letter (to an MP and
 *   to a candidate, one ask or several, this recipient's name and seat) and of every ask's title,
 *   summary and points is taken out, with common English function words. What is left is what
 *   this person typed that the campaign did not: a letter of chosen asks and no story has no
 *   words left and is never compared; a short story of a few words is too little to compare.
 * - Similarity is the share of one letter's own words that the other has too, on sets of words:
 *   |A ∩ B| / max(min(|A|, |B|), max(|A|, |B|) / 2). Words, not 3-word shingles: a copy with
 *   every fourth word changed keeps most of its words (about 0.6) but almost none of its shingles
 *   (about 0.15), and word order is the cheapest thing to disguise. Divided by the smaller set
 *   (not the union, as Jaccard is), because each word a rewriter swaps in would otherwise count
 *   twice against the copy; but never by less than half the larger, so a short letter is not
 *   "like" a long one for sharing a few of its words. Distinct letters on the same subject share
 *   under a fifth of their words.
 * - Candidates come from an index, not a scan: a 48-value MinHash of the set, cut into 24 bands
 *   of 2 (`letter_bands`). A pair at Jaccard 0.4 (similarity about 0.55) shares a band 98% of the
 *   time; the candidates that share the most bands are then compared exactly on their sets.
 * - The stored set (`letters.signature`: sorted 32-bit hashes of the words) is similarity data:
 *   it is deleted with the letter text by the retention job.
 */
export const SIGNATURE_SIZE = 48;
export const BANDS = 24;
const ROWS = SIGNATURE_SIZE / BANDS;
/** Fewer distinct own words than this carry too little to compare. */
export const MIN_WORDS = 8;
/** Own words kept per letter (a 20,000-character letter has at most a few thousand). */
const MAX_WORDS = 2000;
/** Band keys of this scheme start with "w" (word sets), so older keys never match them. */
const BAND_PREFIX = "w";

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

/** Words of a text: letters and digits, accents folded, lower case. One linear pass. */
export function words(text: string): string[] {
  return (
    text
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** Function words that say nothing about who wrote a letter (beyond those in the campaign text). */
const STOPWORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below
  between both but by can could did do does doing down during each few for from further had has have
  having he her here hers herself him himself his how i if in into is it its itself just me more most
  my myself no nor not now of off on once only or other our ours ourselves out over own same she
  should so some such than that the their theirs them themselves then there these they this those
  through to too under until up very was we were what when where which while who whom why will with
  would you your yours yourself yourselves im ive id dont didnt cant wont isnt wasnt its also get got
  one two three s t m ll re ve d dear yours sincerely faithfully regards thank thanks`.split(/\s+/),
);

/**
 * The writer's own words of `body`: its words that are not in `campaignText` (the campaign's
 * wording) and are not function words, in order. Linear in both texts.
 */
export function ownWords(body: string, campaignText: string): string {
  const campaign = new Set(words(campaignText));
  return words(body)
    .filter((w) => w.length > 1 && !campaign.has(w) && !STOPWORDS.has(w))
    .join(" ");
}

/**
 * The set of own words as sorted, distinct 32-bit hashes: what is stored and compared. Null when
 * there are fewer than MIN_WORDS distinct words.
 */
export function signature(ownText: string): number[] | null {
  const set = new Set<number>();
  for (const w of words(ownText)) {
    if (STOPWORDS.has(w) || w.length < 2) continue;
    set.add(fnv1a(w));
    if (set.size >= MAX_WORDS) break;
  }
  if (set.size < MIN_WORDS) return null;
  return [...set].sort((a, b) => a - b);
}

/** MinHash of a word-hash set: for each seed, the smallest mixed hash. */
function minhash(set: number[]): number[] {
  const sig = new Array<number>(SIGNATURE_SIZE).fill(0xffffffff);
  for (const h of set) {
    for (let j = 0; j < SIGNATURE_SIZE; j++) {
      const v = mix(h ^ (SEEDS[j] as number));
      if (v < (sig[j] as number)) sig[j] = v;
    }
  }
  return sig;
}

/** Band keys of a word set: letters sharing any key are candidates. */
export function bands(set: number[]): string[] {
  const sig = minhash(set);
  const out: string[] = [];
  for (let b = 0; b < BANDS; b++)
    out.push(`${BAND_PREFIX}${b}:${fnv1a(sig.slice(b * ROWS, (b + 1) * ROWS).join(",")).toString(36)}`);
  return out;
}

/** Similarity of two sorted hash sets (exact): see the header. 1 for the same words. */
export function similarity(a: number[], b: number[]): number {
  let i = 0;
  let j = 0;
  let shared = 0;
  while (i < a.length && j < b.length) {
    const x = a[i] as number;
    const y = b[j] as number;
    if (x === y) {
      shared++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  const base = Math.max(Math.min(a.length, b.length), Math.max(a.length, b.length) / 2);
  return base === 0 ? 0 : Math.min(1, shared / base);
}
