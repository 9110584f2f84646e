// Weighted clusters: each request picks a cluster in proportion to its weight.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { sendMany, upstreamsOf } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const harness = new Harness();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let v1: Upstream;
let v2: Upstream;
let port = 0;

const weighted = (clusters: [string, number][], totalWeight?: number) => ({
  weighted_clusters: {
    clusters: clusters.map(([name, weight]) => ({ name, weight: { value: weight } })),
    ...(totalWeight !== undefined ? { total_weight: { value: totalWeight } } : {}),
  },
});

before(async () => {
  v1 = await startUpstream('v1');
  v2 = await startUpstream('v2');
  await harness.apply({
    clusters: [edsCluster('reviews-v1'), edsCluster('reviews-v2')],
    endpoints: [assignment('reviews-v1', [v1.port]), assignment('reviews-v2', [v2.port])],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('reviews', ['*'], [
      route({ prefix: '/split' }, weighted([['reviews-v1', 80], ['reviews-v2', 20]])),
      route({ prefix: '/total' }, weighted([['reviews-v1', 1], ['reviews-v2', 3]], 4)),
      route({ prefix: '/zero' }, weighted([['reviews-v1', 100], ['reviews-v2', 0]])),
    ])])],
  });
  port = harness.port();
});

after(async () => {
  agent.destroy();
  await harness.close();
  await v1.close();
  await v2.close();
});

describe('weighted clusters', () => {
  it('splits 80/20 over 1000 requests within a 7-sigma tolerance', async () => {
    const counts = upstreamsOf(await sendMany(1000, port, '/split', { agent }));
    assert.equal((counts.v1 ?? 0) + (counts.v2 ?? 0), 1000);
    // Binomial(1000, 0.8): sd ≈ 12.6, so ±90 is ~7 sigma.
    assert.ok(counts.v1 >= 710 && counts.v1 <= 890, `v1 got ${counts.v1} of 1000`);
  });

  it('honours total_weight', async () => {
    const counts = upstreamsOf(await sendMany(400, port, '/total', { agent }));
    // Binomial(400, 0.75): sd ≈ 8.7.
    assert.ok(counts.v2 >= 240 && counts.v2 <= 360, `v2 got ${counts.v2} of 400`);
  });

  it('never picks a cluster of weight 0', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(100, port, '/zero', { agent })), { v1: 100 });
  });
});
