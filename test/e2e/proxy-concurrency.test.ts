// `weft proxy --concurrency 2` in a real mesh: a client sidecar and a workload sidecar each run two
// data-plane workers sharing their listener ports. Both workers take connections on the outbound and
// the inbound side, a VirtualService change reaches every worker, the metrics served are the sum over
// the workers, and SIGTERM drains and exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { assertNoLeakedProcesses, waitFor, type ManagedProcess } from '../harness/process.ts';
import { weftBin, type ProxyReady } from '../harness/mesh.ts';
import { Scenario, backendScript, httpCall, requests, tally, type Workload } from './traffic/scenario.ts';

let s: Scenario;
let client: ManagedProcess<ProxyReady>;
let v1: { proxy: ManagedProcess<ProxyReady>; inboundPort: number };
let v2: Workload;

const routeAllTo = (subset: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: web }
spec:
  host: web
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: [web]
  http:
  - route: [{ destination: { host: web, subset: ${subset} } }]
`;

/** `n` requests through the client sidecar, each on its own connection (httpCall uses no agent). */
const viaClient = (n: number) => requests(n, 8, () => httpCall(client.ready.outboundPort!, '/', { host: 'web:8080' }));

async function stats(adminPort: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`)).text();
}

/** Connections each worker accepted (weft_worker_downstream_cx_total by worker). */
async function perWorker(adminPort: number): Promise<number[]> {
  const text = await stats(adminPort);
  return [0, 1].map((w) => Number(new RegExp(`^weft_worker_downstream_cx_total\\{worker="${w}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN));
}

/** The sum of a metric's samples whose labels contain every `must` fragment. */
async function sum(adminPort: number, name: string, must: string[]): Promise<number> {
  let total = 0;
  for (const line of (await stats(adminPort)).split('\n')) {
    if (line.startsWith(`${name}{`) && must.every((m) => line.includes(m))) total += Number(line.split(' ').pop());
  }
  return total;
}

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.mesh.apply(routeAllTo('v1'));
  const app = await s.mesh.startApp('app web-v1', backendScript, ['--name', 'web', '--version', 'v1']);
  const proxy = await s.mesh.startProxy({
    name: 'web-v1', labels: { app: 'web', version: 'v1' }, inbound: [{ servicePort: 8080, appPort: app.ready.port }], outbound: false,
    extraArgs: ['--concurrency', '2'],
  });
  v1 = { proxy, inboundPort: proxy.ready.inbound[0].port };
  v2 = await s.workload({ service: 'web', version: 'v2' });
  client = await s.mesh.startProxy({ name: 'client', labels: { app: 'client' }, extraArgs: ['--concurrency', '2'] });
});

after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

test('a --concurrency 2 sidecar serves its outbound and inbound ports, and both workers take connections', async () => {
  await waitFor('web v1 answering through the client sidecar', async () => tally(await viaClient(10))['web-v1'] === 10);
  assert.deepEqual(tally(await viaClient(40)), { 'web-v1': 40 });
  const out = await perWorker(client.ready.adminPort);
  assert.ok(out.every((n) => n > 0), `both outbound workers accepted connections: ${JSON.stringify(out)}`);
  const info = await (await fetch(`http://127.0.0.1:${client.ready.adminPort}/server_info`)).json() as { concurrency: number; workers: { downstreamCxTotal: number }[] };
  assert.equal(info.concurrency, 2);
  assert.deepEqual(info.workers.map((w) => w.downstreamCxTotal), out);

  // The workload side: plaintext straight to the inbound port (PERMISSIVE), each on a new connection.
  const inbound = await requests(40, 8, () => httpCall(v1.inboundPort, '/', { host: 'web:8080' }));
  assert.deepEqual(tally(inbound), { 'web-v1': 40 });
  const in_ = await perWorker(v1.proxy.ready.adminPort);
  assert.ok(in_.every((n) => n > 0), `both inbound workers accepted connections: ${JSON.stringify(in_)}`);
});

test('a VirtualService change reaches every worker: once accepted, every connection sees the new route', async () => {
  const before = await perWorker(client.ready.adminPort);
  await s.mesh.apply(routeAllTo('v2'));
  // The main thread ACKs (and shows in config_dump) a route only once every worker applied it.
  await waitFor('the v2 route in the client sidecar\'s config', async () => {
    const dump = await (await fetch(`http://127.0.0.1:${client.ready.adminPort}/config_dump`)).json() as { configs: { routes: unknown } };
    const routes = JSON.stringify(dump.configs.routes);
    return routes.includes('outbound|8080|v2|web.default.svc.cluster.local') && !routes.includes('outbound|8080|v1|web.default.svc.cluster.local');
  }, 20_000);
  assert.deepEqual(tally(await viaClient(60)), { 'web-v2': 60 });
  const now = await perWorker(client.ready.adminPort);
  assert.ok(now.every((n, i) => n > before[i]), `both workers served after the change: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
  assert.ok(await v2.served() >= 60);
});

test('istio_requests_total on /stats/prometheus is the sum over the workers', async () => {
  const source = ['reporter="source"', 'destination_workload="web-v2'];
  const before = await sum(client.ready.adminPort, 'istio_requests_total', source);
  const perBefore = await perWorker(client.ready.adminPort);
  assert.deepEqual(tally(await viaClient(50)), { 'web-v2': 50 });
  const perNow = await perWorker(client.ready.adminPort);
  assert.ok(perNow.every((n, i) => n > perBefore[i]), 'the 50 requests were spread over both workers');
  // Recorded when each exchange completes: wait for the count to settle, then it must be exactly 50 more.
  const after = await waitFor('50 more requests counted', async () => {
    const n = await sum(client.ready.adminPort, 'istio_requests_total', source);
    return n >= before + 50 ? n : false;
  });
  assert.equal(after - before, 50);
  assert.equal(await sum(client.ready.adminPort, 'envoy_listener_downstream_cx_total', []), perNow[0] + perNow[1]);
  // The main thread's own metrics are there once, beside the workers' sums.
  const text = await stats(client.ready.adminPort);
  assert.equal(text.match(/^process_start_time_seconds /gm)?.length, 1);
  assert.match(text, /^# TYPE istio_requests_total counter$/m);
});

test('SIGTERM drains every worker and exits 0', async () => {
  client.child.kill('SIGTERM');
  assert.equal(await client.exited, 0);
  assert.ok(client.logs.some((l) => l.includes('"worker":1') && l.includes('draining listeners')), 'worker 1 drained');
  v1.proxy.child.kill('SIGTERM');
  assert.equal(await v1.proxy.exited, 0);
});

for (const bad of ['0', 'abc', '-1', '1.5']) {
  test(`--concurrency ${bad} is a usage error`, async () => {
    const child = spawn(process.execPath, [weftBin, 'proxy', `--concurrency=${bad}`, '--admin-address', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(stderr, new RegExp(`--concurrency: expected a number of data-plane worker threads from 1 to 1024, got "${bad.replace('.', '\\.')}"`));
  });
}
