// The chart of the open loop: latency percentiles (p50, p90, p99; one panel each, log scale) against
// the rate, one line per path (medians over the rounds), written as SVG.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { cellKey, idsFor } from './matrix.ts';
import type { Params } from './params.ts';
import type { Samples } from './rounds.ts';
import { summarize } from './summary.ts';
import { el, polyline, svgDocument, text } from './svg.ts';
import { targetNames, type TargetId } from './target.ts';

const styles: Partial<Record<TargetId, { color: string; dash: string }>> = {
  'direct': { color: '#777777', dash: '2 3' },
  'haproxy-pair': { color: '#1f77b4', dash: '6 4' },
  'haproxy-pair-mtls': { color: '#1f77b4', dash: '' },
  'weft-pair': { color: '#e6550d', dash: '6 4' },
  'weft-pair-mtls': { color: '#e6550d', dash: '' },
  'weft-pair-bare': { color: '#31a354', dash: '6 4' },
  'weft-pair-tracing': { color: '#756bb1', dash: '6 4' },
};

const percentiles = [['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99']] as const;
const ticks = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

interface Series { id: TargetId; points: { rate: number; values: Record<'p50' | 'p90' | 'p99', number> }[] }

export function latencyChart(params: Params, samples: Samples, title: string): string | null {
  const series: Series[] = [];
  for (const id of idsFor('open', params.targets)) {
    const points = params.rates.flatMap((rate) => {
      const s = summarize(samples.get(cellKey({ kind: 'open', target: id, protocol: 'h1', body: 'small', rate })) ?? []);
      return s ? [{ rate, values: { p50: s.latency.p50.median, p90: s.latency.p90.median, p99: s.latency.p99.median } }] : [];
    });
    if (points.length) series.push({ id, points });
  }
  if (series.length === 0) return null;
  const all = series.flatMap((s) => s.points.flatMap((p) => [p.values.p50, p.values.p90, p.values.p99])).filter((v) => v > 0);
  const lo = Math.max(...ticks.filter((t) => t <= Math.min(...all)), ticks[0]);
  const hi = Math.min(...ticks.filter((t) => t >= Math.max(...all)), ticks[ticks.length - 1]);
  const rates = [...params.rates].sort((a, b) => a - b);
  const [pw, ph, left, top, gap] = [280, 240, 50, 50, 50];
  const width = left + 3 * pw + 2 * gap + 20;
  const legendTop = top + ph + 45;
  const height = legendTop + 20 * Math.ceil(series.length / 3) + 10;
  const y = (v: number): number => top + ph - (ph * (Math.log(Math.max(v, lo)) - Math.log(lo))) / (Math.log(hi) - Math.log(lo));
  const lr = rates.map((r) => Math.log(r));
  const span = lr[lr.length - 1] - lr[0] || 1;
  const x = (panel: number, rate: number): number => left + panel * (pw + gap) + 10 + ((pw - 20) * (Math.log(rate) - lr[0])) / span;
  const parts: string[] = [text(left, 20, title, { 'font-size': 13, 'font-weight': 'bold' })];
  percentiles.forEach(([key, label], panel) => {
    const x0 = left + panel * (pw + gap);
    parts.push(el('rect', { x: x0, y: top, width: pw, height: ph, fill: 'none', stroke: '#cccccc' }));
    parts.push(text(x0 + pw / 2, top - 8, `${label} latency (ms, log scale)`, { 'text-anchor': 'middle', 'font-weight': 'bold' }));
    for (const t of ticks.filter((v) => v >= lo && v <= hi)) {
      parts.push(el('line', { x1: x0, x2: x0 + pw, y1: y(t), y2: y(t), stroke: '#eeeeee' }));
      parts.push(text(x0 - 4, y(t) + 4, String(t), { 'text-anchor': 'end', fill: '#555555' }));
    }
    for (const r of rates) parts.push(text(x(panel, r), top + ph + 15, String(r), { 'text-anchor': 'middle', fill: '#555555' }));
    parts.push(text(x0 + pw / 2, top + ph + 30, 'requests/s', { 'text-anchor': 'middle', fill: '#555555' }));
    for (const s of series) {
      const style = styles[s.id] ?? { color: '#000000', dash: '' };
      const pts = s.points.map((p) => [x(panel, p.rate), y(p.values[key])] as [number, number]);
      parts.push(polyline(pts, { stroke: style.color, 'stroke-width': 2, ...(style.dash ? { 'stroke-dasharray': style.dash } : {}) }));
      for (const [px, py] of pts) parts.push(el('circle', { cx: px, cy: py, r: 2.5, fill: style.color }));
    }
  });
  series.forEach((s, i) => {
    const style = styles[s.id] ?? { color: '#000000', dash: '' };
    const lx = left + (i % 3) * (pw + gap);
    const ly = legendTop + 20 * Math.floor(i / 3);
    parts.push(el('line', { x1: lx, x2: lx + 30, y1: ly, y2: ly, stroke: style.color, 'stroke-width': 2, ...(style.dash ? { 'stroke-dasharray': style.dash } : {}) }));
    parts.push(text(lx + 36, ly + 4, targetNames[s.id]));
  });
  return svgDocument(width, height, ...parts);
}

export async function writeChart(path: string, svg: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, svg);
}
