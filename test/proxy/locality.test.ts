// Priorities and localities of a ClusterLoadAssignment, through the proxy: traffic stays on priority 0
// while it is healthy, spills to priority 1 as its endpoints get ejected (by the overprovisioning rule)
// and comes back when they return, which is how Istio's locality failover works; and locality weights
// (common_lb_config.locality_weighted_lb_config, Istio's locality distribute) split traffic.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { edsCluster, httpListener, lbEndpoint, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { waitFor } from './support/wait.ts';
import { startStatusUpstream, type StatusUpstream } from './upstream/status-upstream.ts';

const harness = new Harness();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const up: Record<string, StatusUpstream> = {};
let port = 0;

type Group = { zone: string; priority?: number; weight?: number; endpoints: string[] };

function assignmentOf(cluster: string, groups: Group[], extra: Record<string, unknown> = {}): object {
  return {
    cluster_name: cluster,
    endpoints: groups.map((g) => ({
      locality: { region: 'region', zone: g.zone, sub_zone: '' },
      ...(g.weight !== undefined ? { load_balancing_weight: { value: g.weight } } : {}),
      ...(g.priority !== undefined ? { priority: g.priority } : {}),
      lb_endpoints: g.endpoints.map((name) => lbEndpoint(up[name].port)),
    })),
    ...extra,
  };
}

/** Outlier detection as Istio sets it for failover: quick sweeps, panic off. */
const failoverCluster = (name: string, baseMs: number) => edsCluster(name, {
  outlier_detection: {
    consecutive_5xx: { value: 1 }, interval: { nanos: 100_000_000 }, base_ejection_time: { seconds: String(baseMs / 1000) },
    max_ejection_percent: { value: 100 },
  },
  common_lb_config: { healthy_panic_threshold: { value: 0 }, locality_weighted_lb_config: {} },
});

async function hits(path: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const reply = await send(port, path, { agent });
    const name = String(reply.headers['x-upstream'] ?? `status ${reply.status}`);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const ejected = async (cluster: string) =>
  (await harness.metric('envoy_cluster_outlier_detection_ejections_active', { envoy_cluster_name: cluster })) ?? 0;

before(async () => {
  for (const name of ['local', 'remote', 'p0a', 'p0b', 'p0c', 'p0d', 'p1', 'zoneA1', 'zoneA2', 'zoneB', 'zoneC', 'lone', 'loneBad', 'backup']) {
    up[name] = await startStatusUpstream(name);
  }
  up.p0c.status = 500;
  up.p0d.status = 500;
  up.loneBad.status = 500;
  await harness.apply({
    clusters: [
      failoverCluster('failover', 2000),
      failoverCluster('spill', 30_000),
      edsCluster('weighted', { common_lb_config: { locality_weighted_lb_config: {} } }),
      edsCluster('unweighted'),
      failoverCluster('priorities', 30_000),
    ],
    endpoints: [
      assignmentOf('failover', [{ zone: 'a', weight: 1, endpoints: ['local'] }, { zone: 'b', weight: 1, priority: 1, endpoints: ['remote'] }]),
      assignmentOf('spill', [
        { zone: 'a', weight: 1, endpoints: ['p0a', 'p0b', 'p0c', 'p0d'] },
        { zone: 'b', weight: 1, priority: 1, endpoints: ['p1'] },
      ]),
      assignmentOf('weighted', [
        { zone: 'a', weight: 3, endpoints: ['zoneA1', 'zoneA2'] }, { zone: 'b', weight: 1, endpoints: ['zoneB'] }, { zone: 'c', endpoints: ['zoneC'] },
      ]),
      assignmentOf('unweighted', [{ zone: 'a', weight: 3, endpoints: ['zoneA1'] }, { zone: 'b', weight: 1, endpoints: ['zoneB'] }]),
      assignmentOf('priorities', [{ zone: 'a', weight: 1, endpoints: ['lone', 'loneBad'] }, { zone: 'b', weight: 1, priority: 1, endpoints: ['backup'] }],
        { policy: { overprovisioning_factor: { value: 100 } } }),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'],
      ['failover', 'spill', 'weighted', 'unweighted', 'priorities'].map((name) => route({ path: `/${name}` }, routeTo(name))))])],
  });
  port = harness.port();
});

after(async () => {
  agent.destroy();
  await harness.close();
  for (const u of Object.values(up)) await u.close();
});

describe('priority failover', () => {
  it('sends everything to priority 0 while it is healthy, to priority 1 while it is ejected, and back when it returns', async () => {
    assert.deepEqual(await hits('/failover', 20), { local: 20 });

    up.local.status = 500;
    const first = await send(port, '/failover', { agent });
    assert.equal(first.status, 500, 'the failing endpoint answered once');
    assert.equal(await ejected('failover'), 1);
    const during = up.local.count;
    assert.deepEqual(await hits('/failover', 20), { remote: 20 });
    assert.equal(up.local.count, during, 'the ejected priority-0 endpoint received a request');

    up.local.status = 200;
    await waitFor('the priority-0 endpoint to return', () => ejected('failover'), (n) => n === 0, 5000);
    assert.deepEqual(await hits('/failover', 20), { local: 20 });
  });

  it('spills part of the traffic as priority 0 loses endpoints (2 of 4 ejected: 70 % stays, 30 % to priority 1)', async () => {
    // p0c and p0d answer 500: each is ejected on its first failure.
    await waitFor('two ejections', async () => {
      await send(port, '/spill', { agent });
      return ejected('spill');
    }, (n) => n === 2, 5000);
    const counts = await hits('/spill', 300);
    assert.equal((counts.p0c ?? 0) + (counts.p0d ?? 0), 0, `ejected endpoints got requests: ${JSON.stringify(counts)}`);
    // Binomial(300, 0.3): sd ≈ 7.9; ±30 is ~4 sigma.
    assert.ok(counts.p1 >= 60 && counts.p1 <= 120, `priority 1 got ${counts.p1} of 300 (expected ~90)`);
    assert.equal(counts.p0a + counts.p0b + counts.p1, 300);
  });

  it('honours the overprovisioning factor of the assignment (100: half of priority 0 ejected, half the traffic spills)', async () => {
    await waitFor('the ejection', async () => {
      await send(port, '/priorities', { agent });
      return ejected('priorities');
    }, (n) => n === 1, 5000);
    const counts = await hits('/priorities', 300);
    assert.equal(counts.loneBad, undefined);
    // Binomial(300, 0.5): sd ≈ 8.7 (with the default factor 140 it would be ~90).
    assert.ok(counts.backup >= 115 && counts.backup <= 185, `priority 1 got ${counts.backup} of 300 (expected ~150)`);
  });
});

describe('locality weighted load balancing', () => {
  it('splits traffic by locality weight, and gives nothing to a locality without a weight', async () => {
    const counts = await hits('/weighted', 200);
    assert.equal(counts.zoneC, undefined, `locality without a weight got ${counts.zoneC}`);
    const zoneA = (counts.zoneA1 ?? 0) + (counts.zoneA2 ?? 0);
    assert.ok(zoneA >= 135 && zoneA <= 165, `zone a got ${zoneA} of 200 (weight 3 of 4)`);
    // Within a locality, the cluster's lb_policy (round robin) balances.
    assert.ok(Math.abs((counts.zoneA1 ?? 0) - (counts.zoneA2 ?? 0)) <= 2, JSON.stringify(counts));
  });

  it('ignores locality weights unless the cluster enables locality_weighted_lb_config', async () => {
    assert.deepEqual(await hits('/unweighted', 20), { zoneA1: 10, zoneB: 10 });
  });
});
