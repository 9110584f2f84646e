// The connection manager's path normalization (normalize_path, merge_slashes,
// path_with_escaped_slashes_action, which Istio's mesh pathNormalization sets): the path routes,
// RBAC and the upstream see, and the requests refused or redirected for escaped slashes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import {
  EscapedSlashesAction, PathOutcome, canonicalPath, mergeSlashes, normalizeRequestPath, type PathNormalization,
} from '../../src/proxy/http/path-normalization.ts';
import { send } from './support/client.ts';
import { connect, request } from './support/http2.ts';
import { Harness } from './support/harness.ts';
import { httpRbacFilter, policy, rbacRules } from './support/rbac-resources.ts';
import {
  assignment, edsCluster, httpConnectionManager, listener, route, routeConfig, routeTo, routerFilter, virtualHost,
} from './support/resources.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
let upstream: Upstream;

function normalize(config: Partial<PathNormalization>, path: string): { path: string; outcome: PathOutcome } {
  const request = { path };
  const outcome = normalizeRequestPath({ normalize: false, mergeSlashes: false, escapedSlashes: EscapedSlashesAction.KeepUnchanged, ...config }, request);
  return { path: request.path, outcome };
}

describe('normalize_path (RFC 3986, as Envoy)', () => {
  const cases: [string, string][] = [
    ['/a/b/../c', '/a/c'],
    ['/a/b/./c', '/a/b/c'],
    ['/a/b/../../../../c', '/c'],
    ['/a/..\\c', '/c'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/a/b/%2e%2e/c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/%41%7e', '/A~'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    ['/%c0%af', '/%c0%af'],
    ['/%5c%25', '/%5c%25'],
    ['/a b', '/a%20b'],
    ['/a//b', '/a//b'],
    ['/%zz', '/%zz'],
  ];
  for (const [input, expected] of cases) {
    it(`normalizes ${input} to ${expected}`, () => assert.equal(canonicalPath(input), expected));
  }

  it('leaves the query string alone', () => {
    assert.equal(normalize({ normalize: true }, '/a/../b?x=/../y').path, '/b?x=/../y');
  });
});

describe('merge_slashes', () => {
  it('merges runs of slashes in the path, not in the query', () => {
    assert.equal(mergeSlashes('//a///b/'), '/a/b/');
    assert.equal(normalize({ mergeSlashes: true }, '/a//b?q=//x').path, '/a/b?q=//x');
  });

  it('runs after normalize_path', () => {
    assert.equal(normalize({ normalize: true, mergeSlashes: true }, '/a//..//b').path, '/a/b');
  });
});

describe('path_with_escaped_slashes_action', () => {
  it('KEEP_UNCHANGED leaves %2F and %5C', () => {
    assert.deepEqual(normalize({}, '/a%2Fb%5c'), { path: '/a%2Fb%5c', outcome: PathOutcome.Continue });
  });

  it('REJECT_REQUEST refuses a path with escaped slashes only', () => {
    assert.equal(normalize({ escapedSlashes: EscapedSlashesAction.RejectRequest }, '/a%2fb').outcome, PathOutcome.Reject);
    assert.equal(normalize({ escapedSlashes: EscapedSlashesAction.RejectRequest }, '/a%20b').outcome, PathOutcome.Continue);
    assert.equal(normalize({ escapedSlashes: EscapedSlashesAction.RejectRequest }, '/a?x=%2F').outcome, PathOutcome.Continue, 'the query is not looked at');
  });

  it('UNESCAPE_AND_FORWARD unescapes before normalizing, so %2F.. segments resolve', () => {
    assert.deepEqual(normalize({ escapedSlashes: EscapedSlashesAction.UnescapeAndForward, normalize: true }, '/a%2F..%2Fb'), { path: '/b', outcome: PathOutcome.Continue });
    assert.deepEqual(normalize({ escapedSlashes: EscapedSlashesAction.UnescapeAndForward, normalize: true }, '/a%5Cb'), { path: '/a/b', outcome: PathOutcome.Continue });
  });

  it('UNESCAPE_AND_REDIRECT asks for a redirect to the unescaped path', () => {
    assert.deepEqual(normalize({ escapedSlashes: EscapedSlashesAction.UnescapeAndRedirect }, '/a%2Fb?q'), { path: '/a/b?q', outcome: PathOutcome.Redirect });
  });
});

function hcmListener(name: string, hcmExtra: Obj, filters: Obj[] = []): Obj {
  return listener(name, httpConnectionManager({
    statPrefix: name,
    routeConfig: routeConfig('local', [virtualHost('all', ['*'], [
      route({ prefix: '/admin' }, routeTo('web'), 'admin'),
      route({ prefix: '/' }, routeTo('web')),
    ])]),
    httpFilters: [...filters, routerFilter],
    extra: hcmExtra,
  }));
}

const denyAdmin = httpRbacFilter({ rules: rbacRules('DENY', { admin: policy([{ url_path: { path: { prefix: '/admin' } } }]) }) });

before(async () => {
  upstream = await startUpstream('web');
  await harness.apply({
    clusters: [edsCluster('web')],
    endpoints: [assignment('web', [upstream.port])],
    listeners: [
      hcmListener('plain', {}, [denyAdmin]),
      hcmListener('base', { normalize_path: { value: true } }, [denyAdmin]),
      hcmListener('merge', { normalize_path: { value: true }, merge_slashes: true }, [denyAdmin]),
      hcmListener('decode', { normalize_path: { value: true }, merge_slashes: true, path_with_escaped_slashes_action: 'UNESCAPE_AND_FORWARD' }, [denyAdmin]),
      hcmListener('reject', { path_with_escaped_slashes_action: 'REJECT_REQUEST' }),
      hcmListener('redirect', { normalize_path: { value: true }, path_with_escaped_slashes_action: 'UNESCAPE_AND_REDIRECT' }),
    ],
  });
});

after(async () => {
  await harness.close();
  await upstream?.close();
});

async function upstreamSaw(listenerName: string, target: string): Promise<string> {
  const reply = await send(harness.port(listenerName), target);
  assert.equal(reply.status, 200, `${listenerName} ${target}: ${reply.status} ${reply.body}`);
  return (JSON.parse(reply.body) as Seen).url;
}

describe('path normalization in the connection manager', () => {
  it('without normalization forwards the path as received, and RBAC sees it so', async () => {
    assert.equal(await upstreamSaw('plain', '/public/../admin'), '/public/../admin');
  });

  it('with normalize_path (BASE) routes, authorizes and forwards the normalized path', async () => {
    assert.equal(await upstreamSaw('base', '/a/./b/../c?x=1'), '/a/c?x=1');
    assert.equal((await send(harness.port('base'), '/public/../admin')).status, 403, 'RBAC sees /admin');
    assert.equal((await send(harness.port('base'), '/public/%2E%2E/admin')).status, 403);
  });

  it('with merge_slashes (MERGE_SLASHES) merges slashes before RBAC sees the path', async () => {
    assert.equal(await upstreamSaw('merge', '//a//b'), '/a/b');
    assert.equal((await send(harness.port('merge'), '//admin')).status, 403);
    assert.equal((await send(harness.port('base'), '//admin')).status, 200, 'without merge_slashes //admin is not /admin');
  });

  it('with UNESCAPE_AND_FORWARD (DECODE_AND_MERGE_SLASHES) decodes %2F before RBAC sees the path', async () => {
    assert.equal(await upstreamSaw('decode', '/a%2Fb'), '/a/b');
    assert.equal((await send(harness.port('decode'), '/x%2F..%2Fadmin')).status, 403);
  });

  it('normalizes the :path of HTTP/2 requests too, before RBAC sees it', async () => {
    const session = connect(harness.port('merge'));
    try {
      const ok = await request(session, '/a/./b/../c//d');
      assert.equal(ok.status, 200);
      assert.equal((JSON.parse(ok.body) as Seen).url, '/a/c/d');
      assert.equal((await request(session, '/x/..//admin')).status, 403);
    } finally {
      session.close();
    }
  });

  it('with REJECT_REQUEST answers 400 to a path with escaped slashes', async () => {
    const before = upstream.count;
    assert.equal((await send(harness.port('reject'), '/a%2Fb')).status, 400);
    assert.equal(upstream.count, before);
    assert.equal(await upstreamSaw('reject', '/a/b'), '/a/b');
  });

  it('with UNESCAPE_AND_REDIRECT redirects (307) to the unescaped, normalized path', async () => {
    const reply = await send(harness.port('redirect'), '/a%2F..%2Fb?q=1');
    assert.equal(reply.status, 307);
    assert.equal(reply.headers.location, '/b?q=1');
  });

  it('rejects an unknown path_with_escaped_slashes_action, naming the field', async () => {
    await assert.rejects(harness.dataPlane.updateListeners([hcmListener('bad', { path_with_escaped_slashes_action: 'SOMETIMES' })]), (err: unknown) => {
      assert.ok(err instanceof ConfigRejectedError);
      assert.match(err.message, /^Listener bad: .*path_with_escaped_slashes_action SOMETIMES is not one of IMPLEMENTATION_SPECIFIC_DEFAULT, KEEP_UNCHANGED/);
      return true;
    });
  });
});
