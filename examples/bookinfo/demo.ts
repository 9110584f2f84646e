// `npm run demo`: a control plane, bookinfo (productpage -> details v1 and reviews v1/v2/v3 -> ratings)
// with a sidecar next to each app, live traffic, and a weighted VirtualService that shifts it.
//   phase 1: reviews 50% v1 / 50% v2     phase 2: reviews 0% v1 / 100% v2
// A phase ends on a keypress (in a terminal) or after DEMO_PHASE_SECONDS (default 10).
// Ctrl-C stops every process the demo started.
import { Agent } from 'node:http';
import { Mesh } from '../../test/harness/mesh.ts';
import { stopAll, waitFor } from '../../test/harness/process.ts';
import { callProductpage } from './client.ts';
import { reviewsSplit } from './reviews-split.ts';
import { startBookinfo } from './topology.ts';

const phaseSeconds = Number(process.env.DEMO_PHASE_SECONDS ?? 10);
const concurrency = Number(process.env.DEMO_CONCURRENCY ?? 4);
const interactive = process.stdin.isTTY === true;

interface Sample { version: string; ms: number; ok: boolean }

const out = (s: string) => process.stdout.write(s);
let stopping = false;

async function main(): Promise<void> {
  out('Starting the Weft control plane...\n');
  const mesh = await Mesh.start({ demo: true, echo: process.env.DEMO_VERBOSE === '1' });
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    out('\nStopping every process the demo started...\n');
    await mesh.stop();
    await stopAll();
    out('Done.\n');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    out(`  control plane: xDS on 127.0.0.1:${mesh.xdsPort}, admin API on ${mesh.server}\n`);
    out('Starting bookinfo: productpage, details v1, reviews v1/v2/v3, ratings, each behind its own sidecar...\n');
    const bookinfo = await startBookinfo(mesh, ['v1', 'v2', 'v3'], reviewsSplit(50, 50), { detailsVersions: ['v1'] });
    const entryPort = bookinfo.productpage.proxy.ready.inbound[0].port;
    for (const w of [bookinfo.productpage, ...bookinfo.details, ...bookinfo.reviews, bookinfo.ratings]) {
      out(`  ${`${w.name} ${w.version}`.padEnd(16)} app :${w.app.ready.port}  sidecar inbound :${w.proxy.ready.inbound[0].port}  outbound :${w.proxy.ready.outboundPort}  admin :${w.proxy.ready.adminPort}\n`);
    }
    await waitFor('traffic through the mesh', async () => (await get(entryPort)).ok, 10_000);
    out(`\nweft apply: reviews 50% v1 / 50% v2. Traffic: ${concurrency} clients -> productpage sidecar :${entryPort}\n`);
    await runPhase(entryPort, 'phase 1: 50/50');
    out('\nweft apply: reviews 0% v1 / 100% v2\n');
    await mesh.apply(reviewsSplit(0, 100));
    await runPhase(entryPort, 'phase 2: 0/100');
    const status = await mesh.weft(['proxy-status']);
    out(`\nweft proxy-status\n${status.stdout}`);
  } catch (err) {
    out(`demo failed: ${(err as Error).message}\n`);
    await shutdown(1);
  }
  await shutdown(0);
}

const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

async function get(port: number): Promise<Sample> {
  const o = await callProductpage(port, agent);
  return { version: o.version, ms: o.ms, ok: o.status === 200 };
}

async function runPhase(port: number, title: string): Promise<void> {
  let samples: Sample[] = [];
  let running = true;
  const total = { n: 0, failed: 0, byVersion: new Map<string, number>() };
  const workers = Array.from({ length: concurrency }, async () => {
    while (running && !stopping) {
      const s = await get(port);
      samples.push(s);
      total.n++;
      if (!s.ok) total.failed++;
      total.byVersion.set(s.version, (total.byVersion.get(s.version) ?? 0) + 1);
      await new Promise((r) => setTimeout(r, 10));
    }
  });
  out(`\n${title}${interactive ? ' (press Enter for the next phase)' : ''}\n`);
  out('  time   req/s   v1     v2     v3     errors   p50 ms   p99 ms\n');
  const started = Date.now();
  const ticker = setInterval(() => {
    const window = samples;
    samples = [];
    const count = (v: string) => window.filter((s) => s.version === v).length;
    const pct = (v: string) => (window.length ? `${Math.round((100 * count(v)) / window.length)}%` : '-').padStart(4);
    const ms = window.map((s) => s.ms).sort((a, b) => a - b);
    const q = (p: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1) : '-').padStart(7);
    out(`  ${String(Math.round((Date.now() - started) / 1000)).padStart(3)}s  ${String(window.length).padStart(6)}  ${pct('v1')}   ${pct('v2')}   ${pct('v3')}   ${String(window.filter((s) => !s.ok).length).padStart(6)}  ${q(0.5)}  ${q(0.99)}\n`);
  }, 1000);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, phaseSeconds * 1000);
    if (interactive) {
      process.stdin.resume();
      process.stdin.once('data', () => { clearTimeout(timer); process.stdin.pause(); resolve(); });
    }
  });
  running = false;
  clearInterval(ticker);
  await Promise.all(workers);
  const share = [...total.byVersion.entries()].map(([v, n]) => `${v} ${Math.round((100 * n) / total.n)}%`).join(', ');
  out(`  ${title}: ${total.n} requests, ${total.failed} failed; ${share}\n`);
}

await main();
