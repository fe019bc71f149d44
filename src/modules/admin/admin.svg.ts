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

/** Seats without activity: a light grey, so the first step of the scale stands out from it. */
const EMPTY = "#e8e8e8";
/** Light to dark purple (ColorBrewer "Purples"); a scale uses the darkest few it needs. */
const STEPS = ["#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"];
/** At most this many colour steps above zero: more can't be told apart on a small map. */
const MAX_STEPS = 5;

export type MapScale = {
  colour: (value: number) => string;
  /** "0", then each step's range ("1", "2–3", ... "41–250"), light to dark. */
  legend: { label: string; from: number; to: number; colour: string }[];
};

/**
 * The map's colour scale: more is darker, always. Zero is grey; the values above zero are split
 * into at most five steps whose upper bounds grow geometrically up to the highest value (a seat
 * with 250 letters doesn't squash every seat with 2 into the same shade), and the highest value
 * is always the darkest step, however few seats have any.
 */
export function mapScale(values: number[]): MapScale {
  const max = Math.max(0, ...values);
  const uppers: number[] = [];
  if (max > 0) {
    const steps = Math.min(MAX_STEPS, max);
    for (let i = 1; i <= steps; i++) {
      const previous = uppers[uppers.length - 1] ?? 0;
      const upper = i === steps ? max : Math.round(max ** (i / steps));
      uppers.push(Math.min(max, Math.max(upper, previous + 1)));
    }
  }
  const distinct = [...new Set(uppers)];
  const colours = STEPS.slice(STEPS.length - distinct.length);
  const legend = [
    { label: "0", from: 0, to: 0, colour: EMPTY },
    ...distinct.map((to, i) => {
      const from = i === 0 ? 1 : (distinct[i - 1] as number) + 1;
      return { label: from === to ? `${to}` : `${from}–${to}`, from, to, colour: colours[i] as string };
    }),
  ];
  return {
    legend,
    colour: (v) => (v <= 0 ? EMPTY : (legend.find((l) => l.to >= v && l.from > 0)?.colour ?? EMPTY)),
  };
}

/**
 * Where each seat's hexagon is drawn: the ODI Leeds HexJSON "odd-r" layout (pointy-top hexagons,
 * rows by r with north at larger r, odd rows, negative ones included, shoved right by half a
 * hexagon, exactly as their own renderer does).
 */
export function hexCentres<T extends { hexQ: number | null; hexR: number | null }>(seats: T[], size = 7) {
  const placed = seats.filter((s) => s.hexQ !== null && s.hexR !== null) as (T & {
    hexQ: number;
    hexR: number;
  })[];
  const hexW = Math.sqrt(3) * size;
  const rowH = 1.5 * size;
  const odd = (r: number) => r % 2 !== 0;
  const minQ = Math.min(...placed.map((s) => s.hexQ));
  const maxQ = Math.max(...placed.map((s) => s.hexQ));
  const minR = Math.min(...placed.map((s) => s.hexR));
  const maxR = Math.max(...placed.map((s) => s.hexR));
  const centres = placed.map((s) => ({
    ...s,
    x: (s.hexQ - minQ) * hexW + (odd(s.hexR) ? hexW / 2 : 0) + hexW,
    y: (maxR - s.hexR) * rowH + size * 1.5,
  }));
  return Object.assign(centres, {
    width: (maxQ - minQ + 2) * hexW + hexW,
    height: (maxR - minR) * rowH + size * 3,
  });
}

/** The hex map of the seats, coloured by `value` on `mapScale`, with its legend below. */
export function hexMap(seats: HexSeat[], metric: string, size = 7): string {
  const centres = hexCentres(seats, size);
  if (centres.length === 0) return "<p>No constituency has a position on the hex map.</p>";
  const scale = mapScale(centres.map((s) => s.value));
  const corners = [30, 90, 150, 210, 270, 330].map((deg) => {
    const a = (Math.PI / 180) * deg;
    return [Math.cos(a) * size * 0.97, Math.sin(a) * size * 0.97] as const;
  });
  const cells = centres.map((s) => {
    const pts = corners.map(([dx, dy]) => `${(s.x + dx).toFixed(1)},${(s.y + dy).toFixed(1)}`).join(" ");
    return `<polygon points="${pts}" fill="${scale.colour(s.value)}" stroke="#fff" stroke-width="0.5" data-code="${esc(s.code)}"><title>${esc(s.name)}: ${s.value} ${esc(metric)}</title></polygon>`;
  });
  // The legend: "Fewer", a swatch and range per step, "More".
  const top = centres.height + 8;
  const swatch = 28;
  const parts = [`<text x="4" y="${top + 12}" font-size="11">Fewer</text>`];
  let x = 44;
  for (const l of scale.legend) {
    parts.push(
      `<rect x="${x}" y="${top}" width="${swatch}" height="14" fill="${l.colour}" stroke="#767676" stroke-width="0.5"/>`,
      `<text x="${x + swatch / 2}" y="${top + 28}" font-size="10" text-anchor="middle">${esc(l.label)}</text>`,
    );
    x += swatch + 14;
  }
  parts.push(`<text x="${x}" y="${top + 12}" font-size="11">More</text>`);
  const width = Math.max(centres.width, x + 40);
  const height = top + 36;
  const max = scale.legend[scale.legend.length - 1]?.to ?? 0;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width.toFixed(0)} ${height.toFixed(0)}" width="100%" role="img" aria-labelledby="map-title"><title id="map-title">Hex map of ${centres.length} constituencies coloured by ${esc(metric)}: darker is more, grey is none (highest ${max})</title>${cells.join("")}<g class="legend">${parts.join("")}</g></svg>`;
}
