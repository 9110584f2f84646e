// Outlier detection (Cluster.outlier_detection) and panic mode (common_lb_config.healthy_panic_threshold),
// through the proxy: which endpoints get ejected, that an ejected one receives no request, that it comes
// back after its ejection time (a second ejection lasting longer), the max_ejection_percent limit, the
// kinds of failures counted, and the outlier_detection stats. Waits are by condition (a stat, or a
// request reaching an endpoint), with small intervals and ejection times.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { silentLogger } from '../../src/common/log.ts';
import { ProxyStats } from '../../src/proxy/telemetry/stats.ts';
import { ClusterManager } from '../../src/proxy/upstream/cluster-manager.ts';
import { registerBuiltinLoadBalancers } from '../../src/proxy/upstream/load-balancers/index.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { closedPort } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';
import { startStatusUpstream, type StatusUpstream } from './upstream/status-upstream.ts';

const harness = new Harness();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const up: Record<string, StatusUpstream> = {};
let port = 0;

const ms = (n: number) => ({ seconds: String(Math.floor(n / 1000)), nanos: (n % 1000) * 1_000_000 });

/** Outlier detection with quick sweeps; the test's fields on top. */
const od = (fields: Record<string, unknown>) => ({ outlier_detection: { interval: ms(100), base_ejection_time: ms(30_000), ...fields } });

const clusters: [string, string[], Record<string, unknown>][] = [
  ['eject', ['ejectBad', 'ejectGood'], od({ consecutive_5xx: { value: 3 }, base_ejection_time: ms(2000), max_ejection_percent: { value: 50 } })],
  ['backoff', ['backoffBad', 'backoffGood'],
    od({ consecutive_5xx: { value: 2 }, interval: ms(500), base_ejection_time: ms(1000), max_ejection_percent: { value: 50 } })],
  ['limit', ['limit1', 'limit2', 'limit3', 'limit4'], od({ consecutive_5xx: { value: 1 }, max_ejection_percent: { value: 50 } })],
  ['default-limit', ['default1', 'default2', 'default3'], od({ consecutive_5xx: { value: 1 } })],
  ['one-host', ['oneHost1', 'oneHost2', 'oneHost3'], od({ consecutive_5xx: { value: 1 }, always_eject_one_host: { value: true } })],
  ['panic', ['panicBad', 'panicGood'],
    { ...od({ consecutive_5xx: { value: 1 }, max_ejection_percent: { value: 100 } }), common_lb_config: { healthy_panic_threshold: { value: 60 } } }],
  ['gateway', ['gw500', 'gw503', 'gwGood'],
    od({ consecutive_5xx: { value: 100 }, consecutive_gateway_failure: { value: 2 }, enforcing_consecutive_gateway_failure: { value: 100 }, max_ejection_percent: { value: 100 } })],
  ['gateway-off', ['gwOff503', 'gwOffGood'], od({ consecutive_5xx: { value: 100 }, consecutive_gateway_failure: { value: 2 }, max_ejection_percent: { value: 100 } })],
  ['alternating', ['alternating'], od({ consecutive_5xx: { value: 2 }, max_ejection_percent: { value: 100 } })],
  ['success-rate', ['sr1', 'sr2', 'sr3', 'sr4', 'srBad'],
    od({ consecutive_5xx: { value: 1000 }, interval: ms(500), success_rate_minimum_hosts: { value: 5 }, success_rate_request_volume: { value: 10 },
      max_ejection_percent: { value: 50 } })],
  ['failure-percentage', ['fp1', 'fpBad'],
    od({ consecutive_5xx: { value: 1000 }, interval: ms(500), enforcing_success_rate: { value: 0 }, enforcing_failure_percentage: { value: 100 },
      failure_percentage_threshold: { value: 50 }, failure_percentage_minimum_hosts: { value: 2 }, failure_percentage_request_volume: { value: 5 },
      max_ejection_percent: { value: 50 } })],
];

const names = new Set(clusters.flatMap(([, members]) => members));
const badAtStart = new Set(['ejectBad', 'backoffBad', 'limit1', 'limit2', 'limit3', 'limit4', 'default1', 'default2', 'default3', 'oneHost1',
  'oneHost2', 'oneHost3', 'panicBad', 'srBad', 'fpBad']);

async function metric(name: string, cluster: string): Promise<number> {
  return (await harness.metric(`envoy_cluster_outlier_detection_${name}`, { envoy_cluster_name: cluster })) ?? 0;
}

/** Sends requests to `cluster` until `done` (bounded). */
async function sendUntil(cluster: string, done: () => Promise<boolean>, max = 50): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (await done()) return;
    await send(port, `/${cluster}`, { agent });
  }
  assert.ok(await done(), `condition not reached after ${max} requests to ${cluster}`);
}

/** Which upstreams answered `n` requests to `cluster`. */
async function hits(cluster: string, n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const reply = await send(port, `/${cluster}`, { agent });
    const name = String(reply.headers['x-upstream'] ?? `status ${reply.status}`);
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

before(async () => {
  for (const name of names) up[name] = await startStatusUpstream(name, badAtStart.has(name) ? 500 : 200);
  up.gw500.status = 500;
  up.gw503.status = 503;
  up.gwOff503.status = 503;
  up.alternating.alternate = true;
  const refused = await closedPort();
  await harness.apply({
    clusters: [
      ...clusters.map(([name, members, extra]) => staticCluster(name, members.map((m) => up[m].port), extra)),
      staticCluster('local-origin', [refused, up.ejectGood.port],
        od({ split_external_local_origin_errors: true, consecutive_local_origin_failure: { value: 2 }, consecutive_5xx: { value: 100 },
          max_ejection_percent: { value: 50 } })),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'],
      [...clusters.map(([name]) => name), 'local-origin'].map((name) => route({ path: `/${name}` }, routeTo(name)))),
    ])],
  });
  port = harness.port();
});

after(async () => {
  agent.destroy();
  await harness.close();
  for (const u of Object.values(up)) await u.close();
});

describe('outlier detection', () => {
  it('ejects an endpoint after consecutive_5xx errors; it receives nothing while ejected and comes back after base_ejection_time', async () => {
    const bad = up.ejectBad;
    await sendUntil('eject', async () => (await metric('ejections_active', 'eject')) === 1);
    assert.equal(bad.count, 3, 'ejected on its third consecutive 5xx');
    assert.equal(await metric('ejections_detected_consecutive_5xx', 'eject'), 1);
    assert.equal(await metric('ejections_enforced_consecutive_5xx', 'eject'), 1);

    assert.deepEqual(await hits('eject', 20), { ejectGood: 20 });
    assert.equal(bad.count, 3, 'the ejected endpoint received a request');
    // Still the one ejection (not un-ejected and ejected again meanwhile).
    assert.equal(await metric('ejections_enforced_total', 'eject'), 1);
    assert.equal(await metric('ejections_active', 'eject'), 1);

    bad.status = 200;
    await waitFor('the endpoint to return after its ejection time', () => metric('ejections_active', 'eject'), (n) => n === 0);
    const back = await hits('eject', 10);
    assert.ok((back.ejectBad ?? 0) >= 4, `returned endpoint got ${JSON.stringify(back)}`);
  });

  it('keeps an endpoint ejected longer the second time (base_ejection_time × 2)', async () => {
    const bad = up.backoffBad;
    await sendUntil('backoff', async () => (await metric('ejections_active', 'backoff')) === 1);
    await waitFor('the first ejection to end', () => metric('ejections_active', 'backoff'), (n) => n === 0, 5000);
    // Failing again right away (within a sweep interval of its return): ejected a second time.
    await sendUntil('backoff', async () => (await metric('ejections_active', 'backoff')) === 1);
    const secondEjection = performance.now();
    assert.equal(await metric('ejections_enforced_total', 'backoff'), 2);
    // The first ejection lasted 1 to 1.5 s (base_ejection_time, returned at the next sweep); the second
    // one must outlast 1.5 s (it lasts 2 s or a little more).
    await waitFor('1.5 s to pass', () => performance.now() - secondEjection, (t) => t >= 1500, 5000);
    assert.equal(await metric('ejections_active', 'backoff'), 1, 'the second ejection did not last longer than the first');
    const before = bad.count;
    assert.deepEqual(await hits('backoff', 6), { backoffGood: 6 });
    assert.equal(bad.count, before);
    bad.status = 200;
    await waitFor('the second ejection to end', () => metric('ejections_active', 'backoff'), (n) => n === 0, 5000);
  });

  it('ejects at most max_ejection_percent of the endpoints and counts the rest as overflow', async () => {
    await sendUntil('limit', async () => (await metric('ejections_overflow', 'limit')) >= 2, 20);
    assert.equal(await metric('ejections_active', 'limit'), 2);
    const counts = await hits('limit', 20);
    assert.equal(Object.keys(counts).length, 2, `only the two endpoints left in must get requests: ${JSON.stringify(counts)}`);
  });

  it('ejects nothing when even one ejection exceeds max_ejection_percent (default 10 %), unless always_eject_one_host', async () => {
    await hits('default-limit', 9);
    assert.equal(await metric('ejections_active', 'default-limit'), 0);
    assert.ok((await metric('ejections_overflow', 'default-limit')) >= 3);
    assert.equal(await metric('ejections_detected_consecutive_5xx', 'default-limit'), await metric('ejections_overflow', 'default-limit'));

    await hits('one-host', 9);
    assert.equal(await metric('ejections_active', 'one-host'), 1);
    assert.equal(Object.keys(await hits('one-host', 12)).length, 2);
  });

  it('balances over all endpoints, ejected ones included, in panic mode (healthy share below healthy_panic_threshold)', async () => {
    await sendUntil('panic', async () => (await metric('ejections_active', 'panic')) === 1);
    const before = up.panicBad.count;
    const counts = await hits('panic', 20);
    assert.ok(up.panicBad.count - before >= 5, `ejected endpoint got ${up.panicBad.count - before} of 20 in panic`);
    assert.ok((counts.panicGood ?? 0) >= 5);
    assert.ok((await harness.metric('envoy_cluster_lb_healthy_panic', { envoy_cluster_name: 'panic' }))! >= 20);
  });

  it('ejects on consecutive gateway errors (502/503/504) only when enforcing_consecutive_gateway_failure is set', async () => {
    await hits('gateway', 30);
    assert.equal(await metric('ejections_enforced_consecutive_gateway_failure', 'gateway'), 1);
    assert.equal(await metric('ejections_active', 'gateway'), 1);
    const counts = await hits('gateway', 10);
    assert.equal(counts.gw503, undefined, `the 503 endpoint must be the ejected one: ${JSON.stringify(counts)}`);
    assert.ok((counts.gw500 ?? 0) > 0, '500 is not a gateway error');

    // Envoy's default enforcing_consecutive_gateway_failure is 0: detected, not ejected.
    await hits('gateway-off', 10);
    assert.ok((await metric('ejections_detected_consecutive_gateway_failure', 'gateway-off')) >= 1);
    assert.equal(await metric('ejections_active', 'gateway-off'), 0);
  });

  it('does not eject an endpoint whose errors are not consecutive (a success resets the count)', async () => {
    await hits('alternating', 12);
    assert.equal(await metric('ejections_detected_consecutive_5xx', 'alternating'), 0);
    assert.equal(await metric('ejections_active', 'alternating'), 0);
  });

  it('counts connect failures as local-origin failures with split_external_local_origin_errors', async () => {
    await sendUntil('local-origin', async () => (await metric('ejections_active', 'local-origin')) === 1, 10);
    assert.equal(await metric('ejections_enforced_consecutive_local_origin_failure', 'local-origin'), 1);
    assert.equal(await metric('ejections_detected_consecutive_5xx', 'local-origin'), 0);
    const statuses = new Set<number>();
    for (let i = 0; i < 6; i++) statuses.add((await send(port, '/local-origin', { agent })).status);
    assert.deepEqual([...statuses], [200]);
  });

  it('ejects an endpoint whose success rate is far below the others (success rate analysis)', async () => {
    await waitFor('the success rate ejection', async () => {
      for (let i = 0; i < 25; i++) await send(port, '/success-rate', { agent });
      return metric('ejections_enforced_success_rate', 'success-rate');
    }, (n) => n === 1, 10_000);
    const before = up.srBad.count;
    await hits('success-rate', 12);
    assert.equal(up.srBad.count, before);
  });

  it('ejects an endpoint whose failure percentage reaches failure_percentage_threshold', async () => {
    await waitFor('the failure percentage ejection', async () => {
      for (let i = 0; i < 10; i++) await send(port, '/failure-percentage', { agent });
      return metric('ejections_enforced_failure_percentage', 'failure-percentage');
    }, (n) => n === 1, 10_000);
    assert.deepEqual(await hits('failure-percentage', 6), { fp1: 6 });
  });
});

describe('outlier detector lifetime', () => {
  it('stops its sweep timer when its cluster is removed or replaced', async () => {
    registerBuiltinLoadBalancers();
    const manager = new ClusterManager(new ProxyStats(), silentLogger, 4);
    const cluster = (extra: Record<string, unknown>) => staticCluster('c', [up.ejectGood.port], { ...od({}), ...extra });
    manager.update([cluster({})]);
    const first = manager.current.get('c')!;
    assert.equal(first.outlierDetector?.sweeping, true);
    manager.update([cluster({ connect_timeout: { seconds: '2' } })]);
    const second = manager.current.get('c')!;
    assert.notEqual(second, first);
    assert.equal(first.outlierDetector?.sweeping, false, 'the replaced cluster still sweeps');
    assert.equal(second.outlierDetector?.sweeping, true);
    manager.update([]);
    assert.equal(second.outlierDetector?.sweeping, false, 'the removed cluster still sweeps');
    await manager.settled();
    manager.destroy();
  });
});
