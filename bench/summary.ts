// The figures of one cell over the rounds: the median of each (and the spread of the main one).
// Latency added by a path is computed within a round (path − direct measured in the same round, a
// few seconds apart), then the median over rounds is taken.
import type { Percentiles } from './latency-recorder.ts';
import type { Measurement } from './measure.ts';
import type { Sample } from './rounds.ts';

export function median(values: number[]): number {
  const v = values.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

export interface Spread { median: number; min: number; max: number }

export function spread(values: number[]): Spread {
  const v = values.filter((x) => !Number.isNaN(x));
  return { median: median(v), min: v.length ? Math.min(...v) : NaN, max: v.length ? Math.max(...v) : NaN };
}

/** Replies per second over the measured window. */
export const replyRate = (m: Measurement): number => m.load.ok / m.load.seconds;
/** CPU busy fraction of each proxy (1 = one core) over the window. */
export const busyOf = (m: Measurement): number[] => m.usage.processes.map((p) => p.cpuMs / m.usage.wallMs);
const sum = (v: number[]): number => v.reduce((a, b) => a + b, 0);

export interface CellSummary {
  rounds: number;
  retried: number;
  errors: number;
  /** Highest steal time of a kept measurement, percent. */
  stealMax: number;
  rps: Spread;
  latency: Record<keyof Omit<Percentiles, 'count' | 'mean'>, Spread>;
  /** All proxies on the path together, as a share of one core. */
  busy: number;
  /** Requests per second per core of proxy CPU: rps ÷ busy. */
  perCore: number;
  /** Per proxy: vCPU per 1000 requests/s (busy fraction ÷ (rps / 1000)). */
  vcpuPer1k: number[];
  /** Per proxy: the median over rounds of its peak VmRSS in MB, and the highest peak of any round. */
  rssMb: number[];
  rssMbMax: number[];
  /** Generator: how late it noticed requests were due, p90 and p99 (open loop). */
  lagP90: number;
  lagP99: number;
  /** Requests with no reply when the run stopped waiting (open loop). */
  unfinished: number;
}

export function summarize(samples: Sample[]): CellSummary | null {
  const ms = samples.map((s) => s.measurement).filter((m): m is Measurement => m !== null);
  if (ms.length === 0) return null;
  const proxies = ms[0].usage.processes.length;
  const per = (f: (m: Measurement, i: number) => number): number[] =>
    Array.from({ length: proxies }, (_, i) => median(ms.map((m) => f(m, i))));
  const pct = (k: keyof CellSummary['latency']): Spread => spread(ms.map((m) => m.load.latencyMs[k]));
  const busy = median(ms.map((m) => sum(busyOf(m))));
  const rps = spread(ms.map(replyRate));
  return {
    rounds: ms.length,
    retried: samples.filter((s) => s.retried).length,
    errors: sum(ms.map((m) => m.load.errors)),
    unfinished: sum(ms.map((m) => m.load.unfinished)),
    stealMax: Math.max(...ms.map((m) => m.usage.stealPercent)),
    rps,
    latency: { p50: pct('p50'), p90: pct('p90'), p99: pct('p99'), p999: pct('p999'), max: pct('max') },
    busy,
    perCore: proxies ? median(ms.map((m) => replyRate(m) / sum(busyOf(m)))) : NaN,
    vcpuPer1k: per((m, i) => busyOf(m)[i] / (replyRate(m) / 1000)),
    rssMb: per((m, i) => m.usage.processes[i].peakRssKb / 1024),
    rssMbMax: Array.from({ length: proxies }, (_, i) => Math.max(...ms.map((m) => m.usage.processes[i].peakRssKb / 1024))),
    lagP90: median(ms.map((m) => m.load.scheduleLagMs?.p90 ?? NaN)),
    lagP99: median(ms.map((m) => m.load.scheduleLagMs?.p99 ?? NaN)),
  };
}

/** Median over rounds of (path's percentile − direct's percentile in the same round). */
export function added(path: Sample[], direct: Sample[], k: 'p50' | 'p90' | 'p99' | 'p999'): number {
  const diffs: number[] = [];
  for (const s of path) {
    const d = direct.find((x) => x.round === s.round);
    if (s.measurement && d?.measurement) diffs.push(s.measurement.load.latencyMs[k] - d.measurement.load.latencyMs[k]);
  }
  return median(diffs);
}
