// Route hash policies (RouteAction.hash_policy) with consistent-hash clusters (RING_HASH, MAGLEV),
// through the proxy: requests with the same key stick to one endpoint, different keys spread over all
// of them; a cookie policy with a ttl generates the cookie (Set-Cookie) and a client that sends it back
// sticks; source IP and query parameter policies; terminal policies; no hash without a policy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send, type RequestOptions } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { startStatusUpstream, type StatusUpstream } from './upstream/status-upstream.ts';

const harness = new Harness();
const up: StatusUpstream[] = [];
let port = 0;

const cookiePolicy = (cookie: Record<string, unknown>) => ({ hash_policy: [{ cookie }] });
const headerPolicy = { hash_policy: [{ header: { header_name: 'x-user' } }] };

before(async () => {
  for (const name of ['h1', 'h2', 'h3']) up.push(await startStatusUpstream(name));
  const ports = up.map((u) => u.port);
  const r = (path: string, cluster: string, action: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    ({ ...route({ prefix: path }, routeTo(cluster, action)), ...extra });
  await harness.apply({
    clusters: [
      staticCluster('ring', ports, { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: { value: '1024' }, hash_function: 'XX_HASH' } }),
      staticCluster('maglev', ports, { lb_policy: 'MAGLEV', maglev_lb_config: { table_size: { value: '65537' } } }),
      staticCluster('rr', ports),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [
      r('/header', 'ring', headerPolicy),
      r('/maglev', 'maglev', headerPolicy),
      r('/cookie', 'ring', cookiePolicy({ name: 'sticky', ttl: { seconds: '3600' }, path: '/' }),
        { response_headers_to_add: [{ header: { key: 'x-route', value: 'cookie' } }] }),
      r('/session-cookie', 'ring', cookiePolicy({ name: 'sess', ttl: { seconds: '0' }, attributes: [{ name: 'SameSite', value: 'Strict' }] })),
      r('/no-ttl-cookie', 'ring', cookiePolicy({ name: 'plain' })),
      r('/source-ip', 'ring', { hash_policy: [{ connection_properties: { source_ip: true } }] }),
      r('/query', 'maglev', { hash_policy: [{ query_parameter: { name: 'user' } }] }),
      r('/terminal', 'ring', { hash_policy: [{ header: { header_name: 'x-first' }, terminal: true }, { header: { header_name: 'x-second' } }] }),
      r('/no-policy', 'ring'),
      r('/round-robin-cookie', 'rr', cookiePolicy({ name: 'rr', ttl: { seconds: '60' } })),
    ])])],
  });
  port = harness.port();
});

after(async () => {
  await harness.close();
  for (const u of up) await u.close();
});

async function upstreamOf(path: string, options: RequestOptions = {}): Promise<string> {
  const reply = await send(port, path, options);
  assert.equal(reply.status, 200);
  return String(reply.headers['x-upstream']);
}

/** Sends `n` requests per key; asserts each key stuck to one upstream; returns the upstreams keys went to. */
async function stickiness(keys: string[], n: number, request: (key: string) => Promise<string>): Promise<Set<string>> {
  const used = new Set<string>();
  for (const key of keys) {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(await request(key));
    assert.equal(seen.size, 1, `key ${key} went to ${[...seen].join(', ')}`);
    used.add([...seen][0]);
  }
  return used;
}

const users = Array.from({ length: 40 }, (_, i) => `user-${i}`);

describe('hash policies', () => {
  it('header: the same value always lands on one endpoint (ring hash), different values spread over all', async () => {
    const used = await stickiness(users, 4, (u) => upstreamOf('/header', { headers: { 'x-user': u } }));
    assert.equal(used.size, 3, `users spread over ${[...used].join(', ')}`);
  });

  it('header: the same with a maglev cluster', async () => {
    const used = await stickiness(users, 4, (u) => upstreamOf('/maglev', { headers: { 'x-user': u } }));
    assert.equal(used.size, 3);
  });

  it('cookie with a ttl: generates the cookie, and a client that sends it back sticks', async () => {
    const used = new Set<string>();
    for (let client = 0; client < 12; client++) {
      const first = await send(port, '/cookie');
      const setCookie = first.headers['set-cookie'] ?? [];
      assert.equal(setCookie.length, 1, JSON.stringify(first.headers));
      const m = /^sticky="([0-9a-f]{16})"; Max-Age=3600; Path=\/; HttpOnly$/.exec(setCookie[0]);
      assert.ok(m, setCookie[0]);
      assert.equal(first.headers['x-route'], 'cookie');
      const upstream = String(first.headers['x-upstream']);
      for (let i = 0; i < 4; i++) {
        const next = await send(port, '/cookie', { headers: { cookie: `other=1; sticky="${m[1]}"` } });
        assert.equal(next.headers['x-upstream'], upstream, 'a client sending its cookie back moved');
        assert.equal(next.headers['set-cookie'], undefined, 'a request carrying the cookie got another one');
        // The route's own response header is still there: the generated cookie did not change the route's chain.
        assert.equal(next.headers['x-route'], 'cookie');
      }
      used.add(upstream);
    }
    assert.ok(used.size >= 2, `12 clients all on ${[...used].join(', ')}`);
  });

  it('cookie with a ttl of 0: a session cookie (no Max-Age), with its attributes', async () => {
    const reply = await send(port, '/session-cookie');
    assert.match((reply.headers['set-cookie'] ?? [])[0] ?? '', /^sess="[0-9a-f]{16}"; SameSite=Strict; HttpOnly$/);
  });

  it('cookie without a ttl: no cookie is generated and requests without it are not hashed', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const reply = await send(port, '/no-ttl-cookie');
      assert.equal(reply.headers['set-cookie'], undefined);
      seen.add(String(reply.headers['x-upstream']));
    }
    assert.equal(seen.size, 3);
    await stickiness(['a', 'b'], 4, (v) => upstreamOf('/no-ttl-cookie', { headers: { cookie: `plain=${v}` } }));
  });

  it('source_ip: a client address sticks to one endpoint, different addresses spread', async () => {
    const addresses = Array.from({ length: 20 }, (_, i) => `127.0.0.${i + 1}`);
    const used = await stickiness(addresses, 3, (address) => upstreamFrom(address, '/source-ip'));
    assert.ok(used.size >= 2, `20 client addresses all on ${[...used].join(', ')}`);
  });

  it('query_parameter: the same value sticks, different values spread', async () => {
    const used = await stickiness(users, 3, (u) => upstreamOf(`/query?x=${Math.random()}&user=${u}`));
    assert.equal(used.size, 3);
  });

  it('terminal: a policy that produced a hash ends the evaluation; otherwise the next one decides', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(await upstreamOf('/terminal', { headers: { 'x-first': 'same', 'x-second': `v${i}` } }));
    assert.equal(seen.size, 1, 'x-second changed the endpoint although x-first is terminal');
    const used = await stickiness(users, 3, (u) => upstreamOf('/terminal', { headers: { 'x-second': u } }));
    assert.equal(used.size, 3);
  });

  it('picks at random on a hash-based cluster when the route has no hash policy', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 60; i++) seen.add(await upstreamOf('/no-policy', { headers: { 'x-user': 'same' } }));
    assert.equal(seen.size, 3);
  });

  it('computes no hash (and sets no cookie) for a cluster that does not hash', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 12; i++) {
      const reply = await send(port, '/round-robin-cookie');
      assert.equal(reply.headers['set-cookie'], undefined);
      const name = String(reply.headers['x-upstream']);
      counts[name] = (counts[name] ?? 0) + 1;
    }
    assert.deepEqual(Object.values(counts), [4, 4, 4]);
  });
});

/** One request from a given local address (127.0.0.0/8 is all loopback). */
function upstreamFrom(localAddress: string, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-upstream'])));
    });
    req.on('error', reject);
    req.end();
  });
}
