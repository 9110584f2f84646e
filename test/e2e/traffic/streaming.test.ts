// Streaming with backpressure: 1 GiB uploaded and 1 GiB downloaded through two sidecars, while the
// sidecars' resident memory stays flat (sampled from /proc every 50 ms during the transfer).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, type Client, type Workload } from './scenario.ts';

const GiB = 1024 ** 3;
/** How much a sidecar's resident memory may grow while 1 GiB passes through it. */
const allowedGrowth = 96 * 1024 ** 2;

let s: Scenario;
let client: Client;
let server: Workload;

function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Runs `transfer` while sampling both sidecars' RSS; returns each one's growth over its starting RSS. */
async function measure(transfer: () => Promise<void>): Promise<number[]> {
  const pids = [client.proxy.pid, server.proxy.pid];
  const start = pids.map(rss);
  const peak = [...start];
  const timer = setInterval(() => pids.forEach((pid, i) => { peak[i] = Math.max(peak[i], rss(pid)); }), 50);
  try {
    await transfer();
  } finally {
    clearInterval(timer);
  }
  return peak.map((p, i) => p - start[i]);
}

function chunks(total: number): Readable {
  const chunk = Buffer.alloc(256 * 1024, 0x62);
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) { this.push(null); return; }
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  server = await s.workload({ service: 'web' });
  client = await s.client();
  await waitFor('the route to web', async () => (await httpCall(client.outboundPort, '/', { host: 'web:8080' })).status === 200);
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

test('a 1 GiB upload through two sidecars arrives whole while their memory stays flat', async () => {
  let answer = '';
  const growth = await measure(() => new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: client.outboundPort, method: 'POST', path: '/upload', headers: { host: 'web:8080', 'content-length': GiB } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => (answer += c));
      res.on('end', resolve);
    });
    req.on('error', reject);
    chunks(GiB).pipe(req);
  }));
  assert.equal(JSON.parse(answer).bytes, GiB);
  for (const g of growth) assert.ok(g < allowedGrowth, `sidecar memory grew by ${Math.round(g / 1024 ** 2)} MiB`);
});

test('a 1 GiB download through two sidecars arrives whole while their memory stays flat', async () => {
  let received = 0;
  const growth = await measure(() => new Promise<void>((resolve, reject) => {
    request({ host: '127.0.0.1', port: client.outboundPort, path: `/download?bytes=${GiB}`, headers: { host: 'web:8080' } }, (res) => {
      res.on('data', (c: Buffer) => (received += c.length));
      res.on('end', resolve);
      res.on('error', reject);
    }).on('error', reject).end();
  }));
  assert.equal(received, GiB);
  for (const g of growth) assert.ok(g < allowedGrowth, `sidecar memory grew by ${Math.round(g / 1024 ** 2)} MiB`);
});
