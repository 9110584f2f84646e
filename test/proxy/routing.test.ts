// Routing: virtual host choice by domain (Envoy's precedence, with and without port, absolute-form
// requests), route match by path prefix / exact path / regex / headers, rewrites and direct responses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, type Reply } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';

const names = ['a', 'b', 'c', 'd'] as const;
const upstreams: Record<string, Upstream> = {};
const harness = new Harness();
let port = 0;

function served(reply: Reply): string {
  assert.equal(reply.status, 200, `expected 200, got ${reply.status} ${reply.body}`);
  return (JSON.parse(reply.body) as Seen).upstream;
}

before(async () => {
  for (const n of names) upstreams[n] = await startUpstream(n);
  await harness.apply({
    clusters: names.map((n) => edsCluster(`cluster-${n}`)),
    endpoints: names.map((n) => assignment(`cluster-${n}`, [upstreams[n].port])),
    listeners: [
      httpListener('outbound', { rds: 'routes' }),
      httpListener('edge', { rds: 'routes', hcm: { use_remote_address: { value: true }, generate_request_id: { value: false } } }),
    ],
    routes: [routeConfig('routes', [
      virtualHost('reviews', ['reviews', 'reviews:9080'], [
        route({ path: '/exact' }, routeTo('cluster-b')),
        route({ prefix: '/', headers: [{ name: 'end-user', string_match: { exact: 'jason' } }] }, routeTo('cluster-c')),
        route({ safe_regex: { regex: '/items/[0-9]+' } }, routeTo('cluster-d')),
        route({ prefix: '/CaseLess', case_sensitive: { value: false } }, routeTo('cluster-d')),
        route({ prefix: '/rewrite/' }, routeTo('cluster-a', { prefix_rewrite: '/new/', host_rewrite_literal: 'upstream.internal' })),
        { match: { prefix: '/direct' }, direct_response: { status: 418, body: { inline_string: 'teapot' } } },
        route({ prefix: '/' }, routeTo('cluster-a')),
      ]),
      virtualHost('headers', ['headers'], [
        route({ prefix: '/', headers: [{ name: 'x-a', present_match: true }, { name: 'x-b', string_match: { prefix: 'pre' } }] }, routeTo('cluster-b')),
        route({ prefix: '/', headers: [{ name: 'x-c', exact_match: 'v', invert_match: true }, { name: 'x-d', safe_regex_match: { regex: '[0-9]+' } }] }, routeTo('cluster-c')),
        route({ prefix: '/' }, routeTo('cluster-a')),
      ]),
      virtualHost('query', ['query'], [
        route({ prefix: '/', query_parameters: [{ name: 'debug', string_match: { exact: '1' } }] }, routeTo('cluster-b')),
        route({ prefix: '/', query_parameters: [{ name: 'user', string_match: { prefix: 'ja' } }, { name: 'flag', present_match: true }] }, routeTo('cluster-c')),
        route({ prefix: '/' }, routeTo('cluster-a')),
      ]),
      virtualHost('suffix-wildcard', ['*.example.com'], [route({ prefix: '/' }, routeTo('cluster-b'))]),
      virtualHost('prefix-wildcard', ['api.*'], [route({ prefix: '/' }, routeTo('cluster-c'))]),
      virtualHost('exact-example', ['www.example.com'], [route({ prefix: '/' }, routeTo('cluster-d'))]),
      virtualHost('default', ['*'], [route({ prefix: '/only-default' }, routeTo('cluster-a'))]),
    ])],
  });
  port = harness.port('outbound');
});

after(async () => {
  await harness.close();
  for (const u of Object.values(upstreams)) await u.close();
});

describe('query parameter matching', () => {
  it('matches a parameter value exactly, after URL decoding', async () => {
    assert.equal(served(await send(port, '/x?debug=1', { host: 'query' })), 'b');
    assert.equal(served(await send(port, '/x?a=b&debug=%31', { host: 'query' })), 'b');
    assert.equal(served(await send(port, '/x?debug=10', { host: 'query' })), 'a');
    assert.equal(served(await send(port, '/debug=1', { host: 'query' })), 'a', 'a path is not a query');
  });

  it('requires every parameter of a route (AND), and present_match only needs the name', async () => {
    assert.equal(served(await send(port, '/x?user=jason&flag', { host: 'query' })), 'c');
    assert.equal(served(await send(port, '/x?user=jason', { host: 'query' })), 'a');
    assert.equal(served(await send(port, '/x?flag=&user=bob', { host: 'query' })), 'a');
  });
});

describe('route matching', () => {
  it('sends a request to the catch-all prefix route', async () => {
    assert.equal(served(await send(port, '/anything', { host: 'reviews' })), 'a');
  });

  it('matches an exact path, ignoring the query string, and nothing longer', async () => {
    assert.equal(served(await send(port, '/exact', { host: 'reviews' })), 'b');
    assert.equal(served(await send(port, '/exact?x=1', { host: 'reviews' })), 'b');
    assert.equal(served(await send(port, '/exact/more', { host: 'reviews' })), 'a');
  });

  it('routes on a header value and falls through when it differs', async () => {
    assert.equal(served(await send(port, '/', { host: 'reviews', headers: { 'end-user': 'jason' } })), 'c');
    assert.equal(served(await send(port, '/', { host: 'reviews', headers: { 'end-user': 'bob' } })), 'a');
  });

  it('requires a regex path match to match the whole path', async () => {
    assert.equal(served(await send(port, '/items/42', { host: 'reviews' })), 'd');
    assert.equal(served(await send(port, '/items/42?q', { host: 'reviews' })), 'd');
    assert.equal(served(await send(port, '/items/42x', { host: 'reviews' })), 'a');
  });

  it('matches a prefix case-insensitively when case_sensitive is false', async () => {
    assert.equal(served(await send(port, '/caseless/x', { host: 'reviews' })), 'd');
    assert.equal(served(await send(port, '/CASELESS', { host: 'reviews' })), 'd');
  });

  it('applies present, prefix, inverted and regex header matchers as Envoy does', async () => {
    assert.equal(served(await send(port, '/', { host: 'headers', headers: { 'x-a': '', 'x-b': 'prefixed' } })), 'b');
    assert.equal(served(await send(port, '/', { host: 'headers', headers: { 'x-a': '1' } })), 'a');
    // An absent header fails a value matcher even when inverted.
    assert.equal(served(await send(port, '/', { host: 'headers', headers: { 'x-d': '123' } })), 'a');
    assert.equal(served(await send(port, '/', { host: 'headers', headers: { 'x-c': 'w', 'x-d': '123' } })), 'c');
    assert.equal(served(await send(port, '/', { host: 'headers', headers: { 'x-c': 'v', 'x-d': '123' } })), 'a');
    assert.equal(served(await send(port, '/', { host: 'headers', headers: { 'x-c': 'w', 'x-d': '12a' } })), 'a');
  });

  it('rewrites the path prefix and the host', async () => {
    const reply = await send(port, '/rewrite/x?q=1', { host: 'reviews' });
    const seen = JSON.parse(reply.body) as Seen;
    assert.equal(seen.url, '/new/x?q=1');
    assert.equal(seen.headers.host, 'upstream.internal');
  });

  it('answers a direct_response route itself', async () => {
    const reply = await send(port, '/direct', { host: 'reviews' });
    assert.equal(reply.status, 418);
    assert.equal(reply.body, 'teapot');
    assert.equal(reply.headers['content-type'], 'text/plain');
  });
});

describe('virtual host selection', () => {
  it('matches the Host header with and without its port, case-insensitively', async () => {
    assert.equal(served(await send(port, '/exact', { host: 'reviews:9080' })), 'b');
    assert.equal(served(await send(port, '/exact', { host: 'REVIEWS' })), 'b');
    // A port the domains do not list is not stripped (Envoy): the default virtual host answers.
    assert.equal((await send(port, '/exact', { host: 'reviews:1234' })).status, 404);
    assert.equal(served(await send(port, '/only-default', { host: 'reviews:1234' })), 'a');
  });

  it('prefers exact domains, then the longest suffix wildcard, then prefix wildcards, then *', async () => {
    assert.equal(served(await send(port, '/', { host: 'www.example.com' })), 'd');
    assert.equal(served(await send(port, '/', { host: 'foo.example.com' })), 'b');
    assert.equal(served(await send(port, '/', { host: 'api.example.com' })), 'b');
    assert.equal(served(await send(port, '/', { host: 'api.internal' })), 'c');
    assert.equal((await send(port, '/', { host: 'example.com' })).status, 404);
    assert.equal(served(await send(port, '/only-default', { host: 'unknown' })), 'a');
  });

  it('routes absolute-form requests (an app using the sidecar as HTTP_PROXY) on the URL, not the Host header', async () => {
    const reply = await send(port, 'http://reviews:9080/exact?y=2', { host: 'something-else' });
    assert.equal(served(reply), 'b');
    assert.equal((JSON.parse(reply.body) as Seen).url, '/exact?y=2');
    assert.equal((JSON.parse(reply.body) as Seen).headers.host, 'reviews:9080');
    assert.equal(served(await send(port, 'http://foo.example.com', { host: 'reviews' })), 'b');
  });
});

describe('header handling', () => {
  it('adds x-forwarded-proto and a UUID x-request-id, and keeps an incoming x-request-id', async () => {
    const seen = JSON.parse((await send(port, '/', { host: 'reviews' })).body) as Seen;
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
    assert.match(String(seen.headers['x-request-id']), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const kept = JSON.parse((await send(port, '/', { host: 'reviews', headers: { 'x-request-id': 'abc' } })).body) as Seen;
    assert.equal(kept.headers['x-request-id'], 'abc');
  });

  it('strips hop-by-hop request headers and the headers Connection names', async () => {
    const seen = JSON.parse((await send(port, '/', {
      host: 'reviews',
      headers: { connection: 'keep-alive, x-private', 'x-private': 'secret', 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers', 'x-kept': 'yes' },
    })).body) as Seen;
    const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    for (const hop of ['x-private', 'keep-alive', 'proxy-connection', 'te', 'upgrade']) assert.ok(!names.includes(hop), `${hop} was forwarded`);
    assert.equal(seen.headers['x-kept'], 'yes');
  });

  it('with use_remote_address, appends the peer to x-forwarded-for and overwrites x-forwarded-proto', async () => {
    const seen = JSON.parse((await send(harness.port('edge'), '/', {
      host: 'reviews', headers: { 'x-forwarded-for': '10.1.1.1', 'x-forwarded-proto': 'https' },
    })).body) as Seen;
    assert.equal(seen.headers['x-forwarded-for'], '10.1.1.1,127.0.0.1');
    assert.equal(seen.headers['x-forwarded-proto'], 'http');
  });

  it('does not generate x-request-id when generate_request_id is false', async () => {
    const seen = JSON.parse((await send(harness.port('edge'), '/', { host: 'reviews' })).body) as Seen;
    assert.equal(seen.headers['x-request-id'], undefined);
  });
});
