import type { Bin } from './stats.js';

/**
 * Hand-written SVG charts: a line chart (throughput or memory over time) and a histogram on a
 * logarithmic axis (latency). Pure string building, no dependencies; every text is escaped.
 */

export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
}

export interface HistogramSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly bins: readonly Bin[];
  /** Vertical lines at given x values, such as percentiles. */
  readonly markers?: ReadonlyArray<{ readonly label: string; readonly value: number }>;
}

const WIDTH = 760;
const HEIGHT = 380;
const PAD = { left: 72, right: 24, top: 60, bottom: 56 };
const PLOT_W = WIDTH - PAD.left - PAD.right;
const PLOT_H = HEIGHT - PAD.top - PAD.bottom;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0];
  if (max <= min) max = min + 1;
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.floor(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  if (ticks[ticks.length - 1]! < max)
    ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

/** Short tick labels: 1500 → 1.5k, 2000000 → 2M, 0.25 → 0.25. */
export function shortNumber(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e3) return `${trim(n / 1e3)}k`;
  return trim(n);
}

function trim(n: number): string {
  return String(Number(n.toPrecision(3)));
}

export function lineChart(spec: LineChartSpec): string {
  const all = spec.series.flatMap((s) => s.points);
  const xTicks = niceTicks(0, Math.max(1, ...all.map((p) => p[0])));
  const yTicks = niceTicks(0, Math.max(1, ...all.map((p) => p[1])));
  const xTop = xTicks[xTicks.length - 1]!;
  const yTop = yTicks[yTicks.length - 1]!;
  const x = (v: number) => PAD.left + (v / xTop) * PLOT_W;
  const y = (v: number) => PAD.top + PLOT_H - (v / yTop) * PLOT_H;

  const parts = [frame(spec.title, spec.xLabel, spec.yLabel)];
  parts.push(...xTicks.map((t) => xTick(x(t), shortNumber(t))));
  parts.push(...yTicks.map((t) => yTick(y(t), shortNumber(t))));
  spec.series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    if (s.points.length > 0) {
      const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${fx(x(p[0]))},${fx(y(p[1]))}`);
      parts.push(el('path', { d: d.join(' '), fill: 'none', stroke: color, 'stroke-width': 2 }));
    }
    parts.push(legend(i, s.name, color));
  });
  return svgDocument(parts);
}

export function histogramChart(spec: HistogramSpec): string {
  const bins = spec.bins;
  const lo = bins.length ? Math.log10(bins[0]!.lo) : 0;
  const hi = bins.length ? Math.log10(bins[bins.length - 1]!.hi) : 1;
  const x = (v: number) => PAD.left + ((Math.log10(v) - lo) / Math.max(hi - lo, 1e-9)) * PLOT_W;
  const yTicks = niceTicks(0, Math.max(1, ...bins.map((b) => b.count)));
  const yTop = yTicks[yTicks.length - 1]!;
  const y = (v: number) => PAD.top + PLOT_H - (v / yTop) * PLOT_H;
  const bottom = PAD.top + PLOT_H;

  const parts = [frame(spec.title, spec.xLabel, spec.yLabel)];
  parts.push(...yTicks.map((t) => yTick(y(t), shortNumber(t))));
  for (let e = Math.ceil(lo - 1e-9); e <= hi + 1e-9; e++) {
    parts.push(xTick(x(10 ** e), shortNumber(10 ** e)));
  }
  for (const b of bins) {
    if (b.count === 0) continue;
    const top = y(b.count);
    const label = `${shortNumber(b.lo)} to ${shortNumber(b.hi)}: ${b.count}`;
    const box = { x: fx(x(b.lo) + 0.5), y: fx(top), width: fx(Math.max(1, x(b.hi) - x(b.lo) - 1)) };
    parts.push(
      el(
        'rect',
        { ...box, height: fx(bottom - top), fill: COLORS[0]! },
        el('title', {}, esc(label)),
      ),
    );
  }
  (spec.markers ?? []).forEach((m, i) => {
    if (!(m.value > 0) || bins.length === 0) return;
    const mx = fx(Math.min(Math.max(x(m.value), PAD.left), PAD.left + PLOT_W));
    const color = COLORS[(i + 1) % COLORS.length]!;
    const line = { x1: mx, y1: PAD.top, x2: mx, y2: bottom, stroke: color };
    parts.push(el('line', { ...line, 'stroke-dasharray': '4 3', 'stroke-width': 2 }));
    parts.push(legend(i, `${m.label} ${shortNumber(m.value)}`, color));
  });
  return svgDocument(parts);
}

/**
 * One element: attribute values are escaped here; `body` is markup already built with `el`
 * or text already escaped with `escapeXml`.
 */
function el(name: string, attrs: Record<string, string | number>, body?: string): string {
  const list = Object.entries(attrs).map(([k, v]) => ` ${k}="${esc(String(v))}"`);
  return body === undefined
    ? `<${name}${list.join('')}/>`
    : `<${name}${list.join('')}>${body}</${name}>`;
}

const esc = escapeXml;

function svgDocument(parts: string[]): string {
  const root = {
    xmlns: 'http://www.w3.org/2000/svg',
    width: WIDTH,
    height: HEIGHT,
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    'font-family': 'sans-serif',
    'font-size': 12,
  };
  const background = el('rect', { x: 0, y: 0, width: WIDTH, height: HEIGHT, fill: '#ffffff' });
  const body = ['', background, ...parts, ''].join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n${el('svg', root, body)}\n`;
}

function frame(title: string, xLabel: string, yLabel: string): string {
  const bottom = PAD.top + PLOT_H;
  const middle = PAD.top + PLOT_H / 2;
  const axis = { stroke: '#333333' };
  return [
    el(
      'text',
      { x: WIDTH / 2, y: 24, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 'bold' },
      esc(title),
    ),
    el('line', { x1: PAD.left, y1: bottom, x2: PAD.left + PLOT_W, y2: bottom, ...axis }),
    el('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom, ...axis }),
    el('text', { x: PAD.left + PLOT_W / 2, y: HEIGHT - 14, 'text-anchor': 'middle' }, esc(xLabel)),
    el(
      'text',
      { x: 18, y: middle, 'text-anchor': 'middle', transform: `rotate(-90 18 ${middle})` },
      esc(yLabel),
    ),
  ].join('\n');
}

function xTick(px: number, label: string): string {
  const bottom = PAD.top + PLOT_H;
  return (
    el('line', { x1: fx(px), y1: bottom, x2: fx(px), y2: bottom + 5, stroke: '#333333' }) +
    el('text', { x: fx(px), y: bottom + 19, 'text-anchor': 'middle' }, esc(label))
  );
}

function yTick(py: number, label: string): string {
  return (
    el('line', { x1: PAD.left, y1: fx(py), x2: PAD.left + PLOT_W, y2: fx(py), stroke: '#e4e4e4' }) +
    el('text', { x: PAD.left - 8, y: fx(py + 4), 'text-anchor': 'end' }, esc(label))
  );
}

/** Legend entries sit in a row between the title and the plot, clear of the data. */
function legend(index: number, name: string, color: string): string {
  const ly = 44;
  const lx = PAD.left + index * 190;
  return (
    el('rect', { x: lx, y: ly - 10, width: 12, height: 12, fill: color }) +
    el('text', { x: lx + 18, y: ly }, esc(name))
  );
}

/** Coordinates with one decimal: enough for a screen, short in the file. */
function fx(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}
