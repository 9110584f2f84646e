// `npm run bench`: the same upstream reached directly and through single proxies and proxy pairs
// (HAProxy, nginx, Weft), measured in one run: throughput of the single proxies in a closed loop,
// latency against rate of the pairs in an open loop, and how soon a sidecar is ready; the goals are
// judged from these figures. Appended to docs/benchmarks.md with a chart (docs/bench/). Parameters
// are env vars (bench/params.ts, docs/benchmarks.md); bounded in time.
import { dirname, relative } from 'node:path';
import { stopAll, stopProcess } from '../test/harness/process.ts';
import { choosePlacement, pinProcess } from './cpu-pinning.ts';
import { goals } from './goals.ts';
import { latencyChart, writeChart } from './latency-chart.ts';
import { busyBeforeStart, describeMachine, measureCpuNoise } from './machine.ts';
import { roundCells } from './matrix.ts';
import { readParams } from './params.ts';
import { cpuCounters, stealPercent } from './proc-stats.ts';
import { measureReadiness, type Readiness } from './readiness.ts';
import { appendSection, renderSection } from './report.ts';
import { prewarm, runRounds, type RoundContext } from './rounds.ts';
import { startTargets } from './start-targets.ts';
import { startUpstream } from './upstream-process.ts';

const params = readParams();
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
const cellsPerRound = roundCells(params, 0).length;
const budgetS = 300 + params.targets.size * (params.prewarmSeconds + 10) + params.readyStarts * 15
  + 2 * params.repeats * cellsPerRound * (params.warmupSeconds + params.seconds + 10);
setTimeout(() => {
  console.error(`bench: still running after ${budgetS} s; stopping everything`);
  void cleanup().then(() => process.exit(1));
}, budgetS * 1000).unref();

const runStart = performance.now();
const log = (line: string): void => { process.stderr.write(`bench [${((performance.now() - runStart) / 1000).toFixed(0)} s]: ${line}\n`); };

async function main(): Promise<number> {
  const startedAt = performance.now();
  const machine = describeMachine();
  const notes: string[] = [];
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
  const started = await startTargets(params.targets, upstream.ready.port, placement, stops, log);
  if (aborted) return 130;

  const ctx: RoundContext = {
    params, targets: started.targets, loadCpus: placement.loadCpus, idlePriority: placement.pinned, aborted: () => aborted, log,
  };
  if (cellsPerRound > 0) await prewarm(ctx, [...started.targets.values()]);
  log(`${params.repeats} round(s) of ${cellsPerRound} measurements`);
  const samples = await runRounds(ctx);
  let readiness: Readiness | null = null;
  if (params.benchmarks.includes('readiness') && started.mesh && params.readyStarts > 0) {
    readiness = await measureReadiness(started.mesh, params.readyStarts, log).catch((err: Error) => {
      notes.push(`Readiness not measured: ${err.message.split('\n')[0]}`);
      return null;
    });
  }

  if (cellsPerRound > 0) notes.push(`Each path got ${params.prewarmSeconds} s of closed-loop traffic (not measured) before the first round, to warm up the Node.js processes.`);
  notes.push('HAProxy: one process per hop, `nbthread 1`, keep-alive both sides, `http-reuse always`; h2c on its own `bind … proto h2`. The mTLS pair: ECDSA P-256 certificates made with openssl at start, the client hop verifies the server\'s certificate and name, the server hop requires a client certificate. nginx: `worker_processes 1`, no master, upstream `keepalive`, h2c on `listen … http2`. Upstreams are HTTP/1.1 everywhere.');
  notes.push('Weft runs with retries (2 attempts on 5xx, connect-failure, refused-stream), outlier detection and Prometheus metrics on, plus the fault and CORS filters every sidecar HTTP listener has; "Weft" (single) is the upstream\'s sidecar of the plaintext pair, reached on its inbound port (codec AUTO: HTTP/1.1 or h2c by the preface). "(mTLS)": mesh-wide PeerAuthentication STRICT, the control plane\'s certificates over SDS.');
  if (params.targets.has('weft-c2')) notes.push(`"Weft --concurrency 2": a sidecar started with \`--concurrency 2\` in its own mesh, ${started.concurrencyPlacement}.`);
  notes.push(`A measurement whose steal time was above ${params.stealRetryPercent}%, or whose open-loop generator fell behind (lag p90 > 1 ms: another process took its CPU), was made again once ("retried").`);

  let chartLink: string | null = null;
  const svg = latencyChart(params, samples, `Latency vs rate, HTTP/1.1, 100 B (open loop, median of ${params.repeats} round(s)), ${machine.date}, commit ${machine.commit}`);
  if (svg && params.chart) {
    await writeChart(params.chart, svg);
    log(`wrote ${params.chart}`);
    if (params.output !== '-') chartLink = relative(dirname(params.output), params.chart);
  }
  const concurrencyUnavailable = started.failures.get('weft-c2') ?? null;
  const section = renderSection({
    machine, placement, noise, stealPercent: stealPercent(before, cpuCounters()), params, samples, readiness,
    goals: goals(samples, readiness, started.concurrencyPlacement, concurrencyUnavailable), failures: started.failures, notes, chartLink,
    minutes: (performance.now() - startedAt) / 60_000,
  });
  process.stdout.write(`\n${section}`);
  const incomplete = [...samples.values()].some((list) => list.some((s) => s.error))
    || [...started.failures.keys()].some((id) => id !== 'weft-c2');
  if (incomplete) {
    log(`some paths were not measured; not writing ${params.output}`);
    return 1;
  }
  if (params.output !== '-') {
    await appendSection(params.output, section);
    log(`appended to ${params.output}`);
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
