// CORS (envoy.filters.http.cors) as Istio configures it in Envoy v3: an empty Cors in http_filters
// before the router, and a CorsPolicy in the typed_per_filter_config of routes, virtual hosts or the
// route configuration (the most specific applies). Preflights are answered by the proxy, actual
// requests get the access-control-* response headers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { compileRouteConfiguration } from '../../src/proxy/http/routing/route-config.ts';
import { CorsPolicy } from '../../src/proxy/http/filters/cors/policy.ts';
import { compileCorsPolicy } from '../../src/proxy/http/filters/cors/config.ts';
import { FieldPath } from '../../src/proxy/upstream/envoy-config.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { send, type Reply } from './support/client.ts';
import { corsFilter, corsFilterName, corsHeaders, corsPolicyTypeUrl, perRouteCors, proxyHeaders } from './support/cors.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, routerFilter, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
const cluster = 'outbound|9080||reviews.default.svc.cluster.local';
const app = 'https://app.example.com';
let upstream: Upstream;
/** What the upstream received: `METHOD /path`. */
const seen: string[] = [];
let agent: http.Agent;

function corsRoute(path: string, policy?: Obj): Obj {
  return { ...route({ path }, routeTo(cluster), path.slice(1)), ...(policy ? perRouteCors(policy) : {}) };
}

const exactPolicy = {
  allow_origin_string_match: [{ exact: app }],
  allow_methods: 'GET, POST',
  allow_headers: 'content-type, x-custom',
  expose_headers: 'x-request-id, x-upstream',
  max_age: '600',
  allow_credentials: { value: true },
};

function corsRoutes(): Obj {
  const site = virtualHost('site', ['*'], [
    corsRoute('/exact', exactPolicy),
    corsRoute('/prefix', { allow_origin_string_match: [{ prefix: 'https://dev.' }], allow_methods: 'PUT' }),
    corsRoute('/regex', { allow_origin_string_match: [{ safe_regex: { google_re2: {}, regex: 'https://[a-z]+\\.example\\.org' } }], allow_methods: 'DELETE' }),
    corsRoute('/ignore-case', { allow_origin_string_match: [{ suffix: '.example.net', ignore_case: true }] }),
    corsRoute('/strict', {
      allow_origin_string_match: [{ exact: app }], allow_methods: 'GET', allow_credentials: { value: true },
      forward_not_matching_preflights: { value: false },
    }),
    corsRoute('/star', { allow_origin_string_match: [{ exact: '*' }], allow_methods: '*', allow_headers: '*' }),
    corsRoute('/pna', { allow_origin_string_match: [{ exact: app }], allow_private_network_access: { value: true } }),
    corsRoute('/shadow', {
      allow_origin_string_match: [{ exact: app }],
      filter_enabled: { default_value: { numerator: 0, denominator: 'HUNDRED' } },
      shadow_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
    }),
    corsRoute('/enabled', {
      allow_origin_string_match: [{ exact: app }], allow_methods: 'GET',
      filter_enabled: { default_value: { numerator: 1_000_000, denominator: 'MILLION' } },
    }),
    corsRoute('/upstream-acao', { allow_origin_string_match: [{ exact: app }], expose_headers: 'x-upstream' }),
    { match: { path: '/direct' }, direct_response: { status: 200, body: { inline_string: 'direct' } }, ...perRouteCors(exactPolicy) },
    corsRoute('/vh'),
    { ...route({ path: '/no-cluster' }, routeTo('outbound|1||missing.default.svc.cluster.local'), 'no-cluster'), ...perRouteCors(exactPolicy) },
  ]);
  Object.assign(site, perRouteCors({ allow_origin_string_match: [{ exact: 'https://vh.example' }], allow_methods: 'GET', expose_headers: 'x-vh', max_age: '60' }));
  const plain = virtualHost('plain', ['plain.test'], [corsRoute('/exact')]);
  const rcLevel = virtualHost('rc-level', ['rc.test'], [corsRoute('/rc')]);
  return routeConfig('cors', [plain, rcLevel, site], perRouteCors({ allow_origin_string_match: [{ exact: 'https://rc.example' }], allow_methods: 'HEAD' }));
}

function noRcLevel(): Obj {
  const rc = corsRoutes();
  delete rc.typed_per_filter_config;
  return rc;
}

function preflight(path: string, origin: string, extra: Record<string, string> = {}, host?: string): Promise<Reply> {
  return send(harness.port('cors'), path, {
    method: 'OPTIONS', host, agent, headers: { origin, 'access-control-request-method': 'POST', ...extra },
  });
}

function rejected(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

/** How many requests for `path` the upstream received since `from`. */
function forwarded(path: string, from: number): string[] {
  return seen.slice(from).filter((s) => s.endsWith(` ${path}`));
}

before(async () => {
  upstream = await startUpstream('reviews', (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    const headers: Record<string, string> = { 'content-type': 'text/plain', 'content-length': '2', 'x-upstream': 'reviews' };
    if (req.url === '/upstream-acao') {
      headers['access-control-allow-origin'] = '*';
      headers['access-control-expose-headers'] = 'x-from-upstream';
    }
    res.writeHead(200, headers);
    res.end('ok');
  });
  await harness.apply({
    clusters: [edsCluster(cluster)],
    endpoints: [assignment(cluster, [upstream.port])],
    listeners: [
      httpListener('cors', { rds: 'cors', hcm: { http_filters: [corsFilter(), routerFilter] } }),
      httpListener('no-filter', { rds: 'cors' }),
    ],
    routes: [corsRoutes()],
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
});

after(async () => {
  agent.destroy();
  await harness.close();
  await upstream.close();
});

describe('preflights with an allowed origin', () => {
  it('are answered by the proxy with exactly the configured headers (exact origin), never forwarded', async () => {
    const from = seen.length;
    const reply = await preflight('/exact', app, { 'access-control-request-headers': 'content-type' });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '');
    assert.deepEqual(proxyHeaders(reply), [
      ['content-length', '0'],
      ['access-control-allow-origin', app],
      ['access-control-allow-credentials', 'true'],
      ['access-control-allow-methods', 'GET, POST'],
      ['access-control-allow-headers', 'content-type, x-custom'],
      ['access-control-max-age', '600'],
    ]);
    assert.deepEqual(forwarded('/exact', from), []);
  });

  it('match prefix, regex (full match) and case-insensitive suffix origins', async () => {
    const from = seen.length;
    const prefix = await preflight('/prefix', 'https://dev.example.com');
    assert.deepEqual(corsHeaders(prefix), { 'access-control-allow-origin': 'https://dev.example.com', 'access-control-allow-methods': 'PUT' });
    const regex = await preflight('/regex', 'https://shop.example.org');
    assert.deepEqual(corsHeaders(regex), { 'access-control-allow-origin': 'https://shop.example.org', 'access-control-allow-methods': 'DELETE' });
    const ignoreCase = await preflight('/ignore-case', 'https://WWW.Example.NET');
    assert.deepEqual(corsHeaders(ignoreCase), { 'access-control-allow-origin': 'https://WWW.Example.NET' });
    assert.deepEqual(seen.slice(from), []);
  });

  it('echo the requested method and headers when allow_methods / allow_headers are "*", for any origin with an exact "*" matcher', async () => {
    const reply = await preflight('/star', 'https://anyone.test', { 'access-control-request-headers': 'x-a, x-b' });
    assert.equal(reply.status, 200);
    assert.deepEqual(corsHeaders(reply), {
      'access-control-allow-origin': 'https://anyone.test',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'x-a, x-b',
    });
  });

  it('allow private network access only when configured and requested with "true"', async () => {
    const asked = await preflight('/pna', app, { 'access-control-request-private-network': 'true' });
    assert.equal(corsHeaders(asked)['access-control-allow-private-network'], 'true');
    const notAsked = await preflight('/pna', app);
    assert.equal(corsHeaders(notAsked)['access-control-allow-private-network'], undefined);
    const notConfigured = await preflight('/exact', app, { 'access-control-request-private-network': 'true' });
    assert.equal(corsHeaders(notConfigured)['access-control-allow-private-network'], undefined);
  });

  it('are answered when filter_enabled is 100% of MILLION', async () => {
    const from = seen.length;
    const reply = await preflight('/enabled', app);
    assert.deepEqual(corsHeaders(reply), { 'access-control-allow-origin': app, 'access-control-allow-methods': 'GET' });
    assert.deepEqual(forwarded('/enabled', from), []);
  });
});

describe('preflights with an origin that is not allowed', () => {
  it('are forwarded upstream by default, and the response gets no CORS headers', async () => {
    const from = seen.length;
    const reply = await preflight('/exact', 'https://evil.example.com');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    assert.deepEqual(forwarded('/exact', from), ['OPTIONS /exact']);
  });

  it('a regex origin must match in full', async () => {
    const from = seen.length;
    const reply = await preflight('/regex', 'https://shop.example.org.evil.com');
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    assert.deepEqual(forwarded('/regex', from), ['OPTIONS /regex']);
  });

  it('are answered 200 without access-control-allow-origin when forward_not_matching_preflights is false', async () => {
    const from = seen.length;
    const reply = await preflight('/strict', 'https://evil.example.com');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, '');
    assert.deepEqual(proxyHeaders(reply), [
      ['content-length', '0'],
      ['access-control-allow-credentials', 'true'],
      ['access-control-allow-methods', 'GET'],
    ]);
    assert.deepEqual(forwarded('/strict', from), []);
  });
});

describe('actual requests', () => {
  it('with an allowed origin are forwarded and get allow-origin, expose-headers and allow-credentials', async () => {
    const from = seen.length;
    const reply = await send(harness.port('cors'), '/exact', { agent, headers: { origin: app } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {
      'access-control-allow-origin': app,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, x-upstream',
    });
    assert.equal(reply.headers['x-upstream'], 'reviews');
    assert.deepEqual(forwarded('/exact', from), ['GET /exact']);
  });

  it('an OPTIONS request without Access-Control-Request-Method is not a preflight: it is forwarded and gets the headers', async () => {
    const from = seen.length;
    const reply = await send(harness.port('cors'), '/exact', { method: 'OPTIONS', agent, headers: { origin: app } });
    assert.equal(reply.body, 'ok');
    assert.equal(corsHeaders(reply)['access-control-allow-origin'], app);
    assert.deepEqual(forwarded('/exact', from), ['OPTIONS /exact']);
  });

  it('replace the access-control headers the upstream sent', async () => {
    const reply = await send(harness.port('cors'), '/upstream-acao', { method: 'POST', body: 'x', agent, headers: { origin: app } });
    assert.deepEqual(corsHeaders(reply), { 'access-control-allow-origin': app, 'access-control-expose-headers': 'x-upstream' });
    assert.equal(reply.rawHeaders.filter((h) => h.toLowerCase() === 'access-control-allow-origin').length, 1);
  });

  it('with an origin that is not allowed get no CORS headers (the upstream\'s are left alone)', async () => {
    const reply = await send(harness.port('cors'), '/exact', { agent, headers: { origin: 'https://evil.example.com' } });
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    const upstreamOwn = await send(harness.port('cors'), '/upstream-acao', { agent, headers: { origin: 'https://evil.example.com' } });
    assert.deepEqual(corsHeaders(upstreamOwn), { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-from-upstream' });
  });

  it('without an Origin are untouched, preflight-looking or not', async () => {
    const from = seen.length;
    const get = await send(harness.port('cors'), '/exact', { agent });
    assert.deepEqual(corsHeaders(get), {});
    const options = await send(harness.port('cors'), '/exact', { method: 'OPTIONS', agent, headers: { 'access-control-request-method': 'POST' } });
    assert.deepEqual(corsHeaders(options), {});
    assert.deepEqual(forwarded('/exact', from), ['GET /exact', 'OPTIONS /exact']);
  });

  it('get CORS headers on a local reply of the router too (a route whose cluster does not exist: 503 NC)', async () => {
    const reply = await send(harness.port('cors'), '/no-cluster', { agent, headers: { origin: app } });
    assert.equal(reply.status, 503);
    assert.deepEqual(corsHeaders(reply), {
      'access-control-allow-origin': app,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, x-upstream',
    });
  });

  it('to a direct-response route are untouched (Envoy: no route entry)', async () => {
    const reply = await preflight('/direct', app);
    assert.equal(reply.body, 'direct');
    assert.deepEqual(corsHeaders(reply), {});
  });

  it('in shadow mode (filter_enabled 0%, shadow_enabled 100%) are forwarded and untouched', async () => {
    const from = seen.length;
    const reply = await preflight('/shadow', app);
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    assert.deepEqual(forwarded('/shadow', from), ['OPTIONS /shadow']);
  });

  it('through a connection manager without the CORS filter are untouched, even with a policy on the route', async () => {
    const from = seen.length;
    const reply = await send(harness.port('no-filter'), '/exact', { method: 'OPTIONS', agent, headers: { origin: app, 'access-control-request-method': 'GET' } });
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    assert.deepEqual(forwarded('/exact', from), ['OPTIONS /exact']);
  });
});

describe('which policy applies', () => {
  it('a route without its own policy uses its virtual host\'s', async () => {
    const vh = await preflight('/vh', 'https://vh.example');
    assert.deepEqual(corsHeaders(vh), {
      'access-control-allow-origin': 'https://vh.example', 'access-control-allow-methods': 'GET', 'access-control-max-age': '60',
    });
    const actual = await send(harness.port('cors'), '/vh', { agent, headers: { origin: 'https://vh.example' } });
    assert.deepEqual(corsHeaders(actual), { 'access-control-allow-origin': 'https://vh.example', 'access-control-expose-headers': 'x-vh' });
  });

  it('a route\'s own policy replaces its virtual host\'s: the virtual host\'s origin is not allowed on it', async () => {
    const from = seen.length;
    const reply = await preflight('/exact', 'https://vh.example');
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    assert.deepEqual(forwarded('/exact', from), ['OPTIONS /exact']);
  });

  it('a virtual host without a policy inherits the route configuration\'s; one with its own does not', async () => {
    const rc = await preflight('/rc', 'https://rc.example', {}, 'rc.test');
    assert.deepEqual(corsHeaders(rc), { 'access-control-allow-origin': 'https://rc.example', 'access-control-allow-methods': 'HEAD' });
    const vh = await preflight('/vh', 'https://rc.example');
    assert.equal(vh.body, 'ok');
    assert.deepEqual(corsHeaders(vh), {});
  });

  it('a policy swap applies to the next request', async () => {
    harness.dataPlane.updateRoutes([noRcLevel()]);
    const reply = await preflight('/rc', 'https://rc.example', {}, 'rc.test');
    assert.equal(reply.body, 'ok');
    assert.deepEqual(corsHeaders(reply), {});
    harness.dataPlane.updateRoutes([corsRoutes()]);
    const back = await preflight('/rc', 'https://rc.example', {}, 'rc.test');
    assert.equal(back.body, '');
  });

  it('given the enclosing level\'s policy, a policy takes each unset field from it (Envoy\'s field-by-field resolution)', () => {
    const at = new FieldPath('test');
    const vh = compileCorsPolicy({ allow_origin_string_match: [{ exact: app }], allow_methods: 'GET', allow_credentials: { value: true }, max_age: '5' }, at);
    const own = compileCorsPolicy({ allow_methods: 'PUT', forward_not_matching_preflights: { value: false } }, at, vh);
    assert.ok(own instanceof CorsPolicy);
    assert.equal(own.isOriginAllowed(app), true);
    assert.equal(own.allowMethods, 'PUT');
    assert.equal(own.maxAge, '5');
    assert.equal(own.allowCredentials, true);
    assert.equal(own.forwardNotMatchingPreflights, false);
    const off = compileCorsPolicy({ allow_credentials: { value: false } }, at, vh);
    assert.equal(off.allowCredentials, false);
  });
});

describe('stats', () => {
  it('count valid and invalid origins, not requests without Origin, on /stats/prometheus', async () => {
    const count = async (name: string) => (await harness.metric(name, { envoy_http_conn_manager_prefix: 'cors' })) ?? 0;
    const before = { valid: await count('envoy_http_cors_origin_valid'), invalid: await count('envoy_http_cors_origin_invalid') };
    await send(harness.port('cors'), '/exact', { agent, headers: { origin: app } });
    await preflight('/exact', 'https://evil.example.com');
    await send(harness.port('cors'), '/exact', { agent });
    await send(harness.port('cors'), '/vh', { agent });
    assert.equal(await count('envoy_http_cors_origin_valid') - before.valid, 1);
    assert.equal(await count('envoy_http_cors_origin_invalid') - before.invalid, 1);
  });
});

describe('rejected CORS configs', () => {
  const bad: [string, Obj, RegExp][] = [
    ['a runtime key in filter_enabled', { filter_enabled: { default_value: { numerator: 100 }, runtime_key: 'cors.enabled' } }, /filter_enabled\.runtime_key is not supported \(there is no runtime\)/],
    ['a fractional filter_enabled', { filter_enabled: { default_value: { numerator: 50, denominator: 'HUNDRED' } } }, /filter_enabled\.default_value 50\/100 is not supported \(only 0% or 100%\)/],
    ['a runtime key in shadow_enabled', { shadow_enabled: { default_value: { numerator: 100 }, runtime_key: 'cors.shadow' } }, /shadow_enabled\.runtime_key is not supported/],
    ['filter_enabled without default_value', { filter_enabled: {} }, /filter_enabled\.default_value is required/],
    ['an invalid regex origin', { allow_origin_string_match: [{ exact: app }, { safe_regex: { regex: '(' } }] }, /allow_origin_string_match\[1\]\.safe_regex\.regex is not a valid regular expression/],
    ['an origin matcher with two kinds', { allow_origin_string_match: [{ exact: app, prefix: 'https' }] }, /allow_origin_string_match\[0\] must set exactly one of/],
    ['a header value with a line break', { allow_methods: 'GET\r\nx-injected: 1' }, /allow_methods is not a valid header value/],
    ['an unknown field', { allow_origin: ['*'] }, /allow_origin is not supported/],
  ];
  for (const [what, policy, message] of bad) {
    it(`rejects ${what}, naming the field`, () => {
      const routes = corsRoutes();
      ((routes.virtual_hosts as Obj[])[2].routes as Obj[]).push(corsRoute('/bad', policy));
      assert.throws(() => harness.dataPlane.updateRoutes([routes]),
        rejected(new RegExp(`^RouteConfiguration cors: virtual_hosts\\[2\\]\\.routes\\[13\\]\\.typed_per_filter_config\\[envoy\\.filters\\.http\\.cors\\]\\.${message.source}`)));
    });
  }

  it('rejects a field in the http_filters Cors (it has none)', async () => {
    await assert.rejects(async () => harness.dataPlane.updateListeners([
      httpListener('cors', { rds: 'cors', hcm: { http_filters: [corsFilter({ allow_methods: 'GET' }), routerFilter] } }),
    ]), rejected(/http_filters\[0\]\.typed_config\.allow_methods is not supported/));
  });

  it('rejects a CorsPolicy in http_filters', async () => {
    await assert.rejects(async () => harness.dataPlane.updateListeners([
      httpListener('cors', { rds: 'cors', hcm: { http_filters: [{ name: corsFilterName, typed_config: { '@type': corsPolicyTypeUrl } }, routerFilter] } }),
    ]), rejected(/CorsPolicy is a per-route config \(typed_per_filter_config\); http_filters takes type\.googleapis\.com\/envoy\.extensions\.filters\.http\.cors\.v3\.Cors/));
  });

  it('rejects the http_filters Cors type as a per-route config', () => {
    assert.throws(() => compileRouteConfiguration('RouteConfiguration x', routeConfig('x', [virtualHost('vh', ['*'], [
      { ...route({ prefix: '/' }, routeTo(cluster)), typed_per_filter_config: { [corsFilterName]: { '@type': TypeUrl.Cors } } },
    ])]), { clusterExists: () => true }, false), rejected(/filter config type type\.googleapis\.com\/envoy\.extensions\.filters\.http\.cors\.v3\.Cors is not supported/));
  });

  it('still serves the previous config after the rejections', async () => {
    const reply = await preflight('/exact', app);
    assert.equal(corsHeaders(reply)['access-control-allow-origin'], app);
  });
});
