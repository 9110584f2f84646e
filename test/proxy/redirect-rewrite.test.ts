// Redirect routes (the Location Envoy builds, response codes, stats) and a route's regex_rewrite of the
// upstream path.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { headerValues, send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
let upstream: Upstream;
let port = 0;

const redirect = (match: Obj, r: Obj, extra: Obj = {}): Obj => ({ match, redirect: r, ...extra });
const rewrite = (regex: string, substitution: string) => ({ regex_rewrite: { pattern: { regex }, substitution } });

before(async () => {
  upstream = await startUpstream('up');
  await harness.apply({
    clusters: [edsCluster('up')],
    endpoints: [assignment('up', [upstream.port])],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [
      redirect({ prefix: '/https' }, { https_redirect: true }),
      redirect({ prefix: '/scheme' }, { scheme_redirect: 'http' }),
      redirect({ prefix: '/host' }, { host_redirect: 'other.example', response_code: 'FOUND' }),
      redirect({ prefix: '/port' }, { port_redirect: 8443, response_code: 'SEE_OTHER' }),
      redirect({ prefix: '/path-query' }, { path_redirect: '/new?b=2', strip_query: true, response_code: 'PERMANENT_REDIRECT' }),
      redirect({ prefix: '/path' }, { path_redirect: '/new/path', response_code: 'TEMPORARY_REDIRECT' }),
      redirect({ prefix: '/strip' }, { strip_query: true }),
      redirect({ prefix: '/prefix/' }, { prefix_rewrite: '/v2/' }),
      redirect({ path: '/exact' }, { prefix_rewrite: '/replaced' }),
      redirect({ safe_regex: { regex: '/regex/[^/]+/[^/]+' } }, rewrite('^/regex/([^/]+)/([^/]+)$', '/\\2/\\1')),
      redirect({ prefix: '/all' }, {
        https_redirect: true, host_redirect: 'secure.example', port_redirect: 9443, path_redirect: '/landing', strip_query: true,
        response_code: 4, // the enum's number: PERMANENT_REDIRECT
      }),
      redirect({ prefix: '/mutated' }, { host_redirect: 'x.example' }, {
        response_headers_to_add: [{ header: { key: 'x-redirected', value: 'yes' } }, { header: { key: 'location', value: '/elsewhere' }, append_action: 'OVERWRITE_IF_EXISTS' }],
      }),
      route({ prefix: '/rw/' }, routeTo('up', rewrite('^/rw/([a-z]+)/(\\d+)$', '/items/\\2/\\1'))),
      route({ prefix: '/dash' }, routeTo('up', rewrite('-', '_'))),
      route({ prefix: '/foo' }, routeTo('up', rewrite('o+', '[\\0]\\\\'))),
      route({ safe_regex: { regex: '/re/.*' } }, routeTo('up', { ...rewrite('^/re/', '/'), retry_policy: { retry_on: '5xx', num_retries: 1 } })),
    ])])],
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  await upstream.close();
});

async function location(path: string, host = 'example.com', headers: Record<string, string> = {}): Promise<[number, string]> {
  const reply = await send(port, path, { host, headers });
  assert.equal(reply.body, '');
  assert.deepEqual(headerValues(reply.rawHeaders, 'location').length, 1, JSON.stringify(reply.rawHeaders));
  return [reply.status, reply.headers.location!];
}

describe('redirects', () => {
  it('https_redirect: answers 301 by default, drops the default http port, keeps others, path and query', async () => {
    assert.deepEqual(await location('/https/x?q=1', 'example.com:80'), [301, 'https://example.com/https/x?q=1']);
    assert.deepEqual(await location('/https/x?q=1', 'example.com:8080'), [301, 'https://example.com:8080/https/x?q=1']);
    assert.deepEqual(await location('/https', 'example.com'), [301, 'https://example.com/https']);
  });

  it('scheme_redirect: drops :443 when leaving https (x-forwarded-proto)', async () => {
    assert.deepEqual(await location('/scheme', 'example.com:443', { 'x-forwarded-proto': 'https' }), [301, 'http://example.com/scheme']);
    assert.deepEqual(await location('/scheme', 'example.com:443'), [301, 'http://example.com:443/scheme']);
  });

  it('host_redirect: replaces the whole host, with FOUND', async () => {
    assert.deepEqual(await location('/host/a?b=c', 'example.com:8080'), [302, 'http://other.example/host/a?b=c']);
  });

  it('port_redirect: replaces the request port, with SEE_OTHER', async () => {
    assert.deepEqual(await location('/port?x', 'example.com:8080'), [303, 'http://example.com:8443/port?x']);
    assert.deepEqual(await location('/port', '[::1]:8080'), [303, 'http://[::1]:8443/port']);
  });

  it('path_redirect: keeps the request query, with TEMPORARY_REDIRECT', async () => {
    assert.deepEqual(await location('/path/x?a=1'), [307, 'http://example.com/new/path?a=1']);
    assert.deepEqual(await location('/path/x'), [307, 'http://example.com/new/path']);
  });

  it('path_redirect with its own query: replaces the request query and is not stripped, with PERMANENT_REDIRECT', async () => {
    assert.deepEqual(await location('/path-query?a=1'), [308, 'http://example.com/new?b=2']);
  });

  it('strip_query: drops the request query', async () => {
    assert.deepEqual(await location('/strip/x?a=1'), [301, 'http://example.com/strip/x']);
  });

  it('prefix_rewrite: swaps the matched prefix or path, keeping the rest and the query', async () => {
    assert.deepEqual(await location('/prefix/a/b?c=1'), [301, 'http://example.com/v2/a/b?c=1']);
    assert.deepEqual(await location('/exact?c=1'), [301, 'http://example.com/replaced?c=1']);
  });

  it('regex_rewrite: substitutes group references in the path, keeping the query', async () => {
    assert.deepEqual(await location('/regex/a/b?x=1'), [301, 'http://example.com/b/a?x=1']);
  });

  it('combines scheme, host, port, path and strip_query', async () => {
    assert.deepEqual(await location('/all/x?q=1', 'example.com:8080'), [308, 'https://secure.example:9443/landing']);
  });

  it('applies response header mutations to the redirect (after the Location is set)', async () => {
    const reply = await send(port, '/mutated', { host: 'example.com' });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers['x-redirected'], 'yes');
    assert.deepEqual(headerValues(reply.rawHeaders, 'location'), ['/elsewhere']);
  });

  it('counts redirects (and, as Envoy, direct responses)', async () => {
    const before = await harness.metric('envoy_http_rq_redirect', { envoy_http_conn_manager_prefix: 'outbound' }) ?? 0;
    const direct = await harness.metric('envoy_http_rq_direct_response', { envoy_http_conn_manager_prefix: 'outbound' }) ?? 0;
    await location('/https');
    assert.equal(await harness.metric('envoy_http_rq_redirect', { envoy_http_conn_manager_prefix: 'outbound' }), before + 1);
    assert.equal(await harness.metric('envoy_http_rq_direct_response', { envoy_http_conn_manager_prefix: 'outbound' }), direct + 1);
  });
});

describe('regex_rewrite of the upstream path', () => {
  const url = async (path: string) => {
    const reply = await send(port, path);
    assert.equal(reply.status, 200, reply.body);
    return (JSON.parse(reply.body) as Seen).url;
  };

  it('substitutes group references on the path and keeps the query', async () => {
    assert.equal(await url('/rw/book/42?x=1'), '/items/42/book?x=1');
    assert.equal(await url('/rw/book/x42'), '/rw/book/x42', 'no match: unchanged');
  });

  it('replaces every match, never in the query', async () => {
    assert.equal(await url('/dash-a-b?q=a-b'), '/dash_a_b?q=a-b');
  });

  it('reads \\0 as the whole match and \\\\ as a backslash', async () => {
    assert.equal(await url('/foo'), '/f[oo]\\');
  });

  it('works with a safe_regex match and a retry policy', async () => {
    assert.equal(await url('/re/x/y?z'), '/x/y?z');
  });
});

describe('rejected redirects and rewrites', () => {
  const rc = (r: Obj) => [routeConfig('bad', [virtualHost('all', ['*'], [r])])];
  const cases: [string, Obj[], RegExp][] = [
    ['prefix_rewrite together with regex_rewrite', rc(route({ prefix: '/' }, routeTo('up', { prefix_rewrite: '/', ...rewrite('a', 'b') }))),
      /^RouteConfiguration bad: virtual_hosts\[0\]\.routes\[0\]\.route must set at most one of prefix_rewrite, regex_rewrite/],
    ['an invalid rewrite regex', rc(route({ prefix: '/' }, routeTo('up', rewrite('(', 'b')))),
      /routes\[0\]\.route\.regex_rewrite\.pattern\.regex is not a valid regular expression/],
    ['a group the pattern does not have', rc(route({ prefix: '/' }, routeTo('up', rewrite('/(a)', '\\2')))),
      /routes\[0\]\.route\.regex_rewrite\.substitution refers to group \\2, but the pattern has 1 capture group/],
    ['a bad escape in a substitution', rc(route({ prefix: '/' }, routeTo('up', rewrite('a', '\\x')))),
      /route\.regex_rewrite\.substitution has a \\ that is neither/],
    ['auto_host_rewrite', rc(route({ prefix: '/' }, routeTo('up', { auto_host_rewrite: { value: true } }))),
      /routes\[0\]\.route\.auto_host_rewrite is not supported/],
    ['both https_redirect and scheme_redirect', rc(redirect({ prefix: '/' }, { https_redirect: true, scheme_redirect: 'https' })),
      /routes\[0\]\.redirect must set at most one of https_redirect, scheme_redirect/],
    ['two path rewrites in a redirect', rc(redirect({ prefix: '/' }, { path_redirect: '/a', prefix_rewrite: '/b' })),
      /routes\[0\]\.redirect must set at most one of path_redirect, prefix_rewrite, regex_rewrite/],
    ['an unknown redirect response code', rc(redirect({ prefix: '/' }, { response_code: 'OK' })),
      /routes\[0\]\.redirect\.response_code OK is not a known redirect response code/],
    ['a redirect prefix_rewrite with a safe_regex match', rc(redirect({ safe_regex: { regex: '/.*' } }, { prefix_rewrite: '/' })),
      /routes\[0\]\.redirect\.prefix_rewrite cannot be used with a safe_regex match/],
    ['an unsupported redirect field', rc(redirect({ prefix: '/' }, { host_redirect: 'x', some_future_field: true })),
      /routes\[0\]\.redirect\.some_future_field is not supported/],
    ['a route with both route and redirect', rc({ ...route({ prefix: '/' }, routeTo('up')), redirect: { https_redirect: true } }),
      /routes\[0\] must set exactly one of route, redirect, direct_response/],
  ];
  for (const [what, routes, message] of cases) {
    it(`rejects ${what}`, () => {
      assert.throws(() => harness.dataPlane.updateRoutes(routes), (err: unknown) => {
        assert.ok(err instanceof ConfigRejectedError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
