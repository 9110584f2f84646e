// The ADS state machine over a real gRPC connection: ordering, ACK, NACK, stale nonces, and
// make-before-break when clusters go away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AdsServer } from '../../../src/control-plane/server/ads-server.ts';
import { SnapshotCache } from '../../../src/control-plane/server/cache.ts';
import { makeSnapshot } from '../../../src/control-plane/server/snapshot.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { TypeUrl } from '../../../src/xds/type-urls.ts';
import { RawAdsClient } from './ads-client.ts';

const cache = new SnapshotCache();
const connected: string[] = [];
const disconnected: string[] = [];
const server = new AdsServer({
  cache,
  logger: silentLogger,
  callbacks: {
    onProxyConnected: (_id, node) => { connected.push(node.id!); },
    onProxyDisconnected: (_id, node) => { disconnected.push(node.id!); },
  },
});
let port = 0;
before(async () => { port = await server.listen('127.0.0.1:0'); });
after(async () => { await server.close(); });

function cluster(name: string) {
  return { name, type: 'EDS', eds_cluster_config: { eds_config: { ads: {} }, service_name: name }, connect_timeout: { seconds: 1 } };
}
function cla(name: string, port: number) {
  return { cluster_name: name, endpoints: [{ locality: {}, load_balancing_weight: { value: 1 }, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] };
}
function routes(clusterName: string) {
  return { name: 'r', virtual_hosts: [{ name: 'vh', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: clusterName } }] }] };
}
const listener = {
  name: 'l', address: { socket_address: { address: '127.0.0.1', port_value: 15001 } },
  filter_chains: [{ filters: [{ name: 'hcm', typed_config: {
    '@type': TypeUrl.HttpConnectionManager, stat_prefix: 'l',
    rds: { route_config_name: 'r', config_source: { ads: {} } },
    http_filters: [{ name: 'router', typed_config: { '@type': TypeUrl.Router } }],
  } }] }],
};
function snapshot(clusterName: string) {
  return makeSnapshot({
    [TypeUrl.Cluster]: [cluster(clusterName)],
    [TypeUrl.ClusterLoadAssignment]: [cla(clusterName, 9000)],
    [TypeUrl.Listener]: [listener],
    [TypeUrl.RouteConfiguration]: [routes(clusterName)],
    [TypeUrl.Secret]: [],
  });
}

/** Subscribes like Envoy (CDS, LDS wildcard; EDS, RDS by name) and ACKs everything until quiet. */
async function syncLikeEnvoy(c: RawAdsClient, nodeId: string) {
  c.send({ node: { id: nodeId }, type_url: TypeUrl.Cluster });
  c.send({ type_url: TypeUrl.Listener });
  const order: string[] = [];
  for (;;) {
    const r = await c.maybeNext(300);
    if (!r) return order;
    order.push(r.type_url);
    if (r.type_url === TypeUrl.Cluster) {
      c.send({ type_url: TypeUrl.Cluster, version_info: r.version_info, response_nonce: r.nonce });
      c.send({ type_url: TypeUrl.ClusterLoadAssignment, resource_names: r.resources.map((x: any) => x.name) });
    } else if (r.type_url === TypeUrl.Listener) {
      c.send({ type_url: TypeUrl.Listener, version_info: r.version_info, response_nonce: r.nonce });
      c.send({ type_url: TypeUrl.RouteConfiguration, resource_names: ['r'] });
    } else {
      c.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: r.type_url === TypeUrl.RouteConfiguration ? ['r'] : r.resources.map((x: any) => x.cluster_name) });
    }
  }
}

test('a new proxy gets clusters and endpoints before listeners and routes, and each is ACKed', async () => {
  cache.set('n1', snapshot('a'));
  const c = new RawAdsClient(port);
  try {
    const order = await syncLikeEnvoy(c, 'n1');
    assert.deepEqual(order, [TypeUrl.Cluster, TypeUrl.ClusterLoadAssignment, TypeUrl.Listener, TypeUrl.RouteConfiguration]);
    assert.ok(connected.includes('n1'));
    const status = server.status().find((s) => s.id === 'n1')!;
    assert.deepEqual(status.types.map((t) => `${t.type}:${t.state}`).sort(), ['CDS:SYNCED', 'EDS:SYNCED', 'LDS:SYNCED', 'RDS:SYNCED']);
  } finally { c.close(); }
});

test('resources are packed as google.protobuf.Any and decode back to what was generated', async () => {
  cache.set('n2', snapshot('packed'));
  const c = new RawAdsClient(port);
  try {
    c.send({ node: { id: 'n2' }, type_url: TypeUrl.Cluster });
    const r = await c.next();
    assert.equal(r.type_url, TypeUrl.Cluster);
    assert.equal(r.resources.length, 1);
    assert.equal(r.resources[0]['@type'], TypeUrl.Cluster);
    assert.equal(r.resources[0].name, 'packed');
    assert.equal(r.resources[0].type, 'EDS');
    assert.ok(r.version_info.length > 0 && r.nonce.length > 0);
  } finally { c.close(); }
});

test('a NACK is recorded with the reason and the rejected version is not sent again', async () => {
  cache.set('n3', snapshot('x'));
  const c = new RawAdsClient(port);
  try {
    c.send({ node: { id: 'n3' }, type_url: TypeUrl.Cluster });
    const r = await c.next();
    c.send({ type_url: TypeUrl.Cluster, version_info: '', response_nonce: r.nonce, error_detail: { code: 3, message: 'Cluster x: lb_policy MAGLEV is not supported' } });
    assert.equal(await c.maybeNext(300), undefined, 'the server must not resend a NACKed version');
    const st = server.status().find((s) => s.id === 'n3')!.types.find((t) => t.type === 'CDS')!;
    assert.equal(st.state, 'NACKED');
    assert.equal(st.error, 'Cluster x: lb_policy MAGLEV is not supported');
    // A new snapshot is sent, and once ACKed the proxy is in sync again.
    cache.set('n3', snapshot('y'));
    const r2 = await c.next();
    assert.equal(r2.resources[0].name, 'y');
    c.send({ type_url: TypeUrl.Cluster, version_info: r2.version_info, response_nonce: r2.nonce });
    await c.maybeNext(200);
    assert.equal(server.status().find((s) => s.id === 'n3')!.types.find((t) => t.type === 'CDS')!.state, 'SYNCED');
  } finally { c.close(); }
});

test('a request answering a superseded nonce is ignored', async () => {
  cache.set('n4', snapshot('s1'));
  const c = new RawAdsClient(port);
  try {
    c.send({ node: { id: 'n4' }, type_url: TypeUrl.Cluster });
    const r1 = await c.next();
    c.send({ type_url: TypeUrl.Cluster, version_info: r1.version_info, response_nonce: r1.nonce });
    cache.set('n4', snapshot('s2'));
    const r2 = await c.next();
    // A late NACK for the first nonce must not mark the proxy as having rejected s2.
    c.send({ type_url: TypeUrl.Cluster, response_nonce: r1.nonce, error_detail: { message: 'late' } });
    await c.maybeNext(200);
    const st = server.status().find((s) => s.id === 'n4')!.types.find((t) => t.type === 'CDS')!;
    assert.notEqual(st.state, 'NACKED');
    assert.equal(st.versionSent, r2.version_info);
  } finally { c.close(); }
});

test('make before break: a removed cluster stays until the routes that used it are replaced', async () => {
  cache.set('n5', snapshot('old'));
  const c = new RawAdsClient(port);
  try {
    await syncLikeEnvoy(c, 'n5');
    cache.set('n5', snapshot('new'));
    const cds = await c.next();
    assert.equal(cds.type_url, TypeUrl.Cluster);
    assert.deepEqual(cds.resources.map((x: any) => x.name).sort(), ['new', 'old'], 'old cluster kept while routes still use it');
    // Like Envoy: subscribe to the new cluster's endpoints, then ACK the clusters.
    const lastEds = c.last.get(TypeUrl.ClusterLoadAssignment)!;
    c.send({ type_url: TypeUrl.ClusterLoadAssignment, version_info: lastEds.version_info, response_nonce: lastEds.nonce, resource_names: ['new', 'old'] });
    c.send({ type_url: TypeUrl.Cluster, version_info: cds.version_info, response_nonce: cds.nonce });
    const seen: string[] = [];
    let finalCds: any;
    for (;;) {
      const r = await c.maybeNext(300);
      if (!r) break;
      const names = r.resources.map((x: any) => x.name ?? x.cluster_name).sort();
      seen.push(`${r.type_url.split('.').pop()}:${names.join(',')}`);
      if (r.type_url === TypeUrl.Cluster) finalCds = r;
      c.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce,
        resource_names: r.type_url === TypeUrl.RouteConfiguration ? ['r'] : r.type_url === TypeUrl.ClusterLoadAssignment ? ['new', 'old'] : [] });
    }
    assert.ok(seen.length > 0, 'the server pushed after the cluster change');
    // After routes moved to "new", the old cluster is finally removed.
    assert.ok(finalCds, `expected a final CDS push, saw ${seen.join(' ')}`);
    assert.deepEqual(finalCds.resources.map((x: any) => x.name), ['new']);
    const routeIdx = seen.findIndex((s) => s.startsWith('RouteConfiguration'));
    const finalIdx = seen.lastIndexOf('Cluster:new');
    assert.ok(routeIdx >= 0 && routeIdx < finalIdx, `routes must move before the old cluster goes: ${seen.join(' ')}`);
  } finally { c.close(); }
});

test('a disconnecting proxy is reported to the registry', async () => {
  cache.set('n6', snapshot('z'));
  const c = new RawAdsClient(port);
  c.send({ node: { id: 'n6' }, type_url: TypeUrl.Cluster });
  await c.next();
  c.close();
  for (let i = 0; i < 50 && !disconnected.includes('n6'); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(disconnected.includes('n6'));
  assert.equal(server.status().find((s) => s.id === 'n6'), undefined);
});

function snapshotWith(clusterNames: string[], routeTo: string, extraRoutes = '') {
  return makeSnapshot({
    [TypeUrl.Cluster]: clusterNames.map((n) => n === 'bad' ? { ...cluster(n), lb_policy: 'MAGLEV' } : cluster(n)),
    [TypeUrl.ClusterLoadAssignment]: clusterNames.map((n) => cla(n, 9000)),
    [TypeUrl.Listener]: [listener],
    [TypeUrl.RouteConfiguration]: [{ ...routes(routeTo), name: 'r', ...(extraRoutes ? { internal_only_headers: [extraRoutes] } : {}) }],
    [TypeUrl.Secret]: [],
  });
}

test('a NACKed cluster does not hold back route changes that do not use it', async () => {
  cache.set('n7', snapshotWith(['a'], 'a'));
  const c = new RawAdsClient(port);
  try {
    await syncLikeEnvoy(c, 'n7');
    // The proxy rejects the new cluster set (it cannot build "bad") and keeps "a".
    cache.set('n7', snapshotWith(['a', 'bad'], 'a', 'x-changed'));
    const cds = await c.next();
    assert.equal(cds.type_url, TypeUrl.Cluster);
    c.send({ type_url: TypeUrl.Cluster, version_info: '', response_nonce: cds.nonce, error_detail: { message: 'Cluster bad: lb_policy MAGLEV is not supported' } });
    const rds = await c.next();
    assert.equal(rds.type_url, TypeUrl.RouteConfiguration, 'routes that only use "a" still go out');
    assert.deepEqual(rds.resources[0].internal_only_headers, ['x-changed']);
  } finally { c.close(); }
});

test('after a NACK, a request with the same nonce and the old version is not taken as an ACK', async () => {
  cache.set('n8', snapshot('old'));
  const c = new RawAdsClient(port);
  try {
    await syncLikeEnvoy(c, 'n8');
    const oldRds = c.last.get(TypeUrl.RouteConfiguration)!;
    cache.set('n8', snapshot('new'));
    // Drive CDS/EDS for the new snapshot, then NACK the routes.
    for (;;) {
      const r = await c.next();
      if (r.type_url === TypeUrl.RouteConfiguration) {
        c.send({ type_url: r.type_url, version_info: oldRds.version_info, response_nonce: r.nonce, resource_names: ['r'], error_detail: { message: 'route rejected' } });
        // Then the same nonce again with the old version (a subscription refresh, as Envoy sends).
        c.send({ type_url: r.type_url, version_info: oldRds.version_info, response_nonce: r.nonce, resource_names: ['r'] });
        break;
      }
      c.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: r.type_url === TypeUrl.ClusterLoadAssignment ? ['new', 'old'] : [] });
      if (r.type_url === TypeUrl.Cluster) {
        const eds = c.last.get(TypeUrl.ClusterLoadAssignment)!;
        c.send({ type_url: TypeUrl.ClusterLoadAssignment, version_info: eds.version_info, response_nonce: eds.nonce, resource_names: ['new', 'old'] });
      }
    }
    const extra = await c.maybeNext(300);
    // The old routes are still in force on the proxy, so "old" must not be removed.
    if (extra?.type_url === TypeUrl.Cluster) assert.ok(extra.resources.some((x: any) => x.name === 'old'), 'old cluster kept while its routes are in force');
    const st = server.status().find((s) => s.id === 'n8')!.types.find((t) => t.type === 'RDS')!;
    assert.equal(st.state, 'NACKED');
  } finally { c.close(); }
});

test('wildcard rules: an empty list is "everything" only until the client names a resource', async () => {
  cache.set('n9', snapshotWith(['a', 'b'], 'a'));
  const c = new RawAdsClient(port);
  try {
    c.send({ node: { id: 'n9' }, type_url: TypeUrl.Cluster, resource_names: ['a'] });
    const r1 = await c.next();
    assert.deepEqual(r1.resources.map((x: any) => x.name), ['a']);
    c.send({ type_url: TypeUrl.Cluster, version_info: r1.version_info, response_nonce: r1.nonce, resource_names: [] });
    const r2 = await c.next();
    assert.deepEqual(r2.resources ?? [], [], 'after naming resources, an empty list unsubscribes');
    c.send({ type_url: TypeUrl.Cluster, version_info: r2.version_info, response_nonce: r2.nonce, resource_names: ['*'] });
    const r3 = await c.next();
    assert.deepEqual(r3.resources.map((x: any) => x.name).sort(), ['a', 'b'], '`*` is the explicit wildcard');
  } finally { c.close(); }
});

test('the first request of a stream is answered even if it carries a nonce from an earlier stream', async () => {
  cache.set('n10', snapshot('q'));
  const c = new RawAdsClient(port);
  try {
    c.send({ node: { id: 'n10' }, type_url: TypeUrl.Cluster, version_info: 'v-old', response_nonce: '12345' });
    const r = await c.next();
    assert.equal(r.type_url, TypeUrl.Cluster);
    assert.equal(r.resources[0].name, 'q');
  } finally { c.close(); }
});
