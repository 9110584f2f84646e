// `npm run bench`: latency (open loop, fixed rate) and throughput (closed loop, fixed concurrency) of
// the same upstream reached directly, through HAProxy and through Weft sidecars, measured in one run and
// appended to docs/benchmarks.md. Parameters are env vars (see docs/benchmarks.md); bounded in time.
import { join } from 'node:path';
import { repoRoot } from '../test/harness/mesh.ts';
import { stopAll, stopProcess } from '../test/harness/process.ts';
import { choosePlacement, pinProcess } from './cpu-pinning.ts';
import type { LoadSpec } from './load-spec.ts';
import { busyBeforeStart, describeMachine, measureCpuNoise } from './machine.ts';
import { measure } from './measure.ts';
import { cpuCounters, stealPercent } from './proc-stats.ts';
import { appendSection, renderSection, type Benchmark, type Results, type Row } from './report.ts';
import { direct, startHaproxy, startUpstream, startWeft, type Target, type Topology } from './topologies.ts';
import { startCollector } from './collector.ts';

function num(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

const seconds = num('BENCH_SECONDS', 10);
const warmupSeconds = num('BENCH_WARMUP_SECONDS', 2);
const prewarmSeconds = num('BENCH_PREWARM_SECONDS', 3);
const rate = num('BENCH_RATE', 1000);
const pool = Math.round(num('BENCH_POOL', 50));
const concurrency = Math.round(num('BENCH_CONCURRENCY', 50));
const only = process.env.BENCH_ONLY ?? '';
if (!['', 'latency', 'throughput'].includes(only)) throw new Error(`BENCH_ONLY must be latency or throughput, got ${JSON.stringify(only)}`);
const wanted = new Set((process.env.BENCH_TARGETS || 'direct,haproxy,weft').split(',').map((s) => s.trim()));
for (const t of wanted) if (!['direct', 'haproxy', 'weft'].includes(t)) throw new Error(`BENCH_TARGETS: unknown target ${t}`);
const output = process.env.BENCH_OUTPUT ?? join(repoRoot, 'docs/benchmarks.md');
const benchmarks = only ? [only] : ['latency', 'throughput'];

const placement = choosePlacement();
// This process (mostly idle: it samples /proc) stays off the proxies' CPU too.
pinProcess(process.pid, placement.loadCpus);
const stops: (() => Promise<void>)[] = [];
let aborted = false;
async function cleanup(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch((err) => console.error(`bench: cleanup: ${err.message}`));
  await stopAll();
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    aborted = true;
    void cleanup().then(() => process.exit(130));
  });
}
// Every wait below has its own deadline; this one bounds the whole run should something still hang.
const budgetS = 120 + wanted.size * (prewarmSeconds + 10) + benchmarks.length * wanted.size * (warmupSeconds + seconds + 15);
setTimeout(() => {
  console.error(`bench: still running after ${budgetS} s; stopping everything`);
  void cleanup().then(() => process.exit(1));
}, budgetS * 1000).unref();

const log = (line: string): void => { process.stderr.write(`bench: ${line}\n`); };

async function start(name: string, starter: () => Promise<Topology>, failures: Map<string, string>): Promise<Topology | null> {
  log(`starting ${name}`);
  try {
    const topology = await starter();
    stops.push(topology.stop);
    if (aborted) await cleanup();
    return topology;
  } catch (err) {
    failures.set(name, (err as Error).message.split('\n')[0]);
    log(`${name} did not start: ${(err as Error).message}`);
    return null;
  }
}

async function run(spec: Omit<LoadSpec, 'origin' | 'host'>, targets: (Target | string)[]): Promise<Benchmark> {
  const rows: Row[] = [];
  for (const target of targets) {
    if (aborted) throw new Error('interrupted');
    if (typeof target === 'string') { rows.push({ name: target, measurement: null, error: 'did not start (see the notes)' }); continue; }
    log(`${spec.mode === 'open' ? 'latency' : 'throughput'}: ${target.name}`);
    try {
      const measurement = await measure({ ...spec, origin: `http://127.0.0.1:${target.port}`, host: target.host }, target.proxyPids);
      rows.push({ name: target.name, measurement, error: null });
    } catch (err) {
      log(`${target.name}: ${(err as Error).message}`);
      rows.push({ name: target.name, measurement: null, error: (err as Error).message.split('\n')[0] });
    }
  }
  return { spec: { ...spec, origin: '', host: '' }, rows };
}

/**
 * Closed-loop traffic through every path before anything is measured, so that the Node.js processes
 * on it (upstream, sidecars) have compiled their hot code and grown their heaps: without it, whichever
 * path is measured first carries the upstream's warm-up in its tail.
 */
async function prewarm(targets: Target[]): Promise<void> {
  for (const target of targets) {
    if (aborted) throw new Error('interrupted');
    log(`warming up: ${target.name}`);
    await measure({
      mode: 'closed', origin: `http://127.0.0.1:${target.port}`, host: target.host, path: '/', connections: concurrency, rate: 0,
      warmupSeconds: 0.5, seconds: prewarmSeconds, spinMs: 0, timeoutMs: 5000, cpus: placement.loadCpus, idlePriority: false,
    }, []).catch((err: Error) => log(`warming up ${target.name}: ${err.message}`));
  }
}

async function main(): Promise<number> {
  const machine = describeMachine();
  const notes: string[] = [];
  const failures = new Map<string, string>();
  const busy = await busyBeforeStart(1000);
  if (busy > 5) {
    notes.push(`**The machine was ${busy.toFixed(0)}% busy before the run started**: something else was running; do not trust these figures.`);
    log(`warning: the machine is ${busy.toFixed(0)}% busy before anything started (another benchmark or test run?)`);
  }
  log(`${placement.note}; measuring machine noise`);
  const noise = await measureCpuNoise(placement.pinned ? [placement.loadCpus!, placement.proxyCpus!] : [''], 1000);
  const before = cpuCounters();
  const upstream = await startUpstream(placement);
  stops.push(() => stopProcess(upstream));

  let haproxy: Topology | null = null;
  if (wanted.has('haproxy')) {
    if (machine.haproxy === null) notes.push('HAProxy is not installed: its rows are missing (apt-get install haproxy).');
    else haproxy = await start('HAProxy', () => startHaproxy(upstream.ready.port, placement), failures);
  }
  const weft = wanted.has('weft') ? await start('Weft', () => startWeft(upstream.ready.port, placement), failures) : null;
  const weftMtls = wanted.has('weft') ? await start('Weft (mTLS)', () => startWeft(upstream.ready.port, placement, { mtls: true }), failures) : null;
  // The cost of telemetry: the same pair with Istio's metrics off, and with metrics plus 1% tracing.
  const collector = wanted.has('weft') ? await startCollector() : null;
  if (collector) stops.push(() => collector.close());
  const weftBare = wanted.has('weft') ? await start('Weft (no telemetry)', () => startWeft(upstream.ready.port, placement, { telemetry: 'none' }), failures) : null;
  const weftTraced = collector ? await start('Weft (metrics + 1% tracing)', () => startWeft(upstream.ready.port, placement, { telemetry: 'tracing', collectorPort: collector.port }), failures) : null;
  for (const [name, reason] of failures) notes.push(`${name} did not start: ${reason}`);

  const directTargets = wanted.has('direct') ? [direct(upstream.ready.port)] : [];
  // A pair's traffic goes through its single proxy too, so warming the pairs warms every proxy.
  await prewarm([...directTargets, ...[haproxy, weft, weftMtls, weftBare, weftTraced].filter((t) => t !== null).map((t) => t.pair)]);
  notes.push('Weft runs with retries (VirtualService retries: 2 attempts on 5xx, connect-failure, refused-stream), outlier detection (DestinationRule consecutive5xxErrors 5) and Prometheus metrics on, plus the fault and CORS filters every sidecar HTTP listener has.');
  notes.push('Telemetry: every Weft pair reports Istio\'s standard metrics (on by default) unless named "(no telemetry)" (a Telemetry disabling ALL_METRICS); "(metrics + 1% tracing)" also samples 1% of requests into spans exported over OTLP/HTTP to a sink on CPU 0.');
  notes.push('"Weft sidecar pair" runs with mesh-wide PeerAuthentication DISABLE (plaintext between the sidecars); "Weft sidecar pair (mTLS)" with STRICT: mutual TLS with the control plane\'s certificates over SDS, the client verifying the server\'s SPIFFE identity.');
  notes.push(`Before any measurement each path got ${prewarmSeconds} s of closed-loop traffic (not measured) to warm up the Node.js processes.`);

  const pick = (name: string, topology: Topology | null, which: 'pair' | 'single'): (Target | string)[] =>
    topology ? [topology[which]] : failures.has(name) ? [name] : [];
  const common = { path: '/', warmupSeconds, seconds, timeoutMs: 5000, cpus: placement.loadCpus };
  const latency = benchmarks.includes('latency')
    ? await run({ ...common, mode: 'open', rate, connections: pool, spinMs: num('BENCH_SPIN_MS', 2), idlePriority: placement.pinned },
      [...directTargets, ...pick('HAProxy', haproxy, 'pair'), ...pick('Weft', weft, 'pair'), ...pick('Weft (mTLS)', weftMtls, 'pair'),
        ...pick('Weft (no telemetry)', weftBare, 'pair'), ...pick('Weft (metrics + 1% tracing)', weftTraced, 'pair')])
    : null;
  const throughput = benchmarks.includes('throughput')
    ? await run({ ...common, mode: 'closed', rate: 0, connections: concurrency, spinMs: 0, idlePriority: false },
      [...directTargets, ...pick('HAProxy', haproxy, 'single'), ...pick('Weft', weft, 'single')])
    : null;

  const results: Results = { machine, placement, noise, stealPercent: stealPercent(before, cpuCounters()), latency, throughput, notes };
  const section = renderSection(results);
  process.stdout.write(`\n${section}`);
  const incomplete = [latency, throughput].some((b) => b?.rows.some((r) => r.error));
  if (incomplete) {
    log(`some paths were not measured; not writing ${output}`);
    return 1;
  }
  if (output !== '-') {
    await appendSection(output, section);
    log(`appended to ${output}`);
  }
  return 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(err);
} finally {
  await cleanup();
}
process.exit(code);
