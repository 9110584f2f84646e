// Rejected configs: what cannot be honoured is rejected (never silently ignored) with a message that
// names the resource and the field, and the previous config keeps serving (DESIGN.md decision 8).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import {
  assignment, edsCluster, httpConnectionManager, httpListener, listener, route, routeConfig, routeTo, routerFilter, virtualHost,
} from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const harness = new Harness();
let upstream: Upstream;
let port = 0;
const reviews = 'outbound|9080|v1|reviews.default.svc.cluster.local';

const goodClusters = () => [edsCluster(reviews)];
const goodRoutes = () => [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(reviews))])])];
const goodListeners = () => [httpListener('outbound', { rds: 'routes' })];
/** A TLS transport socket whose certificate is an SDS secret from a file (only secrets over ADS are followed). */
const sdsTransportSocket = (context: 'UpstreamTlsContext' | 'DownstreamTlsContext') => ({
  name: 'envoy.transport_sockets.tls',
  typed_config: {
    '@type': `type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.${context}`,
    common_tls_context: { tls_certificate_sds_secret_configs: [{ name: 'default', sds_config: { path_config_source: { path: '/etc/certs/default.yaml' } } }] },
  },
});

function rejected(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

async function stillServes(): Promise<void> {
  const reply = await send(port, '/');
  assert.equal(reply.status, 200, `previous config stopped serving: ${reply.status} ${reply.body}`);
  assert.equal(JSON.parse(reply.body).upstream, 'reviews');
}

before(async () => {
  upstream = await startUpstream('reviews');
  await harness.apply({
    clusters: goodClusters(),
    endpoints: [assignment(reviews, [upstream.port])],
    listeners: goodListeners(),
    routes: goodRoutes(),
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  await upstream.close();
});

describe('rejected clusters', () => {
  const cases: [string, object, RegExp][] = [
    ['an unsupported lb_policy', edsCluster(reviews, { lb_policy: 'CLUSTER_PROVIDED' }),
      /^Cluster outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local: lb_policy CLUSTER_PROVIDED is not supported/],
    ['an unsupported cluster type', edsCluster(reviews, { type: 'ORIGINAL_DST' }), /: type ORIGINAL_DST is not supported/],
    ['outlier detection extensions', edsCluster(reviews, { outlier_detection: { consecutive_5xx: { value: 3 }, monitors: [{ name: 'custom' }] } }),
      /: outlier_detection\.monitors is not supported/],
    ['a max_ejection_time below base_ejection_time', edsCluster(reviews, { outlier_detection: { base_ejection_time: { seconds: '30' }, max_ejection_time: { seconds: '10' } } }),
      /: outlier_detection\.max_ejection_time cannot be smaller than base_ejection_time/],
    ['a ring hash function other than XX_HASH', edsCluster(reviews, { lb_policy: 'RING_HASH', ring_hash_lb_config: { hash_function: 'MURMUR_HASH_2' } }),
      /: ring_hash_lb_config\.hash_function MURMUR_HASH_2 is not supported/],
    ['a maglev table size that is not prime', edsCluster(reviews, { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: '65536' } } }),
      /: maglev_lb_config\.table_size 65536 is not a prime number/],
    ['a load balancer config of another lb_policy', edsCluster(reviews, { lb_policy: 'ROUND_ROBIN', least_request_lb_config: { choice_count: { value: 3 } } }),
      /: least_request_lb_config does not apply to lb_policy ROUND_ROBIN/],
    ['zone aware routing', edsCluster(reviews, { common_lb_config: { zone_aware_lb_config: { min_cluster_size: { value: 3 } } } }),
      /: common_lb_config\.zone_aware_lb_config is not supported/],
    ['a TLS certificate by SDS from a file', edsCluster(reviews, { transport_socket: sdsTransportSocket('UpstreamTlsContext') }),
      /: transport_socket\.typed_config\.common_tls_context\.tls_certificate_sds_secret_configs\[0\]\.sds_config\.path_config_source is not supported: secrets are fetched over the ADS stream only/],
    ['a transport socket without a TLS context', edsCluster(reviews, { transport_socket: { name: 'tls' } }), /: transport_socket\.typed_config is required/],
    ['an unsupported circuit breaker field', edsCluster(reviews, { circuit_breakers: { thresholds: [{ max_connection_pools: { value: 1 } }] } }),
      /: circuit_breakers\.thresholds\[0\]\.max_connection_pools is not supported/],
    ['an unknown upstream protocol extension', edsCluster(reviews, { typed_extension_protocol_options: { 'envoy.extensions.upstreams.tcp.v3.TcpProtocolOptions': {} } }), /typed_extension_protocol_options.*is not supported/],
    ['TCP keepalive probe counts', edsCluster(reviews, { upstream_connection_options: { tcp_keepalive: { keepalive_time: { value: 60 }, keepalive_probes: { value: 3 } } } }),
      /upstream_connection_options.tcp_keepalive.keepalive_probes is not supported/],
  ];
  for (const [what, cluster, message] of cases) {
    it(`rejects ${what} and keeps serving`, async () => {
      assert.throws(() => harness.dataPlane.updateClusters([cluster]), rejected(message));
      await stillServes();
    });
  }

  it('rejects the whole update when one cluster of it is bad (nothing is applied)', async () => {
    assert.throws(() => harness.dataPlane.updateClusters([edsCluster('extra'), edsCluster(reviews, { lb_policy: 'CLUSTER_PROVIDED' })]),
      rejected(/lb_policy CLUSTER_PROVIDED/));
    harness.dataPlane.updateRoutes([routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('extra'))])])]);
    assert.equal((await send(port, '/')).status, 503, 'cluster "extra" must not exist');
    harness.dataPlane.updateRoutes(goodRoutes());
    await stillServes();
  });
});

describe('rejected endpoints', () => {
  it('rejects an endpoint address that is not an IP', async () => {
    const cla = { cluster_name: reviews, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'reviews.local', port_value: 80 } } } }] }] };
    assert.throws(() => harness.dataPlane.updateEndpoints([cla]),
      rejected(/^ClusterLoadAssignment outbound\|9080\|v1\|reviews\.default\.svc\.cluster\.local: endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address reviews\.local is not an IP address/));
    await stillServes();
  });

  it('rejects drop_overloads in the assignment policy', async () => {
    const cla = { cluster_name: reviews, endpoints: [], policy: { drop_overloads: [{ category: 'throttle' }] } };
    assert.throws(() => harness.dataPlane.updateEndpoints([cla]), rejected(/: policy\.drop_overloads is not supported/));
    await stillServes();
  });

  it('rejects an endpoint listed in two priorities', async () => {
    const ep = { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: upstream.port } } } };
    const cla = { cluster_name: reviews, endpoints: [{ lb_endpoints: [ep] }, { priority: 1, lb_endpoints: [ep] }] };
    assert.throws(() => harness.dataPlane.updateEndpoints([cla]),
      rejected(/endpoints\[1\]\.lb_endpoints\[0\] 127\.0\.0\.1:\d+ is already listed in another priority or locality/));
    await stillServes();
  });
});

describe('rejected route configurations', () => {
  const withRoute = (r: Record<string, unknown>, domains = ['*']) => [routeConfig('routes', [virtualHost('all', domains, [r])])];
  const cases: [string, object[], RegExp][] = [
    ['an unsupported retry policy field', withRoute(route({ prefix: '/' }, routeTo(reviews, { retry_policy: { retry_on: '5xx', per_try_idle_timeout: { seconds: '1' } } }))),
      /^RouteConfiguration routes: virtual_hosts\[0\]\.routes\[0\]\.route\.retry_policy\.per_try_idle_timeout is not supported/],
    ['an invalid regex', withRoute(route({ safe_regex: { regex: '(' } }, routeTo(reviews))),
      /virtual_hosts\[0\]\.routes\[0\]\.match\.safe_regex\.regex is not a valid regular expression/],
    ['prefix_rewrite with a regex match', withRoute(route({ safe_regex: { regex: '/.*' } }, routeTo(reviews, { prefix_rewrite: '/' }))),
      /route\.prefix_rewrite cannot be used with a safe_regex match/],
    ['weights that do not add up to total_weight',
      withRoute(route({ prefix: '/' }, { weighted_clusters: { clusters: [{ name: reviews, weight: { value: 1 } }], total_weight: { value: 100 } } })),
      /weighted_clusters\.total_weight is 100 but the cluster weights add up to 1/],
    ['a domain listed twice', [routeConfig('routes', [virtualHost('a', ['x'], []), virtualHost('b', ['X'], [])])],
      /virtual_hosts\[1\]\.domains\[0\] x appears in more than one virtual host/],
    ['a runtime fraction match', withRoute(route({ prefix: '/', runtime_fraction: { default_value: { numerator: 50 } } }, routeTo(reviews))),
      /routes\[0\]\.match\.runtime_fraction is not supported/],
    ['a filter_state hash policy', withRoute(route({ prefix: '/' }, routeTo(reviews, { hash_policy: [{ filter_state: { key: 'k' } }] }))),
      /routes\[0\]\.route\.hash_policy\[0\]\.filter_state is not supported/],
    ['a hash policy setting two kinds at once', withRoute(route({ prefix: '/' }, routeTo(reviews,
      { hash_policy: [{ header: { header_name: 'x-user' }, query_parameter: { name: 'u' } }] }))),
      /routes\[0\]\.route\.hash_policy\[0\] must set exactly one of header, cookie, connection_properties, query_parameter, filter_state/],
  ];
  for (const [what, routes, message] of cases) {
    it(`rejects ${what} and keeps serving`, async () => {
      assert.throws(() => harness.dataPlane.updateRoutes(routes), rejected(message));
      await stillServes();
    });
  }
});

describe('rejected listeners', () => {
  const withHcm = (extra: object, options: Parameters<typeof httpConnectionManager>[0] = {}) =>
    [listener('outbound', httpConnectionManager({ rds: 'routes', ...options, extra: extra as Record<string, unknown> }))];
  const lua = { name: 'envoy.filters.http.lua', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' } };
  const cases: [string, object[], RegExp][] = [
    ['an HTTP filter it does not implement', withHcm({}, { httpFilters: [lua, routerFilter] }),
      /^Listener outbound: filter_chains\[0\]\.filters\[0\]\.typed_config\.http_filters\[0\] \(envoy\.filters\.http\.lua\): filter type type\.googleapis\.com\/envoy\.extensions\.filters\.http\.lua\.v3\.Lua is not supported/],
    ['a filter chain without the router last', withHcm({}, { httpFilters: [] }), /http_filters must end with the router filter/],
    ['an HTTP/3 codec', withHcm({ codec_type: 'HTTP3' }), /typed_config\.codec_type HTTP3 is not supported/],
    ['an access log without its typed_config', withHcm({ access_log: [{ name: 'envoy.access_loggers.file' }] }), /typed_config\.access_log\[0\]\.typed_config is required/],
    ['a filter chain without a terminal filter', [{ ...goodListeners()[0], filter_chains: [{}] }], /filter_chains\[0\]\.filters has 0 filters/],
    ['a TLS certificate by SDS from a file on the filter chain',
      [{ ...goodListeners()[0], filter_chains: [{ ...(goodListeners()[0] as { filter_chains: object[] }).filter_chains[0], transport_socket: sdsTransportSocket('DownstreamTlsContext') }] }],
      /filter_chains\[0\]\.transport_socket\.typed_config\.common_tls_context\.tls_certificate_sds_secret_configs\[0\]\.sds_config\.path_config_source is not supported: secrets are fetched over the ADS stream only/],
    ['an inline route naming a cluster that does not exist (validate_clusters defaults to true inline)',
      [httpListener('outbound', { routeConfig: routeConfig('inline', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('nope'))])]) })],
      /references cluster nope, which does not exist \(validate_clusters\)/],
  ];
  for (const [what, listeners, message] of cases) {
    it(`rejects ${what} and keeps serving`, async () => {
      await assert.rejects(harness.dataPlane.updateListeners(listeners), rejected(message));
      assert.equal(harness.port(), port);
      await stillServes();
    });
  }

  it('accepts an optional HTTP filter it does not implement by skipping it', async () => {
    const optionalLua = { name: 'envoy.filters.http.lua', is_optional: true, typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua' } };
    await harness.dataPlane.updateListeners(withHcm({}, { httpFilters: [optionalLua, routerFilter] }));
    await stillServes();
    await harness.dataPlane.updateListeners(goodListeners());
  });

  it('rejects a listener whose port cannot be bound, and binds nothing of that update', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const takenPort = (taken.address() as net.AddressInfo).port;
    try {
      const update = [...goodListeners(), httpListener('second', { rds: 'routes' }), httpListener('blocked', { rds: 'routes', port: takenPort })];
      await assert.rejects(harness.dataPlane.updateListeners(update), rejected(new RegExp(`^Listener blocked: cannot bind 127\\.0\\.0\\.1:${takenPort}: EADDRINUSE`)));
      assert.deepEqual(harness.dataPlane.listenerAddresses().map((l) => l.name), ['outbound']);
      await stillServes();
    } finally {
      taken.close();
    }
  });
});
