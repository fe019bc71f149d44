/**
 * Server-side SVG for the dashboard: a daily chart and the hex map of the 650 seats. No script,
 * no library: the page stays readable without JavaScript, and every figure drawn is also in a
 * table beside it (the SVGs are aria-hidden summaries with a <title>).
 *
 * Every piece of text put into the SVG goes through `esc`; numbers are formatted by us.
 */
const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

export type DayPoint = { day: string; pledges: number; letters: number };

/** Two-series daily bar chart (pledges and letters side by side). */
export function dailyChart(days: DayPoint[], opts = { width: 900, height: 240 }): string {
  const { width, height } = opts;
  const pad = { l: 44, r: 8, t: 12, b: 28 };
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const max = Math.max(1, ...days.map((d) => Math.max(d.pledges, d.letters)));
  const step = w / Math.max(1, days.length);
  const bar = Math.max(1, step / 2 - 0.5);
  const y = (v: number) => pad.t + h - (v / max) * h;
  const parts: string[] = [];
  for (const [i, d] of days.entries()) {
    const x = pad.l + i * step;
    parts.push(
      `<rect class="p" x="${x.toFixed(1)}" y="${y(d.pledges).toFixed(1)}" width="${bar.toFixed(1)}" height="${(pad.t + h - y(d.pledges)).toFixed(1)}" fill="#6b2c91"><title>${esc(d.day)}: ${d.pledges} pledges</title></rect>`,
      `<rect class="l" x="${(x + bar).toFixed(1)}" y="${y(d.letters).toFixed(1)}" width="${bar.toFixed(1)}" height="${(pad.t + h - y(d.letters)).toFixed(1)}" fill="#e08a00"><title>${esc(d.day)}: ${d.letters} letters</title></rect>`,
    );
  }
  const ticks = [0, 0.5, 1].map((f) => {
    const v = Math.round(max * f);
    return `<text x="${pad.l - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${v}</text><line x1="${pad.l}" x2="${width - pad.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`;
  });
  const first = days[0]?.day ?? "";
  const last = days[days.length - 1]?.day ?? "";
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-labelledby="chart-title"><title id="chart-title">Pledges (purple) and letters (orange) per day, ${esc(first)} to ${esc(last)}</title>${ticks.join("")}${parts.join("")}<text x="${pad.l}" y="${height - 8}" font-size="11">${esc(first)}</text><text x="${width - pad.r}" y="${height - 8}" font-size="11" text-anchor="end">${esc(last)}</text></svg>`;
}

export type HexSeat = { code: string; name: string; hexQ: number | null; hexR: number | null; value: number };

const PALETTE = ["#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"];

/**
 * The ODI Leeds hex map of the constituencies, "odd-r" offset layout: rows are r (north is
 * larger r), odd rows are shifted right by half a hex. Pointy-top hexagons. Colour by quantile
 * of the non-zero values so one very active seat does not wash out the rest.
 */
export function hexMap(seats: HexSeat[], metric: string, size = 7): string {
  const placed = seats.filter((s) => s.hexQ !== null && s.hexR !== null) as (HexSeat & {
    hexQ: number;
    hexR: number;
  })[];
  if (placed.length === 0) return "<p>No constituency has a position on the hex map.</p>";
  const hexW = Math.sqrt(3) * size;
  const rowH = 1.5 * size;
  const odd = (r: number) => ((r % 2) + 2) % 2 === 1;
  const qs = placed.map((s) => s.hexQ);
  const rs = placed.map((s) => s.hexR);
  const minQ = Math.min(...qs);
  const maxQ = Math.max(...qs);
  const minR = Math.min(...rs);
  const maxR = Math.max(...rs);
  const cx = (s: { hexQ: number; hexR: number }) =>
    (s.hexQ - minQ) * hexW + (odd(s.hexR) ? hexW / 2 : 0) + hexW;
  const cy = (s: { hexR: number }) => (maxR - s.hexR) * rowH + size * 1.5;
  const width = (maxQ - minQ + 2) * hexW + hexW;
  const height = (maxR - minR) * rowH + size * 3;
  const nonZero = placed
    .map((s) => s.value)
    .filter((v) => v > 0)
    .sort((a, b) => a - b);
  const colour = (v: number) => {
    if (v <= 0 || nonZero.length === 0) return PALETTE[0];
    let rank = 0;
    while (rank < nonZero.length && (nonZero[rank] as number) < v) rank++;
    const bucket =
      1 + Math.min(PALETTE.length - 2, Math.floor((rank / nonZero.length) * (PALETTE.length - 1)));
    return PALETTE[bucket];
  };
  const corners = [30, 90, 150, 210, 270, 330].map((deg) => {
    const a = (Math.PI / 180) * deg;
    return [Math.cos(a) * size * 0.97, Math.sin(a) * size * 0.97] as const;
  });
  const cells = placed.map((s) => {
    const x = cx(s);
    const y = cy(s);
    const pts = corners.map(([dx, dy]) => `${(x + dx).toFixed(1)},${(y + dy).toFixed(1)}`).join(" ");
    return `<polygon points="${pts}" fill="${colour(s.value)}" stroke="#fff" stroke-width="0.5"><title>${esc(s.name)}: ${s.value} ${esc(metric)}</title></polygon>`;
  });
  const max = nonZero[nonZero.length - 1] ?? 0;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width.toFixed(0)} ${height.toFixed(0)}" width="100%" role="img" aria-labelledby="map-title"><title id="map-title">Hex map of ${placed.length} constituencies coloured by ${esc(metric)} (darker is more; highest ${max})</title>${cells.join("")}</svg>`;
}
