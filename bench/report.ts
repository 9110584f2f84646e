// Turns measurements into a dated markdown section and appends it to docs/benchmarks.md.
import { existsSync } from 'node:fs';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Placement } from './cpu-pinning.ts';
import type { LoadSpec } from './load-spec.ts';
import type { CpuNoise, Machine } from './machine.ts';
import type { Measurement } from './measure.ts';

export interface Row { name: string; measurement: Measurement | null; error: string | null }
export interface Benchmark { spec: LoadSpec; rows: Row[] }

export interface Results {
  machine: Machine;
  placement: Placement;
  noise: CpuNoise[];
  stealPercent: number;
  latency: Benchmark | null;
  throughput: Benchmark | null;
  notes: string[];
}

const ms = (v: number): string => (Number.isNaN(v) ? '-' : v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const delta = (v: number, base: number): string => (Number.isNaN(v - base) ? '-' : `${v - base >= 0 ? '+' : '−'}${ms(Math.abs(v - base))}`);
const pct = (v: number): string => `${v.toFixed(1)}%`;

function table(header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

const errorsOf = (m: Measurement): string => String(m.load.errors + m.load.unfinished);
const proxyCpuMs = (m: Measurement): number => m.usage.processes.reduce((a, p) => a + p.cpuMs, 0);
const cpuPer1k = (m: Measurement): string => (m.usage.processes.length ? (proxyCpuMs(m) / (m.load.ok / 1000)).toFixed(1) : '-');
const peakRssMb = (m: Measurement): string =>
  (m.usage.processes.length ? m.usage.processes.map((p) => (p.peakRssKb / 1024).toFixed(1)).join(' + ') : '-');

function failed(rows: Row[]): string {
  const lines = rows.filter((r) => r.error).map((r) => `- **${r.name}: not measured**: ${r.error}`);
  return lines.length ? `\n\n${lines.join('\n')}` : '';
}

function latencySection(b: Benchmark): string {
  const base = b.rows.find((r) => r.name === 'direct')?.measurement?.load.latencyMs;
  const rows = b.rows.filter((r) => r.measurement).map(({ name, measurement: m }) => {
    const l = m!.load.latencyMs;
    return [name, ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p999), ms(l.max),
      base && name !== 'direct' ? delta(l.p50, base.p50) : '-', base && name !== 'direct' ? delta(l.p99, base.p99) : '-',
      `${m!.load.ok}`, errorsOf(m!), cpuPer1k(m!), ms(m!.load.scheduleLagMs?.p99 ?? NaN), pct(m!.usage.stealPercent)];
  });
  const s = b.spec;
  return `### Latency (open loop)

${s.rate} requests/s for ${s.seconds} s after ${s.warmupSeconds} s of warm-up, over a pool of ${s.connections} keep-alive
connections; each latency is counted from the request's intended send time (t0 + i/rate), in ms.
"Δ" columns: the same percentile minus direct's. "proxy CPU": user+system ms of the proxies on the path per
1000 requests. "gen. lag p99": how late the generator itself noticed requests were due (part of every latency).

${table(['path', 'p50', 'p90', 'p99', 'p99.9', 'max', 'Δp50', 'Δp99', 'ok', 'errors', 'proxy CPU ms/1k req', 'gen. lag p99', 'steal'], rows)}${failed(b.rows)}`;
}

function throughputSection(b: Benchmark): string {
  const base = b.rows.find((r) => r.name === 'direct')?.measurement;
  const rate = (m: Measurement): number => m.load.ok / m.load.seconds;
  const rows = b.rows.filter((r) => r.measurement).map(({ name, measurement: m }) => {
    const busy = m!.usage.processes.length ? pct((100 * proxyCpuMs(m!)) / m!.usage.wallMs) : '-';
    return [name, Math.round(rate(m!)).toLocaleString('en-US'), base ? pct((100 * rate(m!)) / rate(base)) : '-',
      ms(m!.load.latencyMs.p50), ms(m!.load.latencyMs.p99), errorsOf(m!), busy, cpuPer1k(m!), peakRssMb(m!), pct(m!.usage.stealPercent)];
  });
  const s = b.spec;
  return `### Throughput (closed loop)

${s.connections} keep-alive connections, each sending its next request when the previous reply ends, for ${s.seconds} s
after ${s.warmupSeconds} s of warm-up. "proxy CPU busy" is the proxy's CPU time over the window as a share of one
core: a proxy well under 100% was not the bottleneck (the load generator and the upstream were), so its req/s
is a lower bound and "CPU ms/1k req" is the figure to compare. Latency here is service time (from the actual send), in ms.

${table(['path', 'req/s', 'vs direct', 'p50', 'p99', 'errors', 'proxy CPU busy', 'proxy CPU ms/1k req', 'peak RSS MB', 'steal'], rows)}${failed(b.rows)}`;
}

export function renderSection(r: Results): string {
  const m = r.machine;
  const noise = r.noise.map((n) => `CPU ${n.cpu}: ${n.pausesPerSecond.toFixed(0)} pauses > 0.5 ms per second, longest ${ms(n.longestPauseMs)} ms`).join('; ');
  const parts = [
    `## ${m.date} (commit ${m.commit})`,
    [
      `- Machine: ${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}; Node.js ${m.node}; HAProxy ${m.haproxy ?? 'not installed'}`,
      `- Placement: ${r.placement.note}`,
      `- Steal time over the whole run: ${pct(r.stealPercent)} of CPU time (/proc/stat); a spinning thread saw ${noise}`,
      ...r.notes.map((n) => `- ${n}`),
    ].join('\n'),
  ];
  if (r.latency) parts.push(latencySection(r.latency));
  if (r.throughput) parts.push(throughputSection(r.throughput));
  return `${parts.join('\n\n')}\n`;
}

const intro = `# Benchmarks

Measured by \`npm run bench\` (\`bench/run.ts\`); each run appends a dated section below, newest last.
Never compare figures from different machines, and read every table next to its steal time and machine
noise: on a shared virtual machine a single run can be off by tens of percent.

**Run it**: \`npm run bench\` (about 1.5 minutes; needs \`haproxy\` on the PATH for the baseline, and
\`taskset\` for pinning). Parameters, all optional env vars:
- \`BENCH_SECONDS\` (10): measured seconds per path and benchmark; \`BENCH_WARMUP_SECONDS\` (2) before each;
  \`BENCH_PREWARM_SECONDS\` (3): closed-loop traffic through each path once, before anything is measured.
- \`BENCH_RATE\` (1000): open-loop requests/s; \`BENCH_POOL\` (50): open-loop connections;
  \`BENCH_CONCURRENCY\` (50): closed-loop connections.
- \`BENCH_ONLY\` (\`latency\` or \`throughput\`), \`BENCH_TARGETS\` (\`direct,haproxy,weft\`),
  \`BENCH_PIN\` (\`0\`: no pinning), \`BENCH_OUTPUT\` (file to append to; \`-\`: print only).

**What runs**: one upstream (node:http, 100-byte replies, its own process) reached directly, through
HAProxy (\`nbthread 1\`, HTTP mode, keep-alive, \`http-reuse always\`) and through Weft sidecars
(a control plane, a ServiceEntry, the upstream's sidecar and a client sidecar, started by the e2e harness).
The load generator is our own (\`bench/load-generator.ts\`, undici clients, one request in flight per
connection) in a separate process. With pinning, the proxies under test (both of a pair) run on CPU 1 and
everything else on CPU 0.

**How to read it**:
- *Latency* is an open loop at a fixed rate: request *i* is due at t0 + *i*/rate whether or not earlier
  ones have finished, and its latency counts from that moment, so a stall shows up in the high percentiles
  instead of being hidden (no coordinated omission). Paths with a proxy pair are two hops, as a call
  between two meshed workloads is. The Δ columns are what the proxies add over the direct call.
- *Throughput* is a closed loop at fixed concurrency against a single proxy. With pinning, each proxy has one
  CPU to itself while the load generator and the upstream share the other; so a proxy that is not near
  100% busy was not the limit, and its CPU per 1000 requests is the fairer comparison.
- Node.js timers have 1 ms resolution, so for the open loop the generator spins (\`setImmediate\`) between
  sends and (when pinned) runs under \`SCHED_IDLE\`, which lets the upstream sharing its CPU preempt it at once. How late
  it noticed that requests were due is in "gen. lag p99": that delay is inside every latency figure.
- The machine line says how often a spinning thread lost its CPU for more than 0.5 ms; on a virtual machine
  this noise, not the proxies, decides p99.9 and max, and often p99. Compare p50/p90 first, and repeat a run
  before believing a difference in the tail.
- Proxy CPU is user + system time from /proc/PID/stat over the measured window; peak RSS is VmRSS from
  /proc/PID/status sampled every 100 ms during it.
`;

/** Appends a section to the results file, creating it with the introduction first. */
export async function appendSection(path: string, section: string): Promise<void> {
  if (!existsSync(path)) {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, intro);
  }
  await appendFile(path, `\n${section}`);
}
