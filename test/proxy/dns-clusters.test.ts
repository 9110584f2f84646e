// STRICT_DNS and LOGICAL_DNS clusters: the names of the load_assignment are resolved (here `localhost`,
// which the system resolves from its hosts file, so no query leaves the machine) and become the
// cluster's endpoints; IP addresses pass as they are; config DNS cannot honour is rejected.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/upstream/envoy-config.ts';
import { send, sendMany, upstreamsOf } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

const harness = new Harness();
let up: Upstream;
let other: Upstream;
let port = 0;

function dnsCluster(name: string, type: string, endpoints: { address: string; port: number }[], extra: Record<string, unknown> = {}): object {
  return {
    name, type, connect_timeout: { seconds: '1' }, dns_lookup_family: 'V4_ONLY', dns_refresh_rate: { nanos: 200_000_000 },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: endpoints.map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } })) }],
    },
    ...extra,
  };
}

before(async () => {
  up = await startUpstream('by-name');
  other = await startUpstream('by-ip');
  const r = (prefix: string, cluster: string) => route({ prefix }, routeTo(cluster));
  await harness.apply({
    clusters: [
      dnsCluster('strict', 'STRICT_DNS', [{ address: 'localhost', port: up.port }, { address: '127.0.0.1', port: other.port }]),
      dnsCluster('logical', 'LOGICAL_DNS', [{ address: 'localhost', port: up.port }]),
    ],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [r('/strict', 'strict'), r('/logical', 'logical')])])],
    listeners: [httpListener('in', { rds: 'routes' })],
  });
  port = harness.port('in');
});
after(async () => {
  await harness.close();
  await up.close();
  await other.close();
});

describe('DNS clusters', () => {
  it('STRICT_DNS resolves names into endpoints and keeps IP addresses as they are', async () => {
    await waitFor('the name resolved', async () => upstreamsOf(await sendMany(4, port, '/strict')), (seen) => seen['by-name'] !== undefined);
    const seen = upstreamsOf(await sendMany(20, port, '/strict'));
    assert.ok(seen['by-name'] > 0 && seen['by-ip'] > 0, `both endpoints serve: ${JSON.stringify(seen)}`);
    assert.equal((seen['by-name'] ?? 0) + (seen['by-ip'] ?? 0), 20);
  });

  it('LOGICAL_DNS sends to the first address of its one name', async () => {
    await waitFor('the name resolved', () => send(port, '/logical'), (r) => r.status === 200);
    assert.deepEqual(upstreamsOf(await sendMany(10, port, '/logical')), { 'by-name': 10 });
  });

  it('rejects a LOGICAL_DNS cluster with several endpoints, and addresses that are neither IPs nor names', () => {
    assert.throws(() => harness.dataPlane.updateClusters([
      dnsCluster('two', 'LOGICAL_DNS', [{ address: 'localhost', port: 1 }, { address: '127.0.0.1', port: 2 }]),
    ]), (e: unknown) => e instanceof ConfigRejectedError && /LOGICAL_DNS clusters take exactly one endpoint/.test(e.message));
    assert.throws(() => harness.dataPlane.updateClusters([
      dnsCluster('bad', 'STRICT_DNS', [{ address: 'not a name!', port: 1 }]),
    ]), (e: unknown) => e instanceof ConfigRejectedError && /neither an IP address nor a DNS name/.test(e.message));
    assert.throws(() => harness.dataPlane.updateClusters([
      dnsCluster('family', 'STRICT_DNS', [{ address: 'localhost', port: 1 }], { dns_lookup_family: 'V5' }),
    ]), (e: unknown) => e instanceof ConfigRejectedError && /dns_lookup_family V5 is not a known lookup family/.test(e.message));
  });
});
