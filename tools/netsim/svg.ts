/**
 * A minimal SVG line-chart writer for the netsim report: stacked panels sharing one time axis,
 * each with its own y axis, series, horizontal reference lines and legend. No dependencies.
 */

export interface Series {
  label: string;
  color: string;
  /** x (seconds) and y values of equal length. */
  x: readonly number[];
  y: readonly number[];
  dashed?: boolean;
}

export interface ReferenceLine {
  label: string;
  value: number;
  color?: string;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  references?: ReferenceLine[];
  /** Lowest y shown (default 0). */
  yMin?: number;
}

export interface Chart {
  title: string;
  subtitle?: string;
  xLabel: string;
  panels: Panel[];
}

const WIDTH = 960;
const PANEL_HEIGHT = 200;
const MARGIN_LEFT = 70;
const MARGIN_RIGHT = 170;
const HEADER = 76;
const GAP = 48;

/** Renders `chart` as a standalone SVG document. */
export function renderChart(chart: Chart): string {
  const plotWidth = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
  const height = HEADER + chart.panels.length * (PANEL_HEIGHT + GAP) + 10;
  let xMax = 0;
  for (const p of chart.panels) for (const s of p.series) for (const x of s.x) if (x > xMax) xMax = x;
  xMax = roundUpToTick(xMax || 1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${MARGIN_LEFT}" y="22" font-size="16" font-weight="bold">${escape(chart.title)}</text>`,
  );
  if (chart.subtitle !== undefined) out.push(`<text x="${MARGIN_LEFT}" y="40" fill="#555">${escape(chart.subtitle)}</text>`);
  chart.panels.forEach((panel, i) => {
    const top = HEADER + i * (PANEL_HEIGHT + GAP);
    out.push(renderPanel(panel, top, plotWidth, xMax, chart.xLabel));
  });
  out.push('</svg>');
  return out.join('\n');
}

function renderPanel(panel: Panel, top: number, plotWidth: number, xMax: number, xLabel: string): string {
  const yMin = panel.yMin ?? 0;
  let yMaxRaw = yMin;
  for (const s of panel.series) for (const y of s.y) if (y > yMaxRaw) yMaxRaw = y;
  for (const r of panel.references ?? []) if (r.value > yMaxRaw) yMaxRaw = r.value;
  const yMax = yMin + roundUpToTick((yMaxRaw > yMin ? yMaxRaw * 1.05 : yMin + 1) - yMin);
  const sx = (x: number): number => MARGIN_LEFT + (x / xMax) * plotWidth;
  const sy = (y: number): number => top + PANEL_HEIGHT - ((y - yMin) / (yMax - yMin)) * PANEL_HEIGHT;
  const out: string[] = [];
  out.push(`<text x="${MARGIN_LEFT}" y="${top - 8}" font-weight="bold">${escape(panel.title)}</text>`);
  // Grid and ticks.
  for (const t of ticks(yMin, yMax)) {
    const y = sy(t).toFixed(1);
    out.push(`<line x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT + plotWidth}" y1="${y}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${MARGIN_LEFT - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(t)}</text>`);
  }
  for (const t of ticks(0, xMax)) {
    const x = sx(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + PANEL_HEIGHT}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x}" y="${top + PANEL_HEIGHT + 16}" text-anchor="middle">${formatTick(t)}</text>`);
  }
  out.push(`<rect x="${MARGIN_LEFT}" y="${top}" width="${plotWidth}" height="${PANEL_HEIGHT}" fill="none" stroke="#888"/>`);
  out.push(`<text x="${MARGIN_LEFT + plotWidth / 2}" y="${top + PANEL_HEIGHT + 32}" text-anchor="middle" fill="#555">${escape(xLabel)}</text>`);
  out.push(
    `<text transform="translate(${MARGIN_LEFT - 52} ${top + PANEL_HEIGHT / 2}) rotate(-90)" text-anchor="middle" fill="#555">${escape(panel.yLabel)}</text>`,
  );
  let legendY = top + 10;
  const legendX = MARGIN_LEFT + plotWidth + 12;
  for (const r of panel.references ?? []) {
    const y = sy(r.value).toFixed(1);
    const color = r.color ?? '#999';
    out.push(`<line x1="${MARGIN_LEFT}" x2="${MARGIN_LEFT + plotWidth}" y1="${y}" y2="${y}" stroke="${color}" stroke-dasharray="2 4"/>`);
  }
  for (const s of panel.series) {
    const points: string[] = [];
    for (let i = 0; i < s.x.length; i++) points.push(`${sx(s.x[i] as number).toFixed(1)},${sy(s.y[i] as number).toFixed(1)}`);
    const dash = s.dashed === true ? ' stroke-dasharray="6 3"' : '';
    out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.3"${dash} points="${points.join(' ')}"/>`);
    out.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${legendY}" y2="${legendY}" stroke="${s.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${legendX + 24}" y="${legendY}" dominant-baseline="middle">${escape(s.label)}</text>`);
    legendY += 18;
  }
  for (const r of panel.references ?? []) {
    const color = r.color ?? '#999';
    out.push(`<line x1="${legendX}" x2="${legendX + 18}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-dasharray="2 4" stroke-width="2"/>`);
    out.push(`<text x="${legendX + 24}" y="${legendY}" dominant-baseline="middle">${escape(r.label)}</text>`);
    legendY += 18;
  }
  return out.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `v`. */
function niceCeiling(v: number): number {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** `v` rounded up to a whole number of the tick step `ticks` would use for [0, v]. */
function roundUpToTick(v: number): number {
  const step = niceCeiling(v / 5);
  return Math.ceil(v / step - 1e-9) * step;
}

/** About five round tick values from `lo` to `hi`. */
function ticks(lo: number, hi: number): number[] {
  const step = niceCeiling((hi - lo) / 5);
  const out: number[] = [];
  // Bounded: (hi - lo) / step <= 5 by construction, plus one.
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9 && out.length < 12; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

function formatTick(t: number): string {
  return Math.abs(t) >= 1000 ? `${t / 1000}k` : String(t);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
