// Fault injection (envoy.filters.http.fault): delays and aborts, configured per route through
// typed_per_filter_config as Istio emits it (an empty HTTPFault in http_filters), or at the filter level.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { compileRouteConfiguration } from '../../src/proxy/http/routing/route-config.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { send, sendMany } from './support/client.ts';
import { Harness } from './support/harness.ts';
import {
  assignment, edsCluster, faultFilter, httpListener, perRouteFault, route, routeConfig, routeTo, routerFilter, virtualHost,
} from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
const cluster = 'outbound|9080||reviews.default.svc.cluster.local';
let upstream: Upstream;
/** Requests the upstream received, by path. */
const seen = new Map<string, number>();
let agent: http.Agent;

const percent = (numerator: number, denominator = 'HUNDRED') => ({ numerator, denominator });
const abort = (httpStatus: number, numerator = 100) => ({ abort: { http_status: httpStatus, percentage: percent(numerator) } });
const delay = (ms: number, numerator = 100) => ({ delay: { fixed_delay: { seconds: '0', nanos: ms * 1e6 }, percentage: percent(numerator) } });

/** A route to the cluster, with per-route fault config when given. */
function faultRoute(path: string, fault?: Obj): Obj {
  return { ...route({ path }, routeTo(cluster), path.slice(1)), ...(fault ? perRouteFault(fault) : {}) };
}

function rejected(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

const faultRoutes = () => routeConfig('faults', [virtualHost('faults', ['*'], [
  faultRoute('/abort', abort(503)),
  faultRoute('/abort0', abort(503, 0)),
  faultRoute('/abort50', { abort: { http_status: 503, percentage: percent(5000, 'TEN_THOUSAND') } }),
  faultRoute('/delay', delay(300)),
  faultRoute('/delay-abort', { ...delay(100), ...abort(504) }),
  faultRoute('/delay-long', delay(500)),
  faultRoute('/grpc', { abort: { grpc_status: 14, percentage: percent(100) } }),
  faultRoute('/plain'),
])]);

// The filter-level config aborts everything with 503; routes replace it (entirely) with their own.
const overrideRoutes = () => routeConfig('override', [
  virtualHost('vh-level', ['vh.test'], [faultRoute('/vh'), faultRoute('/vh-route', abort(429))]),
  virtualHost('override', ['*'], [
    faultRoute('/hcm'),
    faultRoute('/override', abort(429)),
    faultRoute('/empty', {}),
  ]),
]);

const statsRoutes = () => routeConfig('stats', [virtualHost('stats', ['*'], [
  faultRoute('/abort', abort(503)),
  faultRoute('/delay', delay(50)),
  faultRoute('/plain'),
  faultRoute('/overflow', { ...delay(400), max_active_faults: { value: 1 } }),
])]);

function allRoutes(): Obj[] {
  const override = overrideRoutes();
  // The virtual host level: /vh gets the vhost's abort (451), /vh-route its own (429).
  ((override.virtual_hosts as Obj[])[0]).typed_per_filter_config = perRouteFault(abort(451)).typed_per_filter_config;
  return [faultRoutes(), override, statsRoutes()];
}

before(async () => {
  upstream = await startUpstream('reviews', (req, res) => {
    seen.set(req.url!, (seen.get(req.url!) ?? 0) + 1);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
  await harness.apply({
    clusters: [edsCluster(cluster)],
    endpoints: [assignment(cluster, [upstream.port])],
    listeners: [
      httpListener('faults', { rds: 'faults', hcm: { http_filters: [faultFilter(), routerFilter] } }),
      httpListener('override', { rds: 'override', hcm: { http_filters: [faultFilter(abort(503)), routerFilter] } }),
      httpListener('stats', { rds: 'stats', hcm: { http_filters: [faultFilter(), routerFilter] } }),
    ],
    routes: allRoutes(),
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
});

after(async () => {
  agent.destroy();
  await harness.close();
  await upstream.close();
});

describe('fault aborts', () => {
  it('answer every request with the configured status at 100%, never reaching the upstream', async () => {
    const replies = await sendMany(5, harness.port('faults'), '/abort', { agent });
    for (const reply of replies) {
      assert.equal(reply.status, 503);
      assert.equal(reply.body, 'fault filter abort');
    }
    assert.equal(seen.get('/abort'), undefined);
  });

  it('let every request through at 0%', async () => {
    const replies = await sendMany(5, harness.port('faults'), '/abort0', { agent });
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(seen.get('/abort0'), 5);
  });

  it('abort about half of 200 requests at 50% (5000 of TEN_THOUSAND)', async () => {
    const replies = await sendMany(200, harness.port('faults'), '/abort50', { agent });
    const aborted = replies.filter((r) => r.status === 503).length;
    const passed = replies.filter((r) => r.status === 200).length;
    assert.equal(aborted + passed, 200);
    assert.ok(aborted >= 60 && aborted <= 140, `aborted ${aborted} of 200`);
    assert.equal(seen.get('/abort50'), passed, 'only the requests not aborted reach the upstream');
  });

  it('answer a gRPC abort with HTTP 200 and grpc-status / grpc-message as trailers-only (headers on HTTP/1.1)', async () => {
    const reply = await send(harness.port('faults'), '/grpc', {
      method: 'POST', headers: { 'content-type': 'application/grpc', te: 'trailers' }, body: Buffer.alloc(5), agent,
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'application/grpc');
    assert.equal(reply.headers['grpc-status'], '14');
    assert.equal(reply.headers['grpc-message'], 'fault filter abort');
    assert.equal(reply.body, '');
    assert.equal(seen.get('/grpc'), undefined);
  });
});

describe('fault delays', () => {
  it('hold a request for the fixed delay at 100%, then forward it', async () => {
    const start = performance.now();
    const reply = await send(harness.port('faults'), '/delay', { agent });
    const elapsed = performance.now() - start;
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'ok');
    assert.ok(elapsed >= 250, `took ${elapsed.toFixed(0)} ms`);
    assert.equal(seen.get('/delay'), 1);
  });

  it('delay first, then abort', async () => {
    const start = performance.now();
    const reply = await send(harness.port('faults'), '/delay-abort', { agent });
    assert.equal(reply.status, 504);
    assert.equal(reply.body, 'fault filter abort');
    assert.ok(performance.now() - start >= 80);
    assert.equal(seen.get('/delay-abort'), undefined);
  });

  it('do not forward a request whose downstream went away during the delay', async () => {
    const port = harness.port('faults');
    const labels = { envoy_http_conn_manager_prefix: 'faults' };
    const req = http.request({ host: '127.0.0.1', port, path: '/delay-long', agent: false });
    req.on('error', () => {});
    req.end();
    await waitFor('the delay to start', () => harness.metric('envoy_http_fault_active_faults', labels), (v) => v === 1);
    req.destroy();
    await waitFor('the abandoned fault to end', () => harness.metric('envoy_http_fault_active_faults', labels), (v) => v === 0);
    // A second delayed request started after the first: once it is through, the first one's delay has
    // elapsed too, and it must not have reached the upstream.
    const reply = await send(port, '/delay-long', { agent });
    assert.equal(reply.status, 200);
    assert.equal(seen.get('/delay-long'), 1);
  });
});

describe('per-route fault config', () => {
  it('applies to its route only', async () => {
    const replies = await sendMany(3, harness.port('faults'), '/plain', { agent });
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200]);
  });

  it('applies the filter-level config to routes without their own', async () => {
    const reply = await send(harness.port('override'), '/hcm', { agent });
    assert.equal(reply.status, 503);
    assert.equal(reply.body, 'fault filter abort');
  });

  it("replaces the filter-level config on a route that has its own", async () => {
    const reply = await send(harness.port('override'), '/override', { agent });
    assert.equal(reply.status, 429);
  });

  it('replaces it entirely: an empty per-route HTTPFault injects nothing', async () => {
    const reply = await send(harness.port('override'), '/empty', { agent });
    assert.equal(reply.status, 200);
    assert.equal(seen.get('/empty'), 1);
  });

  it("applies a virtual host's config to its routes, a route's own config winning", async () => {
    assert.equal((await send(harness.port('override'), '/vh', { host: 'vh.test', agent })).status, 451);
    assert.equal((await send(harness.port('override'), '/vh-route', { host: 'vh.test', agent })).status, 429);
  });
});

describe('fault stats after 2 aborts, 1 delay and 1 plain request, then an overflow', () => {
  const h = { envoy_http_conn_manager_prefix: 'stats' };

  before(async () => {
    const port = harness.port('stats');
    await sendMany(2, port, '/abort', { agent });
    await send(port, '/delay', { agent });
    await send(port, '/plain', { agent });
  });

  it('counts aborts and delays injected, with no fault active once they finished', async () => {
    assert.equal(await harness.metric('envoy_http_fault_aborts_injected', h), 2);
    assert.equal(await harness.metric('envoy_http_fault_delays_injected', h), 1);
    await waitFor('active faults to drop to 0', () => harness.metric('envoy_http_fault_active_faults', h), (v) => v === 0);
    assert.equal(await harness.metric('envoy_http_fault_faults_overflow', h), 0);
  });

  it('lets a request through without a fault when max_active_faults is reached, and counts the overflow', async () => {
    const port = harness.port('stats');
    const first = send(port, '/overflow');
    await waitFor('the first delay to start', () => harness.metric('envoy_http_fault_active_faults', h), (v) => v === 1);
    const second = await send(port, '/overflow');
    assert.equal(second.status, 200);
    assert.equal(await harness.metric('envoy_http_fault_faults_overflow', h), 1);
    assert.equal(await harness.metric('envoy_http_fault_active_faults', h), 1, 'the first request is still delayed');
    assert.equal((await first).status, 200);
    assert.equal(await harness.metric('envoy_http_fault_delays_injected', h), 2);
    assert.equal(seen.get('/overflow'), 2);
  });
});

describe('rejected fault configs', () => {
  const unsupported: [string, Obj, RegExp][] = [
    ['response_rate_limit', { response_rate_limit: { fixed_limit: { limit_kbps: '1' }, percentage: percent(100) } }, /response_rate_limit is not supported/],
    ['headers', { ...abort(503), headers: [{ name: 'x-user', exact_match: 'a' }] }, /headers is not supported/],
    ['downstream_nodes', { ...abort(503), downstream_nodes: ['a'] }, /downstream_nodes is not supported/],
    ['upstream_cluster', { ...abort(503), upstream_cluster: 'x' }, /upstream_cluster is not supported/],
    ['header_abort', { abort: { header_abort: {}, percentage: percent(100) } }, /abort\.header_abort is not supported/],
    ['header_delay', { delay: { header_delay: {}, percentage: percent(100) } }, /delay\.header_delay is not supported/],
    ['an abort status outside 200..599', abort(600), /abort\.http_status 600 is not between 200 and 599/],
    ['a zero delay', { delay: { fixed_delay: { seconds: '0' }, percentage: percent(100) } }, /delay\.fixed_delay must be greater than 0/],
  ];
  for (const [what, fault, message] of unsupported) {
    it(`rejects ${what} in a route's config, naming the field`, () => {
      const routes = allRoutes();
      ((routes[0].virtual_hosts as Obj[])[0].routes as Obj[]).push(faultRoute('/bad', fault));
      assert.throws(() => harness.dataPlane.updateRoutes(routes), rejected(message));
    });
  }

  it('rejects an unsupported field in the filter-level config', async () => {
    await assert.rejects(async () => harness.dataPlane.updateListeners([
      httpListener('faults', { rds: 'faults', hcm: { http_filters: [faultFilter({ response_rate_limit: { fixed_limit: { limit_kbps: '1' } } }), routerFilter] } }),
    ]), rejected(/http_filters\[0\]\.typed_config\.response_rate_limit is not supported/));
  });

  it('still requires the router last when the fault filter is configured', async () => {
    await assert.rejects(async () => harness.dataPlane.updateListeners([
      httpListener('faults', { rds: 'faults', hcm: { http_filters: [routerFilter, faultFilter()] } }),
    ]), rejected(/http_filters\[0\] the router must be the last filter/));
  });

  it('rejects a typed_per_filter_config entry of an unknown type, naming the route and the key', () => {
    const routes = allRoutes();
    ((routes[0].virtual_hosts as Obj[])[0].routes as Obj[]).push({
      ...route({ path: '/unknown' }, routeTo(cluster), 'unknown-route'),
      typed_per_filter_config: { 'envoy.filters.http.lua': { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute' } },
    });
    assert.throws(() => harness.dataPlane.updateRoutes(routes),
      rejected(/^RouteConfiguration faults: virtual_hosts\[0\]\.routes\[8\]\.typed_per_filter_config\[envoy\.filters\.http\.lua\] \(route unknown-route of virtual host faults\): filter config type type\.googleapis\.com\/envoy\.extensions\.filters\.http\.lua\.v3\.LuaPerRoute is not supported/));
  });

  it('still serves the previous config after the rejections', async () => {
    assert.equal((await send(harness.port('faults'), '/abort', { agent })).status, 503);
    assert.equal((await send(harness.port('faults'), '/plain', { agent })).status, 200);
  });

  it('accepts an optional FilterConfig of an unknown type, and compiles a FilterConfig of a known one', () => {
    const filterConfig = 'type.googleapis.com/envoy.config.route.v3.FilterConfig';
    const table = compileRouteConfiguration('RouteConfiguration optional', routeConfig('optional', [virtualHost('vh', ['*'], [
      { ...route({ prefix: '/a' }, routeTo(cluster)), typed_per_filter_config: {
        'envoy.filters.http.lua': { '@type': filterConfig, is_optional: true, config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute' } },
        'envoy.filters.http.fault': { '@type': filterConfig, config: { '@type': TypeUrl.Fault, ...abort(503) } },
      } },
    ])]), { clusterExists: () => true }, false);
    const r = table.findVirtualHost('x')!.routes[0];
    assert.deepEqual([...r.perFilterConfig!.keys()], ['envoy.filters.http.fault']);
  });
});
