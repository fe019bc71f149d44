/**
 * Reading the figures a page shows, for tests that check two places agree. Pages mark each figure
 * they show with `data-figure="name"` (a tile, a counter) or put a table in a section with an id.
 */

/** Strip tags and entities of the cell text we print (numbers and names). */
const text = (html: string) =>
  html
    .replace(/<[^>]+>/g, "")
    .replace(/&amp;/g, "&")
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, " ")
    .trim();

/** "1,234" -> 1234. */
export const numberIn = (s: string) => Number(s.replace(/[^\d-]/g, ""));

/** The value of every `data-figure="name"` element (its first number), by name. */
export function figures(html: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of html.matchAll(/data-figure="([a-z-]+)"[^>]*>([\s\S]*?)<\/(?:li|p|span|strong|div|dd)>/g)) {
    const n = /(\d[\d,]*)/.exec(text(m[2] ?? ""))?.[1];
    if (m[1] && n !== undefined) out[m[1]] = numberIn(n);
  }
  return out;
}

/** The body rows of the first table in the element with id `id`, as cell texts. */
export function tableRows(html: string, id: string): string[][] {
  const start = html.indexOf(`id="${id}"`);
  if (start < 0) throw new Error(`no element with id ${id}`);
  const tbody = /<tbody>([\s\S]*?)<\/tbody>/.exec(html.slice(start))?.[1];
  if (tbody === undefined) throw new Error(`no table in #${id}`);
  return [...tbody.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...(r[1] ?? "").matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => text(c[1] ?? "")),
  );
}

/** Sum of column `col` over a table's rows (rows whose cell is not a number count 0). */
export function columnSum(rows: string[][], col: number): number {
  return rows.reduce((sum, r) => {
    const v = r[col];
    return sum + (v !== undefined && /\d/.test(v) ? numberIn(v) : 0);
  }, 0);
}
