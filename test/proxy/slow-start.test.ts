// Slow start (round_robin_lb_config / least_request_lb_config slow_start_config; Istio's warmup): an
// endpoint that just joined gets a clearly smaller share of the traffic during its slow start window
// than after it. The window is short (2 s) and the test waits for it to pass; shares are request counts.
// An aggression of 0.25 keeps the new endpoint at min_weight_percent for the first half of its window
// (weight = (t / window) ^ 4), so a slow machine does not blur the "during" counts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { waitFor } from './support/wait.ts';
import { startStatusUpstream, type StatusUpstream } from './upstream/status-upstream.ts';

const windowMs = 2000;
const harness = new Harness();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let old: StatusUpstream;
let added: StatusUpstream;
let port = 0;
let oldJoined = 0;

const slowStart = {
  slow_start_config: { slow_start_window: { seconds: String(windowMs / 1000) }, aggression: { default_value: 0.25, runtime_key: 'slow_start.aggression' } },
};

before(async () => {
  old = await startStatusUpstream('old');
  added = await startStatusUpstream('added');
  await harness.apply({
    clusters: [
      edsCluster('rr', { round_robin_lb_config: slowStart }),
      edsCluster('lr', { lb_policy: 'LEAST_REQUEST', least_request_lb_config: slowStart }),
    ],
    endpoints: [assignment('rr', [old.port]), assignment('lr', [old.port])],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/rr' }, routeTo('rr')), route({ prefix: '/lr' }, routeTo('lr'))])])],
  });
  oldJoined = performance.now();
  port = harness.port();
});

after(async () => {
  agent.destroy();
  await harness.close();
  await old.close();
  await added.close();
});

/** How many of `n` requests to each of round robin and least request went to the added endpoint (interleaved). */
async function addedShare(n: number): Promise<{ roundRobin: number; leastRequest: number }> {
  const share = { roundRobin: 0, leastRequest: 0 };
  for (let i = 0; i < n; i++) {
    if ((await send(port, '/rr', { agent })).headers['x-upstream'] === 'added') share.roundRobin++;
    if ((await send(port, '/lr', { agent })).headers['x-upstream'] === 'added') share.leastRequest++;
  }
  return share;
}

describe('slow start', () => {
  it('gives a newly added endpoint a small share during its window and its full share after', async () => {
    // Endpoints present when a cluster starts are in slow start too: let the first one's window pass.
    await waitFor('the first endpoint to leave its slow start window', () => performance.now() - oldJoined, (t) => t > windowMs + 100, windowMs * 3);
    harness.dataPlane.updateEndpoints([assignment('rr', [old.port, added.port]), assignment('lr', [old.port, added.port])]);
    const addedAt = performance.now();

    // Its weight starts at min_weight_percent (10 %): about 1 request in 11.
    const during = await addedShare(40);
    assert.ok(during.roundRobin <= 10, `round robin: the new endpoint got ${during.roundRobin} of 40 in its window`);
    assert.ok(during.leastRequest <= 10, `least request: the new endpoint got ${during.leastRequest} of 40 in its window`);

    await waitFor('the new endpoint to leave its slow start window', () => performance.now() - addedAt, (t) => t > windowMs + 100, windowMs * 3);
    const afterWindow = await addedShare(40);
    assert.equal(afterWindow.roundRobin, 20, 'round robin after the window: an equal share');
    assert.ok(afterWindow.leastRequest >= 10, `least request: the new endpoint got ${afterWindow.leastRequest} of 40 after its window`);
    assert.ok(afterWindow.roundRobin > during.roundRobin * 2);
  });
});
