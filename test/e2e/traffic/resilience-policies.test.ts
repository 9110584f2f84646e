// DestinationRule resilience on live traffic: circuit breaking (fast 503 with flag UO under 20
// concurrent requests at maxConnections 1), outlier ejection of a failing endpoint within one interval
// and its return after baseEjectionTime, consistent hashing on a header and a cookie, and locality
// failover when the local endpoints fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, metric, requests, tally, type Client, type Workload } from './scenario.ts';

let s: Scenario;
let client: Client;
let local: Client;
let backends: Workload[];
const web = (c: Client, headers: Record<string, string> = {}) => httpCall(c.outboundPort, '/', { host: 'web:8080', ...headers });

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  backends = [
    await s.workload({ service: 'web', version: 'v1', locality: 'us-east/zone1' }),
    await s.workload({ service: 'web', version: 'v2', locality: 'us-east/zone1' }),
    await s.workload({ service: 'web', version: 'v3', locality: 'us-west/zone1' }),
  ];
  client = await s.client();
  local = await s.client({ locality: 'us-east/zone1' });
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

test('circuit breaking: 20 concurrent requests at maxConnections 1 get fast 503s flagged UO', async () => {
  await s.applyFile('circuit-breaking.yaml');
  for (const b of backends) await b.control({ delayMs: 300 });
  try {
    await waitFor('the connection pool limits apply', async () => (await requests(20, 20, () => web(client))).some((r) => r.status === 503));
    const overflowBefore = await metric(client.proxy.ready.adminPort, 'envoy_cluster_upstream_rq_pending_overflow', 'web.default');
    const replies = await requests(20, 20, () => web(client));
    const rejected = replies.filter((r) => r.status === 503);
    assert.ok(rejected.length > 0 && replies.some((r) => r.status === 200), `some pass, some overflow: ${JSON.stringify(tally(replies))}`);
    for (const r of rejected) assert.match(r.body, /overflow/);
    assert.ok(await metric(client.proxy.ready.adminPort, 'envoy_cluster_upstream_rq_pending_overflow', 'web.default') >= overflowBefore + rejected.length,
      'each 503 is counted as a pending overflow (response flag UO)');
  } finally {
    for (const b of backends) await b.control({ delayMs: 0 });
    await s.mesh.weft(['delete', 'destinationrule', 'web']);
  }
});

test('outlier detection ejects a failing endpoint within one interval and takes it back after baseEjectionTime', async () => {
  await s.applyFile('outlier-detection.yaml');
  await backends[0].control({ failStatus: 500 });
  try {
    // Within about one interval of its consecutive errors the failing endpoint is ejected.
    await waitFor('v1 ejected', async () => {
      await requests(6, 1, () => web(client));
      return await metric(client.proxy.ready.adminPort, 'envoy_cluster_outlier_detection_ejections_active', 'web.default') >= 1;
    }, 8000);
    const during = await requests(30, 3, () => web(client));
    assert.equal(tally(during)['web-v1'], undefined, `no request reaches the ejected endpoint: ${JSON.stringify(tally(during))}`);
    // Healthy again: after baseEjectionTime (3 s) it is back in the balancer.
    await backends[0].control({ failStatus: 0 });
    await waitFor('v1 back', async () => tally(await requests(12, 3, () => web(client)))['web-v1'] !== undefined, 10_000);
  } finally {
    await backends[0].control({ failStatus: 0 });
    await s.mesh.weft(['delete', 'destinationrule', 'web']);
  }
});

test('consistent hash keeps each x-user value on one endpoint', async () => {
  await s.applyFile('consistent-hash.yaml');
  await waitFor('hashing in force', async () => {
    const replies = await requests(12, 3, () => web(client, { 'x-user': 'alice' }));
    return Object.keys(tally(replies)).length === 1;
  });
  const homes = new Set<string>();
  for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) {
    const seen = tally(await requests(10, 2, () => web(client, { 'x-user': user })));
    assert.equal(Object.keys(seen).length, 1, `${user} always lands on one endpoint: ${JSON.stringify(seen)}`);
    homes.add(Object.keys(seen)[0]);
  }
  assert.ok(homes.size >= 2, `users spread over several endpoints: ${[...homes].join(', ')}`);
});

test('consistent hash on a cookie sets the cookie when absent and sticks to it', async () => {
  await s.applyFile('consistent-hash-cookie.yaml');
  const first = await waitFor('a session cookie is set', async () => {
    const r = await web(client);
    return typeof r.headers['set-cookie']?.[0] === 'string' ? r : false;
  });
  const cookie = first.headers['set-cookie']![0] as string;
  assert.match(cookie, /^session=[^;]+; Max-Age=3600; Path=\//);
  const pair = cookie.split(';')[0];
  const seen = tally(await requests(12, 3, () => web(client, { cookie: pair })));
  assert.equal(Object.keys(seen).length, 1, `the cookie pins one endpoint: ${JSON.stringify(seen)}`);
  await s.mesh.weft(['delete', 'destinationrule', 'web']);
});

test('locality failover: traffic stays in the client\'s zone, and moves to the failover region when local endpoints fail', async () => {
  await s.applyFile('locality-failover.yaml');
  await waitFor('only local endpoints serve', async () => {
    const seen = tally(await requests(20, 4, () => web(local)));
    return seen['web-v3'] === undefined && (seen['web-v1'] ?? 0) + (seen['web-v2'] ?? 0) === 20;
  });
  await backends[0].control({ failStatus: 503 });
  await backends[1].control({ failStatus: 503 });
  try {
    await waitFor('traffic failed over to us-west', async () => (await requests(10, 1, () => web(local))).slice(-5).every((r) => r.headers['x-served-by'] === 'web-v3'), 10_000);
  } finally {
    await backends[0].control({ failStatus: 0 });
    await backends[1].control({ failStatus: 0 });
  }
});
