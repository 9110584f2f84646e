// Control plane + sidecars + apps as real processes: weighted VirtualService splits traffic, and a
// new weight shifts live traffic within seconds without a failed request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mesh } from '../harness/mesh.ts';
import { assertNoLeakedProcesses, waitFor } from '../harness/process.ts';
import { reviewsSplit } from '../../examples/bookinfo/reviews-split.ts';
import { startBookinfo, type Bookinfo } from '../../examples/bookinfo/topology.ts';
import { callProductpage } from '../../examples/bookinfo/client.ts';
import { background, call, countBy, send } from './traffic.ts';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

async function fetchProductpage(user: string): Promise<any> {
  return JSON.parse((await call(entry, '/productpage', { host: 'productpage:9080', 'end-user': user })).body);
}

const istioSamples = fileURLToPath(new URL('../../../shared/compat/istio/bookinfo-networking/', import.meta.url));

let mesh: Mesh;
let bookinfo: Bookinfo;
let entry: number;

before(async () => {
  mesh = await Mesh.start();
  bookinfo = await startBookinfo(mesh, ['v1', 'v2', 'v3']);
  entry = bookinfo.productpage.proxy.ready.inbound[0].port;
});
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

test('a request through the client sidecar reaches the right upstream through every sidecar', async () => {
  await mesh.apply(reviewsSplit(0, 100));
  const statsOf = async (adminPort: number) => (await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`)).text();
  const v2Counted = /envoy_cluster_upstream_rq\{[^}]*envoy_cluster_name="outbound\|9080\|v2\|reviews\.default\.svc\.cluster\.local"[^}]*\} [1-9]/;
  // Once the VirtualService is in force, productpage's sidecar sends reviews traffic to the v2 subset.
  await waitFor('productpage sidecar routing to the reviews v2 subset', async () => {
    const o = (await send(entry, 1))[0];
    return o.status === 200 && v2Counted.test(await statsOf(bookinfo.productpage.proxy.ready.adminPort));
  });
  const outcomes = await send(entry, 20);
  assert.deepEqual(outcomes.map((o) => `${o.status} ${o.version}`), Array(20).fill('200 v2'));
  // Each hop counted it: reviews v2's and ratings' sidecars on their inbound clusters.
  const inbound = /envoy_cluster_upstream_rq\{envoy_cluster_name="inbound\|9080\|\|",envoy_response_code="200"\} ([0-9]+)/;
  const v2 = bookinfo.reviews.find((w) => w.version === 'v2')!;
  assert.ok(Number(inbound.exec(await statsOf(v2.proxy.ready.adminPort))?.[1]) >= 20);
  assert.ok(Number(inbound.exec(await statsOf(bookinfo.ratings.proxy.ready.adminPort))?.[1]) >= 20);
  const v1 = bookinfo.reviews.find((w) => w.version === 'v1')!;
  const v1Before = Number(inbound.exec(await statsOf(v1.proxy.ready.adminPort))?.[1] ?? 0);
  await send(entry, 10);
  assert.equal(Number(inbound.exec(await statsOf(v1.proxy.ready.adminPort))?.[1] ?? 0), v1Before, 'reviews v1 gets nothing at 0/100');
});

test('an 80/20 VirtualService splits 500 requests within 5 percentage points', async () => {
  await mesh.apply(reviewsSplit(80, 20));
  // Wait until the split is in force (both versions seen), then measure.
  await waitFor('v1 answering after the 80/20 apply', async () => (await send(entry, 10)).some((o) => o.version === 'v1'));
  const outcomes = await send(entry, 500);
  const counts = countBy(outcomes);
  assert.equal(outcomes.filter((o) => o.status !== 200).length, 0, `failed requests: ${JSON.stringify(counts)}`);
  const v1 = (counts.v1 ?? 0) / 500;
  assert.ok(Math.abs(v1 - 0.8) <= 0.05, `v1 share ${v1} not within 0.80±0.05 (${JSON.stringify(counts)})`);
});

test('switching to 0/100 sends every request to v2 within 2 s of apply returning, with no failed request', async () => {
  await mesh.apply(reviewsSplit(50, 50));
  await waitFor('v1 answering at 50/50', async () => (await send(entry, 10)).some((o) => o.version === 'v1'));
  const traffic = background(entry);
  await new Promise((r) => setTimeout(r, 500));
  await mesh.apply(reviewsSplit(0, 100));
  const applied = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  const outcomes = await traffic.stop();
  const failed = outcomes.filter((o) => o.status !== 200);
  assert.deepEqual(failed, [], 'no request may fail during the switch');
  const late = outcomes.filter((o) => o.startedAt >= applied + 2000);
  assert.ok(late.length > 20, `enough traffic after the switch (${late.length})`);
  assert.deepEqual(countBy(late), { v2: late.length }, 'every request 2 s after apply goes to v2');
  assert.ok(outcomes.some((o) => o.startedAt < applied && o.version === 'v1'), 'v1 was serving before the switch');
});

test('an application can use its sidecar as HTTP_PROXY (absolute-form requests)', async () => {
  const outbound = bookinfo.productpage.proxy.ready.outboundPort!;
  const reply = await call(outbound, 'http://reviews.default:9080/reviews/7', { host: 'reviews.default:9080' });
  assert.equal(reply.status, 200, reply.body);
  const parsed = JSON.parse(reply.body);
  assert.equal(parsed.service, 'reviews');
  assert.equal(parsed.id, '7', 'the path reached the app as origin-form');
});

test('Istio\'s own bookinfo YAML works unchanged: a header match sends jason to v2, everyone else to v3', {
  skip: existsSync(istioSamples) ? false : `Istio samples not found at ${istioSamples}`,
}, async () => {
  const sample = (f: string) => readFileSync(istioSamples + f, 'utf8');
  await mesh.apply(sample('destination-rule-all.yaml'));
  await mesh.apply(sample('virtual-service-reviews-jason-v2-v3.yaml'));
  await waitFor('jason routed to v2', async () => (await callProductpage(entry, undefined, { 'end-user': 'jason' })).version === 'v2');
  await waitFor('others routed to v3', async () => (await callProductpage(entry)).version === 'v3');
  const jason = await Promise.all(Array.from({ length: 10 }, () => callProductpage(entry, undefined, { 'end-user': 'jason' })));
  const others = await Promise.all(Array.from({ length: 10 }, () => callProductpage(entry, undefined, { 'end-user': 'someone' })));
  assert.deepEqual(countBy(jason), { v2: 10 });
  assert.deepEqual(countBy(others), { v3: 10 });
  await mesh.apply(sample('virtual-service-reviews-80-20.yaml'));
  const split = await waitFor('the 80/20 sample in force', async () => {
    const c = countBy(await send(entry, 200));
    return c.v3 === undefined && c.v1 !== undefined ? c : false;
  });
  assert.ok(split.v1 > split.v2, `80/20 split: ${JSON.stringify(split)}`);
});

test('Istio\'s ratings-test-abort sample: jason\'s calls to ratings fail with 500, everyone else\'s pass', {
  skip: existsSync(istioSamples) ? false : `Istio samples not found at ${istioSamples}`,
}, async () => {
  await mesh.apply(reviewsSplit(0, 100)); // reviews v2 calls ratings
  await mesh.apply(readFileSync(istioSamples + 'virtual-service-ratings-test-abort.yaml', 'utf8'));
  const ratingsOf = async (user: string) => {
    const r = await fetchProductpage(user);
    return r.reviews?.ratings;
  };
  await waitFor('the abort in force for jason', async () => (await ratingsOf('jason'))?.error === 'ratings answered 500');
  for (let i = 0; i < 5; i++) assert.deepEqual(await ratingsOf('jason'), { error: 'ratings answered 500' });
  for (let i = 0; i < 5; i++) assert.equal((await ratingsOf('someone'))?.color, 'black');
  const stats = await (await fetch(`http://127.0.0.1:${bookinfo.reviews.find((w) => w.version === 'v2')!.proxy.ready.adminPort}/stats/prometheus`)).text();
  assert.match(stats, /envoy_http_fault_aborts_injected\{[^}]*\} [1-9]/);
});

test('VirtualService headers, rewrite and redirect take effect on live traffic', async () => {
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - match: [{ uri: { prefix: /old } }]
    redirect: { uri: /reviews/1, redirectCode: 308 }
  - match: [{ uri: { prefix: /r/ } }]
    rewrite: { uri: /reviews/ }
    headers: { response: { set: { x-rewritten: "yes" } } }
    route: [{ destination: { host: reviews, subset: v1 } }]
  - route: [{ destination: { host: reviews, subset: v1 } }]
`);
  const outbound = bookinfo.productpage.proxy.ready.outboundPort!;
  const get = (path: string) => call(outbound, path, { host: 'reviews:9080' });
  const rewritten = await waitFor('the rewrite in force', async () => {
    const r = await get('/r/5');
    return r.headers['x-rewritten'] === 'yes' ? r : false;
  });
  assert.equal(rewritten.status, 200);
  assert.equal(JSON.parse(rewritten.body).id, '5', 'the app saw /reviews/5');
  const moved = await get('/old/page?x=1');
  assert.equal(moved.status, 308);
  assert.equal(moved.headers.location, 'http://reviews:9080/reviews/1?x=1');
});

test('a mirrored VirtualService copies traffic to v3 and CORS preflights are answered by the sidecar', async () => {
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - route: [{ destination: { host: reviews, subset: v1 } }]
    mirror: { host: reviews, subset: v3 }
    mirrorPercentage: { value: 100 }
    corsPolicy:
      allowOrigins: [{ exact: "https://shop.example" }]
      allowMethods: [GET, POST]
      maxAge: 1h
`);
  const v3 = bookinfo.reviews.find((w) => w.version === 'v3')!;
  const inboundOf = async (adminPort: number) => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/stats/prometheus`)).text();
    return Number(/envoy_cluster_upstream_rq_total\{envoy_cluster_name="inbound\|9080\|\|"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const outbound = bookinfo.productpage.proxy.ready.outboundPort!;
  const send1 = (method: string, headers: Record<string, string>) => call(outbound, '/reviews/3', { host: 'reviews:9080', ...headers }, method);
  const preflight = await waitFor('the CORS policy in force', async () => {
    const r = await send1('OPTIONS', { origin: 'https://shop.example', 'access-control-request-method': 'POST' });
    return r.headers['access-control-allow-origin'] === 'https://shop.example' ? r : false;
  });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers['access-control-allow-methods'], 'GET,POST');
  assert.equal(preflight.headers['access-control-max-age'], '3600');
  const before = await inboundOf(v3.proxy.ready.adminPort);
  for (let i = 0; i < 5; i++) {
    const r = await send1('GET', {});
    assert.equal(JSON.parse(r.body).version, 'v1', 'the client gets the primary\'s answer');
  }
  await waitFor('v3 receiving the mirrored copies', async () => (await inboundOf(v3.proxy.ready.adminPort)) - before >= 5);
});

test('a sidecar admin port serves config_dump and stats, and POST /drain takes it out of readiness', async () => {
  const admin = `http://127.0.0.1:${bookinfo.ratings.proxy.ready.adminPort}`;
  assert.equal((await fetch(`${admin}/ready`)).status, 200);
  const dump = await (await fetch(`${admin}/config_dump`)).json() as any;
  const clusters = dump.configs.clusters.resources.map((c: any) => c.name);
  assert.ok(clusters.includes('inbound|9080||'), 'the inbound cluster to the local app');
  assert.ok(clusters.includes('outbound|9080|v2|reviews.default.svc.cluster.local'));
  assert.ok(dump.configs.listeners.version_info.length > 0);
  assert.deepEqual(dump.configs.listeners.resources.map((l: any) => l.name).sort(), ['inbound|9080', 'outbound_http']);
  const stats = await (await fetch(`${admin}/stats/prometheus`)).text();
  assert.match(stats, /^envoy_control_plane_connected_state 1$/m);
  assert.match(stats, /^envoy_xds_update_success\{envoy_xds_type="CDS",[^}]*\} [1-9]/m);
  const drained = await fetch(`${admin}/drain`, { method: 'POST' });
  assert.equal(drained.status, 200);
  const ready = await fetch(`${admin}/ready`);
  assert.equal(ready.status, 503);
  assert.match(await ready.text(), /draining/);
});
