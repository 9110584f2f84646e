// Header mutations of routes, virtual hosts, route configurations and weighted clusters, checked on the
// wire both ways: what the upstream receives and what the downstream client gets.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { headerValues, send, type Reply } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
const upstreams: Record<string, Upstream> = {};
let defaultOrder = 0;
let mostSpecific = 0;

const add = (key: string, value: string, extra: Obj = {}): Obj => ({ header: { key, value }, ...extra });
const action = (a: string) => ({ append_action: a });

/** The same route configuration; only most_specific_header_mutations_wins differs. */
function mutationRoutes(name: string, mostSpecificWins: boolean): Obj {
  const routes: Obj[] = [
    {
      ...route({ prefix: '/order' }, routeTo('c1')),
      request_headers_to_add: [add('x-order', 'route')],
      response_headers_to_add: [add('x-order', 'route')],
    },
    {
      ...route({ prefix: '/overwrite' }, routeTo('c1')),
      request_headers_to_add: [add('x-level', 'route', action('OVERWRITE_IF_EXISTS_OR_ADD'))],
      response_headers_to_add: [add('x-level', 'route', action('OVERWRITE_IF_EXISTS_OR_ADD'))],
    },
    {
      ...route({ prefix: '/actions' }, routeTo('c1')),
      request_headers_to_add: [
        add('x-append', 'new'),
        add('x-absent', 'new', action('ADD_IF_ABSENT')),
        add('x-absent2', 'new', action('ADD_IF_ABSENT')),
        add('x-over', 'new', action('OVERWRITE_IF_EXISTS_OR_ADD')),
        add('x-over2', 'new', action('OVERWRITE_IF_EXISTS_OR_ADD')),
        add('x-if-exists', 'new', action('OVERWRITE_IF_EXISTS')),
        add('x-if-exists2', 'new', action('OVERWRITE_IF_EXISTS')),
        add('x-dep-false', 'new', { append: { value: false } }),
        add('x-dep-true', 'new', { append: { value: true } }),
        add('x-empty', '', { keep_empty_value: true }),
        add('x-empty-dropped', ''),
        add('x-percent', '100%% sure'),
        add('X-Replace', 'new'),
        // Both decided against the headers before this level: x-same is absent, so both are added.
        add('x-same', 'first'),
        add('x-same', 'second', action('ADD_IF_ABSENT')),
      ],
      request_headers_to_remove: ['x-drop', 'x-replace'],
      response_headers_to_add: [add('x-upstream', 'proxy', action('OVERWRITE_IF_EXISTS')), add('x-missing', 'no', action('OVERWRITE_IF_EXISTS'))],
      response_headers_to_remove: ['x-resp-a'],
    },
    {
      ...route({ prefix: '/weighted' }, {
        weighted_clusters: {
          clusters: ['c1', 'c2'].map((c) => ({
            name: c,
            weight: { value: 1 },
            request_headers_to_add: [add('x-order', `cluster-${c}`), add('x-cluster', c)],
            request_headers_to_remove: ['x-remove-cluster'],
            response_headers_to_add: [add('x-cluster', c)],
          })),
        },
      }),
      request_headers_to_add: [add('x-order', 'route')],
    },
    {
      ...route({ prefix: '/retry' }, routeTo('c1', { retry_policy: { retry_on: '5xx', num_retries: 1 } })),
      request_headers_to_add: [add('x-retry', 'yes')],
    },
    {
      ...{ match: { prefix: '/direct-301' }, direct_response: { status: 301 } },
      response_headers_to_add: [add('x-direct', 'yes')],
    },
    {
      ...{ match: { prefix: '/direct' }, direct_response: { status: 200, body: { inline_string: 'hi' } } },
      response_headers_to_add: [add('x-direct', 'yes')],
      response_headers_to_remove: ['content-type'],
    },
    {
      ...route({ prefix: '/no-healthy' }, routeTo('empty')),
      response_headers_to_add: [add('x-local', 'yes')],
    },
  ];
  return routeConfig(name, [{
    ...virtualHost('all', ['*'], routes),
    request_headers_to_add: [add('x-order', 'vh'), add('x-level', 'vh', action('OVERWRITE_IF_EXISTS_OR_ADD'))],
    response_headers_to_add: [add('x-order', 'vh'), add('x-level', 'vh', action('OVERWRITE_IF_EXISTS_OR_ADD'))],
  }], {
    most_specific_header_mutations_wins: mostSpecificWins,
    request_headers_to_add: [add('x-order', 'rc'), add('x-level', 'rc', action('OVERWRITE_IF_EXISTS_OR_ADD'))],
    request_headers_to_remove: ['x-remove-rc'],
    response_headers_to_add: [add('x-order', 'rc'), add('x-level', 'rc', action('OVERWRITE_IF_EXISTS_OR_ADD'))],
    response_headers_to_remove: ['x-resp-b'],
  });
}

before(async () => {
  for (const name of ['c1', 'c2']) {
    upstreams[name] = await startUpstream(name, (req, res) => {
      req.resume();
      const seen: Seen = { upstream: name, method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders };
      const body = JSON.stringify(seen);
      res.writeHead(200, [
        'content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)),
        'x-upstream', name, 'x-resp-a', 'up', 'x-resp-b', 'up', 'x-order', 'upstream',
      ]);
      res.end(body);
    });
  }
  await harness.apply({
    clusters: [edsCluster('c1'), edsCluster('c2'), edsCluster('empty')],
    endpoints: [assignment('c1', [upstreams.c1.port]), assignment('c2', [upstreams.c2.port]), assignment('empty', [])],
    listeners: [httpListener('default-order', { rds: 'default-order' }), httpListener('most-specific', { rds: 'most-specific' })],
    routes: [mutationRoutes('default-order', false), mutationRoutes('most-specific', true)],
  });
  defaultOrder = harness.port('default-order');
  mostSpecific = harness.port('most-specific');
});

after(async () => {
  await harness.close();
  for (const u of Object.values(upstreams)) await u.close();
});

function upstreamSaw(reply: Reply): Seen {
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as Seen;
}

const upstreamValues = (reply: Reply, name: string) => headerValues(upstreamSaw(reply).rawHeaders, name);
const downstreamValues = (reply: Reply, name: string) => headerValues(reply.rawHeaders, name);

describe('header mutation levels', () => {
  it('evaluates route, then virtual host, then route configuration by default (the least specific last)', async () => {
    const reply = await send(defaultOrder, '/order');
    assert.deepEqual(upstreamValues(reply, 'x-order'), ['route', 'vh', 'rc']);
    assert.deepEqual(downstreamValues(reply, 'x-order'), ['upstream', 'route', 'vh', 'rc']);
  });

  it('evaluates route configuration, virtual host, then route with most_specific_header_mutations_wins', async () => {
    const reply = await send(mostSpecific, '/order');
    assert.deepEqual(upstreamValues(reply, 'x-order'), ['rc', 'vh', 'route']);
    assert.deepEqual(downstreamValues(reply, 'x-order'), ['upstream', 'rc', 'vh', 'route']);
  });

  it('lets the level evaluated last win an overwrite', async () => {
    const byDefault = await send(defaultOrder, '/overwrite', { headers: { 'x-level': 'client' } });
    assert.deepEqual(upstreamValues(byDefault, 'x-level'), ['rc']);
    assert.deepEqual(downstreamValues(byDefault, 'x-level'), ['rc']);
    const specific = await send(mostSpecific, '/overwrite', { headers: { 'x-level': 'client' } });
    assert.deepEqual(upstreamValues(specific, 'x-level'), ['route']);
    assert.deepEqual(downstreamValues(specific, 'x-level'), ['route']);
  });

  it('removes headers at the route configuration level, both ways', async () => {
    const reply = await send(defaultOrder, '/order', { headers: { 'x-remove-rc': '1', 'x-keep': '1' } });
    assert.deepEqual(upstreamValues(reply, 'x-remove-rc'), []);
    assert.deepEqual(upstreamValues(reply, 'x-keep'), ['1']);
    assert.deepEqual(downstreamValues(reply, 'x-resp-b'), []);
    assert.deepEqual(downstreamValues(reply, 'x-resp-a'), ['up']);
  });
});

describe('append actions', () => {
  let seen: Reply;
  before(async () => {
    seen = await send(defaultOrder, '/actions', {
      headers: {
        'x-append': 'old', 'x-absent': 'old', 'x-over': ['a', 'b'], 'x-if-exists': 'old', 'x-dep-false': 'old', 'x-dep-true': 'old',
        'x-drop': 'gone', 'x-replace': 'old',
      },
    });
  });

  it('APPEND_IF_EXISTS_OR_ADD (the default) adds another entry', () => {
    assert.deepEqual(upstreamValues(seen, 'x-append'), ['old', 'new']);
  });

  it('ADD_IF_ABSENT adds only a missing header', () => {
    assert.deepEqual(upstreamValues(seen, 'x-absent'), ['old']);
    assert.deepEqual(upstreamValues(seen, 'x-absent2'), ['new']);
  });

  it('OVERWRITE_IF_EXISTS_OR_ADD replaces every entry, or adds', () => {
    assert.deepEqual(upstreamValues(seen, 'x-over'), ['new']);
    assert.deepEqual(upstreamValues(seen, 'x-over2'), ['new']);
  });

  it('OVERWRITE_IF_EXISTS replaces a present header and adds nothing otherwise', () => {
    assert.deepEqual(upstreamValues(seen, 'x-if-exists'), ['new']);
    assert.deepEqual(upstreamValues(seen, 'x-if-exists2'), []);
  });

  it('the deprecated append: false overwrites and true appends', () => {
    assert.deepEqual(upstreamValues(seen, 'x-dep-false'), ['new']);
    assert.deepEqual(upstreamValues(seen, 'x-dep-true'), ['old', 'new']);
  });

  it('drops an empty value unless keep_empty_value', () => {
    assert.deepEqual(upstreamValues(seen, 'x-empty'), ['']);
    assert.deepEqual(upstreamValues(seen, 'x-empty-dropped'), []);
  });

  it('reads %% as a literal %', () => {
    assert.deepEqual(upstreamValues(seen, 'x-percent'), ['100% sure']);
  });

  it('removes before adding, and decides a level against the headers before it', () => {
    assert.deepEqual(upstreamValues(seen, 'x-drop'), []);
    assert.deepEqual(upstreamValues(seen, 'x-replace'), ['new']);
    assert.deepEqual(upstreamValues(seen, 'x-same'), ['first', 'second']);
  });

  it('mutates the response: OVERWRITE_IF_EXISTS on an upstream header, removal', () => {
    assert.deepEqual(downstreamValues(seen, 'x-upstream'), ['proxy']);
    assert.deepEqual(downstreamValues(seen, 'x-missing'), []);
    assert.deepEqual(downstreamValues(seen, 'x-resp-a'), []);
  });

  it('leaves the upstream Host alone', () => {
    assert.equal(upstreamSaw(seen).headers.host, `127.0.0.1:${defaultOrder}`);
  });

  it('applies the mutations once on a route with a retry policy', async () => {
    assert.deepEqual(upstreamValues(await send(defaultOrder, '/retry'), 'x-retry'), ['yes']);
  });
});

describe('weighted cluster mutations', () => {
  it('applies the chosen cluster\'s mutations first, then its route\'s, both ways', async () => {
    const served = new Set<string>();
    for (let i = 0; i < 24; i++) {
      const reply = await send(defaultOrder, '/weighted', { headers: { 'x-remove-cluster': '1' } });
      const seen = upstreamSaw(reply);
      served.add(seen.upstream);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-cluster'), [seen.upstream]);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-order'), [`cluster-${seen.upstream}`, 'route', 'vh', 'rc']);
      assert.deepEqual(headerValues(seen.rawHeaders, 'x-remove-cluster'), []);
      assert.deepEqual(downstreamValues(reply, 'x-cluster'), [seen.upstream]);
    }
    assert.deepEqual([...served].sort(), ['c1', 'c2']);
  });
});

describe('response mutations on local replies', () => {
  it('applies to a direct response (all levels)', async () => {
    const reply = await send(defaultOrder, '/direct');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hi');
    assert.deepEqual(downstreamValues(reply, 'x-direct'), ['yes']);
    assert.deepEqual(downstreamValues(reply, 'x-order'), ['vh', 'rc']);
    assert.deepEqual(downstreamValues(reply, 'content-type'), []);
  });

  it('gives a 3xx direct response the request URL as its Location', async () => {
    const reply = await send(defaultOrder, '/direct-301?q=1', { host: 'example.com' });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, 'http://example.com/direct-301?q=1');
    assert.deepEqual(downstreamValues(reply, 'x-direct'), ['yes']);
  });

  it('applies to the router\'s own local replies (no healthy upstream)', async () => {
    const reply = await send(defaultOrder, '/no-healthy');
    assert.equal(reply.status, 503);
    assert.deepEqual(downstreamValues(reply, 'x-local'), ['yes']);
    assert.deepEqual(downstreamValues(reply, 'x-order'), ['vh', 'rc']);
  });

  it('does not apply without a route', async () => {
    const reply = await send(defaultOrder, '/nothing-matches');
    assert.equal(reply.status, 404);
    assert.deepEqual(downstreamValues(reply, 'x-order'), []);
  });
});

describe('rejected header mutations', () => {
  const base = () => route({ prefix: '/' }, routeTo('c1'));
  const rc = (r: Obj, extra: Obj = {}) => [routeConfig('bad', [virtualHost('all', ['*'], [r])], extra)];
  const cases: [string, Obj[], RegExp][] = [
    ['adding a pseudo-header', rc({ ...base(), request_headers_to_add: [add(':path', '/x')] }),
      /^RouteConfiguration bad: virtual_hosts\[0\]\.routes\[0\]\.request_headers_to_add\[0\]\.header\.key :path: :-prefixed or host headers may not be modified/],
    ['adding Host', rc({ ...base(), request_headers_to_add: [add('Host', 'x')] }),
      /routes\[0\]\.request_headers_to_add\[0\]\.header\.key Host: :-prefixed or host headers may not be modified/],
    ['removing host', rc(base(), { request_headers_to_remove: ['host'] }),
      /^RouteConfiguration bad: request_headers_to_remove\[0\] host: :-prefixed or host headers may not be removed/],
    ['removing a response pseudo-header', rc({ ...base(), response_headers_to_remove: [':status'] }),
      /routes\[0\]\.response_headers_to_remove\[0\] :status: :-prefixed or host headers may not be removed/],
    ['a command operator', rc({ ...base(), response_headers_to_add: [add('x-a', 'from %DOWNSTREAM_REMOTE_ADDRESS%')] }),
      /response_headers_to_add\[0\]\.header\.value uses the command operator %DOWNSTREAM_REMOTE_ADDRESS%, which is not supported/],
    ['a command operator with arguments', rc({ ...base(), request_headers_to_add: [add('x-a', '%REQ(x-b)%')] }),
      /request_headers_to_add\[0\]\.header\.value uses the command operator %REQ\(x-b\)%/],
    ['a lone %', rc({ ...base(), request_headers_to_add: [add('x-a', '50%')] }),
      /request_headers_to_add\[0\]\.header\.value has a % at position 2/],
    ['append together with append_action', rc({ ...base(), request_headers_to_add: [add('x-a', 'b', { append: { value: true }, append_action: 'ADD_IF_ABSENT' })] }),
      /request_headers_to_add\[0\]\.append cannot be set together with append_action/],
    ['an unknown append_action', rc({ ...base(), request_headers_to_add: [add('x-a', 'b', { append_action: 'PREPEND' })] }),
      /request_headers_to_add\[0\]\.append_action PREPEND is not a known action/],
    ['raw_value', rc({ ...base(), request_headers_to_add: [{ header: { key: 'x-a', raw_value: 'Yg==' } }] }),
      /request_headers_to_add\[0\]\.header\.raw_value is not supported/],
    ['an invalid header name', rc({ ...base(), request_headers_to_add: [add('x a', 'b')] }),
      /request_headers_to_add\[0\]\.header\.key "x a" is not a valid header name/],
    ['a value with a line break', rc({ ...base(), request_headers_to_add: [add('x-a', 'b\r\nx-injected: 1')] }),
      /request_headers_to_add\[0\]\.header\.value contains characters not allowed in a header value/],
    ['a weighted cluster adding a pseudo-header',
      rc(route({ prefix: '/' }, { weighted_clusters: { clusters: [{ name: 'c1', weight: { value: 1 }, response_headers_to_add: [add(':status', '200')] }] } })),
      /route\.weighted_clusters\.clusters\[0\]\.response_headers_to_add\[0\]\.header\.key :status/],
    ['a virtual host removing :authority', [routeConfig('bad', [{ ...virtualHost('all', ['*'], [base()]), request_headers_to_remove: [':authority'] }])],
      /virtual_hosts\[0\]\.request_headers_to_remove\[0\] :authority: :-prefixed or host headers may not be removed/],
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
