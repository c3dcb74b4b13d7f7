/**
 * A hand-written SVG line plot, with no dependencies: one polyline per
 * series with labelled points, linear axes with round ticks, axis titles
 * and a legend. Used for p99 latency against throughput.
 */

/** One point: x, y, and a short label drawn next to it. */
export interface PlotPoint {
  x: number;
  y: number;
  label: string;
}

/** One line of the plot. */
export interface PlotSeries {
  name: string;
  color: string;
  points: PlotPoint[];
}

/** Titles of the plot and its axes. */
export interface PlotLabels {
  title: string;
  x: string;
  y: string;
}

const W = 720;
const H = 480;
const M = { left: 70, right: 30, top: 50, bottom: 60 };

/** Round tick values from 0 to at least `max`, about five of them. */
export function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= rough) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v < max + step; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The SVG document of `series` plotted against linear axes starting at 0. */
export function linePlotSvg(series: PlotSeries[], labels: PlotLabels): string {
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const xt = ticks(Math.max(0, ...all.map((p) => p.x)) * 1.05);
  const yt = ticks(Math.max(0, ...all.map((p) => p.y)) * 1.05);
  const xMax = xt[xt.length - 1]!;
  const yMax = yt[yt.length - 1]!;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number) => M.left + (x / xMax) * pw;
  const sy = (y: number) => M.top + ph - (y / yMax) * ph;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<title>${esc(labels.title)}</title>`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(labels.title)}</text>`,
  ];
  for (const v of xt) {
    out.push(`<line x1="${f(sx(v))}" y1="${M.top}" x2="${f(sx(v))}" y2="${M.top + ph}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f(sx(v))}" y="${M.top + ph + 18}" text-anchor="middle">${v}</text>`);
  }
  for (const v of yt) {
    out.push(`<line x1="${M.left}" y1="${f(sy(v))}" x2="${M.left + pw}" y2="${f(sy(v))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${f(sy(v) + 4)}" text-anchor="end">${v}</text>`);
  }
  out.push(
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="black"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="black"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 16}" text-anchor="middle">${esc(labels.x)}</text>`,
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(labels.y)}</text>`,
  );
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const path = pts.map((p) => `${f(sx(p.x))},${f(sy(p.y))}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const p of pts) {
      out.push(`<circle cx="${f(sx(p.x))}" cy="${f(sy(p.y))}" r="3.5" fill="${s.color}"/>`);
      out.push(`<text x="${f(sx(p.x) + 6)}" y="${f(sy(p.y) - 6)}" fill="${s.color}">${esc(p.label)}</text>`);
    }
    const ly = M.top + 8 + i * 18;
    out.push(
      `<line x1="${M.left + 12}" y1="${ly}" x2="${M.left + 36}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`,
      `<text x="${M.left + 42}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
