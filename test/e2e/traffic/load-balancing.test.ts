// DestinationRule load balancing on live traffic: LEAST_REQUEST steers away from a slow endpoint,
// locality `distribute` splits by the configured weights, port-level settings override the rule's
// balancer, and a rule with a workloadSelector applies only to the workloads it selects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, requests, tally, type Client, type Workload } from './scenario.ts';

let s: Scenario;
let client: Client;
let special: Client;
let backends: Workload[];
const web = (c: Client, headers: Record<string, string> = {}) => httpCall(c.outboundPort, '/', { host: 'web:8080', ...headers });

before(async () => {
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  backends = [
    await s.workload({ service: 'web', version: 'v1', locality: 'us-east/zone1' }),
    await s.workload({ service: 'web', version: 'v2', locality: 'us-east/zone2' }),
    await s.workload({ service: 'web', version: 'v3', locality: 'us-west/zone1' }),
  ];
  client = await s.client({ locality: 'us-east/zone1' });
  special = await s.client({ labels: { role: 'special' } });
  await waitFor('all three endpoints serve', async () => Object.keys(tally(await requests(30, 3, () => web(client)))).length === 3);
});
after(async () => {
  await s?.stop();
  assertNoLeakedProcesses();
});

test('LEAST_REQUEST sends most requests to the endpoints that are not busy', async () => {
  await s.applyFile('least-request.yaml');
  await backends[0].control({ delayMs: 400 });
  try {
    const seen = tally(await requests(120, 12, () => web(client)));
    assert.equal((seen['web-v1'] ?? 0) + (seen['web-v2'] ?? 0) + (seen['web-v3'] ?? 0), 120, JSON.stringify(seen));
    // Round robin would give the slow endpoint a third (40); picking the less loaded of two keeps it low.
    assert.ok((seen['web-v1'] ?? 0) < 25, `the slow endpoint got few requests: ${JSON.stringify(seen)}`);
  } finally {
    await backends[0].control({ delayMs: 0 });
  }
});

test('locality distribute splits about 80/20 between the client\'s zone and the next, and nothing elsewhere', async () => {
  await s.applyFile('locality-distribute.yaml');
  await waitFor('the distribution in force', async () => tally(await requests(30, 3, () => web(client)))['web-v3'] === undefined);
  const seen = tally(await requests(300, 6, () => web(client)));
  assert.equal(seen['web-v3'], undefined, `no request leaves us-east: ${JSON.stringify(seen)}`);
  assert.ok(seen['web-v1'] >= 210 && seen['web-v1'] <= 270, `about 80% stay in us-east/zone1: ${JSON.stringify(seen)}`);
});

test('port-level settings override the rule\'s balancer, and a workloadSelector rule applies only to its workloads', async () => {
  await s.applyFile('port-level-and-selector.yaml');
  await waitFor('hashing on port 8080', async () => Object.keys(tally(await requests(12, 3, () => web(client, { 'x-user': 'alice' })))).length === 1);
  for (const user of ['alice', 'bob', 'carol']) {
    assert.equal(Object.keys(tally(await requests(9, 3, () => web(client, { 'x-user': user })))).length, 1, `${user} sticks to one endpoint`);
  }
  // The special client gets the workloadSelector rule (round robin): the same header spreads.
  await waitFor('the selected workload balances round robin', async () => Object.keys(tally(await requests(12, 3, () => web(special, { 'x-user': 'alice' })))).length === 3);
});
