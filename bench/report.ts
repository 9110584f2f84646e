// Turns one run's figures into a dated markdown section (goals first), appended to docs/benchmarks.md.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bodyLabel } from './bodies.ts';
import type { Placement } from './cpu-pinning.ts';
import { fixed, int, kilo, ms, pct, signed, table } from './format.ts';
import type { Goal } from './goals.ts';
import type { CpuNoise, Machine } from './machine.ts';
import { cellKey, idsFor } from './matrix.ts';
import type { Params } from './params.ts';
import type { Readiness } from './readiness.ts';
import { generatorBehindMs, type Samples } from './rounds.ts';
import { added, summarize, type CellSummary } from './summary.ts';
import { targetNames, type TargetId } from './target.ts';

export interface Results {
  machine: Machine;
  placement: Placement;
  noise: CpuNoise[];
  stealPercent: number;
  params: Params;
  samples: Samples;
  goals: Goal[];
  readiness: Readiness | null;
  failures: Map<TargetId, string>;
  notes: string[];
  /** The chart's path relative to the results file, or null when none was written. */
  chartLink: string | null;
  minutes: number;
}

const range = (min: number, max: number): string => `${ms(min)}–${ms(max)}`;
const perProxy = (v: number[], f: (x: number) => string): string => (v.length ? v.map(f).join(' + ') : '-');

/** How the open loop went for the rate asked: whether the generator kept the schedule and the path kept up. */
export function rateNote(s: CellSummary, rate: number): string {
  const notes: string[] = [];
  if (s.lagP90 > generatorBehindMs) notes.push(`**generator behind** (lag p90 ${ms(s.lagP90)} ms)`);
  if (s.rps.median < 0.95 * rate || s.unfinished > 0) notes.push(`**path saturated** (${int(s.rps.median)} replies/s)`);
  return notes.length ? notes.join('; ') : 'kept';
}

function closedSection(r: Results): string {
  const rows: string[][] = [];
  for (const protocol of r.params.protocols) {
    for (const body of r.params.bodies) {
      for (const id of idsFor('closed', r.params.targets)) {
        const s = summarize(r.samples.get(cellKey({ kind: 'closed', target: id, protocol, body, rate: 0 })) ?? []);
        if (!s) continue;
        rows.push([targetNames[id], protocol === 'h2' ? 'HTTP/2' : 'HTTP/1.1', bodyLabel(body), int(s.rps.median), `${int(s.rps.min)}–${int(s.rps.max)}`,
          id === 'direct' ? '-' : kilo(s.perCore), id === 'direct' ? '-' : pct(100 * s.busy),
          id === 'direct' ? '-' : fixed((1000 * s.busy) / (s.rps.median / 1000), 1), ms(s.latency.p50.median), ms(s.latency.p99.median),
          id === 'direct' ? '-' : perProxy(s.rssMb, (v) => fixed(v, 1)), String(s.errors), pct(s.stealMax), String(s.retried)]);
      }
    }
  }
  const p = r.params;
  return `### Throughput of single proxies (closed loop)

${p.concurrency} connections (HTTP/1.1 keep-alive, or h2c sessions with one stream in flight each), each sending its next
request when the previous reply ends, ${p.seconds} s after ${p.warmupSeconds} s of warm-up; medians of ${p.repeats} round(s).
"per core" = req/s ÷ the proxy's CPU busy fraction (its CPU time over the window as a share of one core): a proxy well
under 100% busy was not the bottleneck (the load generator and the upstream sharing the other CPU were).
Latency is service time (from the actual send), in ms. Direct has no HTTP/2 row: the upstream speaks HTTP/1.1.

${table(['path', 'protocol', 'body', 'req/s', 'req/s min–max', 'req/s per core', 'proxy CPU busy', 'CPU ms/1k req', 'p50', 'p99', 'peak RSS MB', 'errors', 'steal max', 'retried'], rows)}`;
}

function openSection(r: Results): string {
  const rows: string[][] = [];
  for (const rate of r.params.rates) {
    const direct = r.samples.get(cellKey({ kind: 'open', target: 'direct', protocol: 'h1', body: 'small', rate })) ?? [];
    for (const id of idsFor('open', r.params.targets)) {
      const samples = r.samples.get(cellKey({ kind: 'open', target: id, protocol: 'h1', body: 'small', rate })) ?? [];
      const s = summarize(samples);
      if (!s) continue;
      const l = s.latency;
      const d = (k: 'p50' | 'p90' | 'p99') => (id === 'direct' ? '-' : signed(added(samples, direct, k)));
      rows.push([targetNames[id], String(rate), ms(l.p50.median), ms(l.p90.median), ms(l.p99.median), ms(l.p999.median),
        range(l.p50.min, l.p50.max), d('p50'), d('p90'), d('p99'), perProxy(s.vcpuPer1k, (v) => fixed(v, 3)),
        perProxy(s.rssMb, (v) => fixed(v, 1)), ms(s.lagP99), rateNote(s, rate), String(s.errors + s.unfinished), pct(s.stealMax), String(s.retried)]);
    }
  }
  const p = r.params;
  const chart = r.chartLink ? `\n\n![latency percentiles vs rate](${r.chartLink})` : '';
  return `### Latency vs rate (open loop)

HTTP/1.1, 100-byte replies; at each rate, request *i* is due at t0 + *i*/rate over a pool of ${p.pool} keep-alive connections,
${p.seconds} s after ${p.warmupSeconds} s of warm-up, and its latency counts from that moment (ms). Medians of ${p.repeats} round(s);
"p50 min–max" is the spread over rounds. "Δ": what the path adds over direct (path − direct in the same round, median over rounds).
"vCPU/1k rps": each proxy's CPU busy fraction per 1000 replies/s (client side first). "rate": whether the generator kept the
schedule (lag p90 ≤ 1 ms) and the path answered at ≥ 95% of the rate with nothing left unanswered.${chart}

${table(['path', 'rate', 'p50', 'p90', 'p99', 'p99.9', 'p50 min–max', 'Δp50', 'Δp90', 'Δp99', 'vCPU/1k rps per proxy', 'peak RSS MB per proxy', 'gen. lag p99', 'rate', 'errors', 'steal max', 'retried'], rows)}`;
}

function readinessSection(x: Readiness): string {
  return `### Readiness

A \`weft proxy\` (outbound only) started ${x.starts} times against the running control plane (its token made beforehand):
from the spawn to its ready line, median ${ms(x.readyLineMs)} ms; to the first request it forwarded with success
(polled every 2 ms), median ${ms(x.firstRequestMs)} ms. Each start (ready line / first request, ms):
${x.each.map((e) => `${ms(e.readyLineMs)} / ${ms(e.firstRequestMs)}`).join('; ')}.`;
}

function failures(r: Results): string {
  const lines = [...r.failures].map(([id, why]) => `- **${targetNames[id]}: not measured**: ${why}`);
  for (const [key, samples] of r.samples) {
    for (const s of samples) if (s.error) lines.push(`- **${key} (round ${s.round + 1})**: ${s.error}`);
  }
  return lines.length ? `### Not measured\n\n${lines.join('\n')}` : '';
}

export function renderSection(r: Results): string {
  const m = r.machine;
  const noise = r.noise.map((n) => `CPU ${n.cpu}: ${n.pausesPerSecond.toFixed(0)} pauses > 0.5 ms per second, longest ${ms(n.longestPauseMs)} ms`).join('; ');
  const parts = [
    `## ${m.date} (commit ${m.commit})`,
    `### Goals\n\n${table(['goal', 'measured', 'ratio', 'verdict'], r.goals.map((g) => [g.goal, g.measured, g.ratio, g.verdict]))}`,
    [
      `- Machine: ${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}; Node.js ${m.node}; HAProxy ${m.haproxy ?? 'not installed'}; nginx ${m.nginx ?? 'not installed'}`,
      `- Placement: ${r.placement.note}`,
      `- ${r.params.repeats} round(s), ${r.minutes.toFixed(1)} minutes in all; steal time over the whole run: ${pct(r.stealPercent)} of CPU time (/proc/stat); a spinning thread saw ${noise}`,
      ...r.notes.map((n) => `- ${n}`),
    ].join('\n'),
  ];
  if (r.params.benchmarks.includes('throughput')) parts.push(closedSection(r));
  if (r.params.benchmarks.includes('latency')) parts.push(openSection(r));
  if (r.readiness) parts.push(readinessSection(r.readiness));
  const notMeasured = failures(r);
  if (notMeasured) parts.push(notMeasured);
  return `${parts.join('\n\n')}\n`;
}

/** Appends a section to the results file (creating it with a title when it does not exist). */
export async function appendSection(path: string, section: string): Promise<void> {
  if (!existsSync(path)) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '# Benchmarks\n\nMeasured by `npm run bench`; each run appends a dated section below.\n');
  }
  await appendFile(path, `\n${section}`);
}
