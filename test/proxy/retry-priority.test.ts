// The previous_priorities retry priority (route retry_policy.retry_priority, Istio's
// retries.retryRemoteLocalities): a retry leaves out the priorities already attempted, so it goes to
// another locality even while priority 0 takes all the traffic; every update_frequency attempts the
// exclusion is brought up to date, and once every priority was attempted it starts over.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { excludedPriorityLoad } from '../../src/proxy/upstream/load-balancers/priority-load.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { edsCluster, httpListener, lbEndpoint, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startStatusUpstream, type StatusUpstream } from './upstream/status-upstream.ts';

const harness = new Harness();
const up: Record<string, StatusUpstream> = {};
let port = 0;

const previousPriorities = (updateFrequency: number) => ({
  name: 'envoy.retry_priorities.previous_priorities',
  typed_config: {
    '@type': 'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig',
    update_frequency: updateFrequency,
  },
});

/** retry_on 5xx with a 1 ms back-off base; `extra` adds num_retries and the retry priority. */
const retryPolicy = (extra: Record<string, unknown>) => ({ retry_on: '5xx', retry_back_off: { base_interval: { nanos: 1_000_000 } }, ...extra });

/** One locality per priority, each with the named upstreams. */
function assignmentOf(cluster: string, priorities: string[][]): object {
  return {
    cluster_name: cluster,
    endpoints: priorities.map((names, priority) => ({
      locality: { region: 'region', zone: `zone-${priority}` },
      ...(priority > 0 ? { priority } : {}),
      lb_endpoints: names.map((name) => lbEndpoint(up[name].port)),
    })),
  };
}

function routes(): object[] {
  const r = (prefix: string, cluster: string, extra: Record<string, unknown>) =>
    route({ prefix }, routeTo(cluster, { retry_policy: retryPolicy(extra) }));
  return [routeConfig('routes', [virtualHost('all', ['*'], [
    r('/previous-priorities', 'failover', { num_retries: { value: 1 }, retry_priority: previousPriorities(1) }),
    r('/no-retry-priority', 'failover', { num_retries: { value: 1 } }),
    r('/istio-one-retry', 'failover', { num_retries: { value: 1 }, retry_priority: previousPriorities(2) }),
    r('/istio-two-retries', 'failover', { num_retries: { value: 2 }, retry_priority: previousPriorities(2) }),
    r('/all-failing', 'all-failing', { num_retries: { value: 3 }, retry_priority: previousPriorities(1) }),
  ])])];
}

before(async () => {
  for (const name of ['p0', 'p1', 'bad0', 'bad1']) up[name] = await startStatusUpstream(name);
  up.p0.status = 503;
  up.bad0.status = 503;
  up.bad1.status = 503;
  await harness.apply({
    clusters: [edsCluster('failover'), edsCluster('all-failing')],
    endpoints: [assignmentOf('failover', [['p0'], ['p1']]), assignmentOf('all-failing', [['bad0'], ['bad1']])],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: routes(),
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  for (const u of Object.values(up)) await u.close();
});

/** Sends `n` requests to `path`; returns their statuses and how many requests each upstream received meanwhile. */
async function traffic(path: string, n: number): Promise<{ statuses: Record<number, number>; received: Record<string, number> }> {
  const before = Object.fromEntries(Object.entries(up).map(([name, u]) => [name, u.count]));
  const statuses: Record<number, number> = {};
  for (let i = 0; i < n; i++) {
    const reply = await send(port, path);
    statuses[reply.status] = (statuses[reply.status] ?? 0) + 1;
  }
  const received: Record<string, number> = {};
  for (const [name, u] of Object.entries(up)) if (u.count !== before[name]) received[name] = u.count - before[name];
  return { statuses, received };
}

describe('previous_priorities retry priority', () => {
  it('retries on priority 1 when the attempt on priority 0 failed, although priority 0 takes all the traffic', async () => {
    const { statuses, received } = await traffic('/previous-priorities', 20);
    assert.deepEqual(statuses, { 200: 20 });
    assert.deepEqual(received, { p0: 20, p1: 20 });
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_retry_success', { envoy_cluster_name: 'failover' }), 20);
  });

  it('without a retry priority, retries on priority 0 again and fails', async () => {
    const { statuses, received } = await traffic('/no-retry-priority', 20);
    assert.deepEqual(statuses, { 503: 20 });
    assert.deepEqual(received, { p0: 40 });
  });

  it('with update_frequency 2 (as Istio sets it), the first retry keeps the unmodified load and the second leaves priority 0', async () => {
    const one = await traffic('/istio-one-retry', 10);
    assert.deepEqual(one.statuses, { 503: 10 });
    assert.deepEqual(one.received, { p0: 20 });
    const two = await traffic('/istio-two-retries', 10);
    assert.deepEqual(two.statuses, { 200: 10 });
    assert.deepEqual(two.received, { p0: 20, p1: 10 });
  });

  it('starts the exclusion over once every priority was attempted', async () => {
    // Attempts: priority 0; priority 1 (0 excluded); both excluded, so the unmodified load: priority 0,
    // and the exclusion starts over; priority 1 (0 excluded again). Without the restart the last retry
    // would go to priority 0 a third time.
    const { statuses, received } = await traffic('/all-failing', 10);
    assert.deepEqual(statuses, { 503: 10 });
    assert.deepEqual(received, { bad0: 20, bad1: 20 });
  });
});

describe('priority load without the attempted priorities', () => {
  it('gives the excluded priorities\' load to the others by their availability', () => {
    const availability = { health: [100, 40, 100], degraded: [0, 0, 0] };
    assert.deepEqual(excludedPriorityLoad(availability, [true, false, false]), { healthy: [0, 40, 60], degraded: [0, 0, 0] });
    assert.deepEqual(excludedPriorityLoad(availability, [true, true, false]), { healthy: [0, 0, 100], degraded: [0, 0, 0] });
    // 30 % and 30 % left: scaled up to 50/50.
    assert.deepEqual(excludedPriorityLoad({ health: [100, 30, 30], degraded: [0, 0, 0] }, [true, false, false]),
      { healthy: [0, 50, 50], degraded: [0, 0, 0] });
    // Degraded endpoints take what healthy ones cannot.
    assert.deepEqual(excludedPriorityLoad({ health: [100, 60], degraded: [0, 40] }, [true, false]), { healthy: [0, 60], degraded: [0, 40] });
  });

  it('has no load to give when the priorities left have nothing available', () => {
    assert.equal(excludedPriorityLoad({ health: [100, 0], degraded: [0, 0] }, [true, false]), null);
    assert.equal(excludedPriorityLoad({ health: [100, 100], degraded: [0, 0] }, [true, true]), null);
  });
});

describe('retry_priority config', () => {
  const withPriority = (retryPriority: Record<string, unknown>) => [routeConfig('routes', [virtualHost('all', ['*'], [
    route({ prefix: '/' }, routeTo('failover', { retry_policy: retryPolicy({ retry_priority: retryPriority }) }))])])];
  const at = 'RouteConfiguration routes: virtual_hosts\\[0\\]\\.routes\\[0\\]\\.route\\.retry_policy\\.retry_priority';
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an update_frequency of 0', previousPriorities(0), new RegExp(`^${at}\\.typed_config\\.update_frequency must be greater than 0`)],
    ['a missing update_frequency', { ...previousPriorities(1), typed_config: { '@type': previousPriorities(1).typed_config['@type'] } },
      /retry_priority\.typed_config\.update_frequency must be greater than 0/],
    ['previous_priorities without its typed_config', { name: 'envoy.retry_priorities.previous_priorities' }, /retry_priority\.typed_config is required/],
    ['another retry priority', { name: 'example.retry_priority', typed_config: { '@type': 'type.googleapis.com/example.RetryPriority' } },
      /retry_priority type\.googleapis\.com\/example\.RetryPriority is not supported \(only envoy\.retry_priorities\.previous_priorities is\)/],
  ];
  for (const [what, retryPriority, message] of cases) {
    it(`rejects ${what}, naming the field`, async () => {
      assert.throws(() => harness.dataPlane.updateRoutes(withPriority(retryPriority)), (err: unknown) => {
        assert.ok(err instanceof ConfigRejectedError, String(err));
        assert.match(err.message, message);
        return true;
      });
      // The routes in place still retry on priority 1.
      assert.equal((await send(port, '/previous-priorities')).status, 200);
    });
  }
});
