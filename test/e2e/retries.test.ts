// Istio's retry semantics end to end: with no retry settings a sidecar retries a 503 on another
// endpoint (Istio's default policy), so clients see no failure; `attempts: 0` turns that off.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mesh } from '../harness/mesh.ts';
import { assertNoLeakedProcesses, waitFor } from '../harness/process.ts';
import { appScript } from '../../examples/bookinfo/topology.ts';
import { call } from './traffic.ts';

let mesh: Mesh;
let outbound = 0;

async function get(path: string): Promise<number> {
  try {
    return (await call(outbound, path, { host: 'ratings:9080' })).status;
  } catch {
    return 0;
  }
}

async function statuses(n: number): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const s = await get(`/ratings/${i}`);
    out[s] = (out[s] ?? 0) + 1;
  }
  return out;
}

before(async () => {
  mesh = await Mesh.start();
  const good = await mesh.startApp('ratings-good', appScript, ['--service', 'ratings', '--version', 'v1']);
  const bad = await mesh.startApp('ratings-bad', appScript, ['--service', 'ratings', '--version', 'v1', '--fail-status', '503']);
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ratings }
spec:
  hosts: [ratings.default.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: 9080, name: http }]
  endpoints:
  - { address: 127.0.0.1, ports: { http: ${good.ready.port} } }
  - { address: 127.0.0.1, ports: { http: ${bad.ready.port} } }
---
# Round robin, so a retry's pick is deterministic: with Istio's default LEAST_REQUEST (power of two
# choices) the previous_hosts predicate may, with small probability, draw the failing endpoint on all
# of its host_selection_retry_max_attempts picks, as in Envoy. The retry policy is untouched.
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings }
spec:
  host: ratings
  trafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }
`);
  const client = await mesh.startProxy({ name: 'client', labels: { app: 'client' } });
  outbound = client.ready.outboundPort!;
});
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

test('with no retry settings, a 503 from one endpoint is retried on the other (Istio default)', async () => {
  assert.deepEqual(await statuses(40), { 200: 40 });
});

test('retries.attempts: 0 turns retries off, and the failing endpoint shows through', async () => {
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - retries: { attempts: 0 }
    route: [{ destination: { host: ratings } }]
`);
  const seen = await waitFor('503s once retries are off', async () => {
    const s = await statuses(20);
    return (s[503] ?? 0) > 0 ? s : false;
  });
  // Balanced over a good and a failing endpoint (LEAST_REQUEST, Istio's default), both answers show.
  assert.ok(seen[503] >= 1 && seen[200] >= 1, `the good and the failing endpoint both answer: ${JSON.stringify(seen)}`);
});

test('retries on a listed status code with attempts and retryOn from the VirtualService', async () => {
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - retries: { attempts: 3, retryOn: "503" }
    route: [{ destination: { host: ratings } }]
`);
  await waitFor('no more 503s', async () => (await statuses(10))[503] === undefined);
  assert.deepEqual(await statuses(40), { 200: 40 });
  const stats = await (await fetch(`http://127.0.0.1:${(mesh.processes.at(-1)!.ready as { adminPort: number }).adminPort}/stats/prometheus`)).text();
  assert.match(stats, /envoy_cluster_upstream_rq_retry\{envoy_cluster_name="outbound\|9080\|\|ratings\.default\.svc\.cluster\.local"\} [1-9]/);
});
