// External authorization (envoy.filters.http.ext_authz) with an HTTP authorization service, as Istio
// configures it for an AuthorizationPolicy with action CUSTOM and an envoyExtAuthzHttp provider: the
// proxy asks a real authorizer (shaped after Istio's ext-authz sample) before a request goes upstream,
// forwards what the authorizer allows, answers denials with the authorizer's own answer, and handles an
// authorizer that is down, failing or slow.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { compileExtAuthzPerRoute, compileExtAuthzSettings, extAuthzPerRouteTypeUrl, extAuthzTypeUrl } from '../../src/proxy/http/filters/ext-authz/config.ts';
import { extAuthzStatsOf, type ExtAuthzStats } from '../../src/proxy/http/filters/ext-authz/stats.ts';
import { FieldPath } from '../../src/proxy/upstream/envoy-config.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';
import { send } from './support/client.ts';
import { connect, request as http2Request } from './support/http2.ts';
import {
  allowedValue, checkHeader, denyBody, overrideHeader, resultHeader, startExtAuthzServer, type ExtAuthzServer,
} from './support/ext-authz-server.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routerFilter, routeTo, virtualHost } from './support/resources.ts';
import { closedPort, startUpstream, type Seen, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
const appCluster = 'outbound|9080||app.foo.svc.cluster.local';
const authzCluster = 'outbound|8000||ext-authz.foo.svc.cluster.local';
const slowAuthzCluster = 'outbound|8000||slow-ext-authz.foo.svc.cluster.local';
const downAuthzCluster = 'outbound|8000||down-ext-authz.foo.svc.cluster.local';
const allow = { [checkHeader]: allowedValue };

let app: Upstream;
let authz: ExtAuthzServer;
let slowAuthz: ExtAuthzServer;
/** Requests the app received, in order. */
const appSeen: Seen[] = [];
/** The request bodies the app received, by URL. */
const appBodies = new Map<string, string>();

function httpService(cluster: string, extra: Obj = {}): Obj {
  return {
    server_uri: { uri: `http://${cluster.split('|')[3]}`, cluster, timeout: { seconds: '10' } },
    ...extra,
  };
}

function extAuthz(config: Obj): Obj {
  return { name: 'envoy.filters.http.ext_authz', typed_config: { '@type': extAuthzTypeUrl, transport_api_version: 'V3', ...config } };
}

/** Istio's RBAC shadow rule for CUSTOM policies: paths under /protected get the ext-authz policy id. */
const istioShadowRbac = {
  name: 'envoy.filters.http.rbac',
  typed_config: {
    '@type': TypeUrl.Rbac,
    shadow_rules: {
      action: 'DENY',
      policies: {
        'istio-ext-authz-ns[foo]-policy[ext-authz]-rule[0]': {
          permissions: [{ and_rules: { rules: [{ or_rules: { rules: [{ url_path: { path: { prefix: '/protected' } } }] } }] } }],
          principals: [{ and_ids: { ids: [{ any: true }] } }],
        },
      },
    },
    shadow_rules_stat_prefix: 'istio_ext_authz_',
  },
};

/** Istio's filter_enabled_metadata: check only requests an ext-authz shadow policy matched. */
const istioEnabledMetadata = {
  filter: 'envoy.filters.http.rbac',
  path: [{ key: 'istio_ext_authz_shadow_effective_policy_id' }],
  value: { string_match: { prefix: 'istio-ext-authz' } },
};

/** Routes to the app; /public has the filter disabled by an ExtAuthzPerRoute, /no-body the request body. */
function appRoutes(name: string): Obj {
  return routeConfig(name, [virtualHost('app', ['*'], [
    {
      ...route({ prefix: '/public' }, routeTo(appCluster), 'public'),
      typed_per_filter_config: { 'envoy.filters.http.ext_authz': { '@type': extAuthzPerRouteTypeUrl, disabled: true } },
    },
    {
      ...route({ prefix: '/no-body' }, routeTo(appCluster), 'no-body'),
      typed_per_filter_config: {
        'envoy.filters.http.ext_authz': { '@type': extAuthzPerRouteTypeUrl, check_settings: { disable_request_body_buffering: true } },
      },
    },
    route({ prefix: '/' }, routeTo(appCluster), 'all'),
  ])]);
}

function authzListener(name: string, filters: Obj[]): Obj {
  return httpListener(name, { routeConfig: appRoutes(name), hcm: { http_filters: [...filters, routerFilter] } });
}

function statsOf(listener: string): ExtAuthzStats {
  const hcm = harness.stats.httpConnectionManagers.get(listener);
  assert.ok(hcm, `connection manager ${listener}`);
  const stats = extAuthzStatsOf(hcm).get('');
  assert.ok(stats, `ext_authz stats of ${listener}`);
  return stats;
}

function lastCheck(server: ExtAuthzServer = authz) {
  const check = server.checks.at(-1);
  assert.ok(check, 'the authorizer received a check');
  return check;
}

function seenByApp(reply: { status: number; body: string }): Seen {
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as Seen;
}

/** Rejected as a ConfigRejectedError whose message matches. */
function rejected(message: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
    assert.match(err.message, message);
    return true;
  };
}

before(async () => {
  app = await startUpstream('app');
  app.server.on('request', (req: http.IncomingMessage) => {
    appSeen.push({ upstream: 'app', method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => appBodies.set(req.url!, Buffer.concat(chunks).toString()));
  });
  authz = await startExtAuthzServer();
  authz.allowHeaders = {
    'x-on-success': 'welcome', 'x-not-for-client': 'internal', 'x-appended': 'from-authz', 'x-envoy-auth-headers-to-remove': 'x-remove-me',
  };
  authz.denyHeaders = { 'x-internal-detail': 'secret', 'www-authenticate': 'Bearer realm="app"' };
  slowAuthz = await startExtAuthzServer();
  slowAuthz.hold = true;
  const downPort = await closedPort();

  // As Istio: prefix/suffix/exact matchers with ignore_case, headers_to_add, upstream/client header lists.
  const istioHttpService = httpService(authzCluster, {
    path_prefix: '/check',
    authorization_request: { headers_to_add: [{ key: 'x-added', value: 'by-proxy' }, { key: 'X-Replaced', value: 'by-proxy' }] },
    authorization_response: {
      allowed_upstream_headers: { patterns: [{ exact: resultHeader, ignore_case: true }, { exact: overrideHeader, ignore_case: true }] },
      allowed_upstream_headers_to_append: { patterns: [{ exact: 'x-appended' }] },
      allowed_client_headers: { patterns: [{ exact: resultHeader, ignore_case: true }] },
      allowed_client_headers_on_success: { patterns: [{ prefix: 'x-on-', ignore_case: true }] },
    },
  });
  const allowedHeaders = { patterns: [{ exact: checkHeader, ignore_case: true }, { prefix: 'X-Prefix-', ignore_case: true }, { exact: overrideHeader }, { exact: 'x-replaced' }] };
  await harness.apply({
    clusters: [edsCluster(appCluster), edsCluster(authzCluster), edsCluster(slowAuthzCluster), edsCluster(downAuthzCluster)],
    endpoints: [
      assignment(appCluster, [app.port]),
      assignment(authzCluster, [authz.port]),
      assignment(slowAuthzCluster, [slowAuthz.port]),
      assignment(downAuthzCluster, [downPort]),
    ],
    listeners: [
      authzListener('istio', [istioShadowRbac, extAuthz({
        http_service: istioHttpService, allowed_headers: allowedHeaders, filter_enabled_metadata: istioEnabledMetadata,
        status_on_error: { code: 'Forbidden' },
      })]),
      authzListener('plain', [extAuthz({ http_service: httpService(authzCluster) })]),
      authzListener('down', [extAuthz({ http_service: httpService(downAuthzCluster) })]),
      authzListener('fail-open', [extAuthz({
        http_service: httpService(downAuthzCluster), failure_mode_allow: true, failure_mode_allow_header_add: true,
      })]),
      authzListener('failing', [extAuthz({ http_service: httpService(slowAuthzCluster), status_on_error: { code: 'ServiceUnavailable' } })]),
      authzListener('slow', [extAuthz({
        http_service: { ...httpService(slowAuthzCluster), server_uri: { uri: 'http://slow', cluster: slowAuthzCluster, timeout: { nanos: 200_000_000 } } },
      })]),
      authzListener('with-body', [extAuthz({
        http_service: httpService(authzCluster), allowed_headers: { patterns: [{ exact: checkHeader }] },
        with_request_body: { max_request_bytes: 65536 },
      })]),
      authzListener('partial-body', [extAuthz({
        http_service: httpService(authzCluster), allowed_headers: { patterns: [{ exact: checkHeader }] },
        with_request_body: { max_request_bytes: 1024, allow_partial_message: true, pack_as_bytes: true },
      })]),
      authzListener('switched-off', [extAuthz({
        http_service: httpService(authzCluster),
        filter_enabled: { default_value: { numerator: 0, denominator: 'HUNDRED' }, runtime_key: 'ext_authz.enabled' },
        deny_at_disable: { default_value: { value: true }, runtime_key: 'ext_authz.deny_at_disable' },
      })]),
    ],
  });
});

after(async () => {
  await harness.close();
  await app.close();
  await authz.close();
  await slowAuthz.close();
});

describe('a request the authorizer allows', () => {
  it('reaches the upstream with the headers the authorizer chose to forward', async () => {
    const before = statsOf('istio').ok;
    const reply = await send(harness.port('istio'), '/protected/items', { headers: { ...allow, [overrideHeader]: 'v1' } });
    const seen = seenByApp(reply);
    assert.equal(seen.url, '/protected/items');
    assert.equal(seen.headers[resultHeader], 'allowed');
    assert.equal(seen.headers[overrideHeader], 'v1');
    assert.equal(seen.headers['x-not-for-client'], undefined, 'a header no list allows stays out of the request');
    assert.equal(statsOf('istio').ok, before + 1);
  });

  it('gets the authorizer headers allowed_client_headers_on_success selects in its response', async () => {
    const reply = await send(harness.port('istio'), '/protected/items', { headers: allow });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-on-success'], 'welcome');
    assert.equal(reply.headers['x-not-for-client'], undefined);
    assert.equal(reply.headers[resultHeader], undefined, 'allowed_client_headers applies to denials only');
  });

  it('replaces a client header of the same name with the authorizer value', async () => {
    const reply = await send(harness.port('istio'), '/protected/items', { headers: { ...allow, [resultHeader]: 'forged' } });
    assert.deepEqual(seenByApp(reply).headers[resultHeader], 'allowed');
  });

  it('gets authorizer values appended to its headers, and loses the headers the authorizer asks to remove', async () => {
    const reply = await send(harness.port('istio'), '/protected/items', { headers: { ...allow, 'x-appended': 'from-client', 'x-remove-me': 'please' } });
    const seen = seenByApp(reply);
    assert.equal(seen.headers['x-appended'], 'from-client,from-authz');
    assert.equal(seen.headers['x-remove-me'], undefined);
    assert.equal(seen.headers['x-envoy-auth-headers-to-remove'], undefined);
  });

  it('keeps its body for the upstream: the check itself has none', async () => {
    const reply = await send(harness.port('istio'), '/protected/upload', { method: 'POST', headers: allow, body: 'payload' });
    assert.equal(reply.status, 200);
    const check = lastCheck();
    assert.equal(check.method, 'POST');
    assert.equal(check.body, '');
    assert.equal(check.headers['content-length'], '0');
    await waitFor('the app to receive the body', () => appBodies.get('/protected/upload'), (body) => body === 'payload');
  });
});

describe('an HTTP/2 client', () => {
  it('is checked like an HTTP/1.1 one: allowed requests go on with their body, denied ones get the authorizer answer', async () => {
    const session = connect(harness.port('istio'));
    try {
      const allowed = await http2Request(session, '/protected/h2', { method: 'POST', headers: allow, body: 'h2-payload' });
      assert.equal(allowed.status, 200, allowed.body);
      const seen = JSON.parse(allowed.body) as Seen;
      assert.equal(seen.headers[resultHeader], 'allowed');
      await waitFor('the app to receive the body', () => appBodies.get('/protected/h2'), (body) => body === 'h2-payload');
      assert.equal(lastCheck().url, '/check/protected/h2');
      const denied = await http2Request(session, '/protected/h2');
      assert.equal(denied.status, 403);
      assert.equal(denied.body, denyBody);
      assert.equal(denied.headers[resultHeader], 'denied');
    } finally {
      session.close();
    }
  });
});

describe('the check request', () => {
  it('goes to the authorizer at path_prefix + the request path and query, with the same method', async () => {
    await send(harness.port('istio'), '/protected/a/b?x=1&y=2', { method: 'DELETE', headers: allow });
    const check = lastCheck();
    assert.equal(check.method, 'DELETE');
    assert.equal(check.url, '/check/protected/a/b?x=1&y=2');
  });

  it('carries only the allowed headers, plus Host, Authorization and headers_to_add', async () => {
    await send(harness.port('istio'), '/protected/h', {
      host: 'app.example.com',
      headers: {
        ...allow, 'x-prefix-tenant': 'acme', 'x-secret': 'do-not-leak', authorization: 'Bearer token', cookie: 'session=1',
        'x-replaced': 'by-client',
      },
    });
    const headers = lastCheck().headers;
    assert.equal(headers.host, 'app.example.com');
    assert.equal(headers[checkHeader], allowedValue);
    assert.equal(headers['x-prefix-tenant'], 'acme');
    assert.equal(headers.authorization, 'Bearer token');
    assert.equal(headers['x-added'], 'by-proxy');
    assert.equal(headers['x-replaced'], 'by-proxy', 'headers_to_add replaces a request header of the same name');
    assert.equal(headers['x-secret'], undefined, 'a header allowed_headers does not match never reaches the authorizer');
    assert.equal(headers.cookie, undefined);
  });

  it('without allowed_headers carries only Host and Authorization of the request headers', async () => {
    await send(harness.port('plain'), '/x', { headers: { ...allow, authorization: 'Basic abc', 'x-other': '1' } });
    const headers = lastCheck().headers;
    assert.equal(headers.authorization, 'Basic abc');
    assert.equal(headers[checkHeader], undefined);
    assert.equal(headers['x-other'], undefined);
    assert.equal(lastCheck().url, '/x');
  });
});

describe('a request the authorizer denies', () => {
  it('gets the authorizer status, body and allowed headers and never reaches the upstream', async () => {
    const appCount = app.count;
    const before = statsOf('istio').denied;
    const reply = await send(harness.port('istio'), '/protected/items', { headers: { [checkHeader]: 'deny' } });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, denyBody);
    assert.equal(reply.headers[resultHeader], 'denied');
    assert.equal(reply.headers['x-internal-detail'], undefined, 'a header allowed_client_headers does not select stays with the authorizer');
    assert.equal(reply.headers['www-authenticate'], 'Bearer realm="app"', 'WWW-Authenticate always goes with a denial');
    assert.equal(app.count, appCount);
    assert.equal(statsOf('istio').denied, before + 1);
  });

  it('without allowed_client_headers gets every authorizer header', async () => {
    const appCount = app.count;
    const reply = await send(harness.port('plain'), '/x');
    assert.equal(reply.status, 403);
    assert.equal(reply.body, denyBody);
    assert.equal(reply.headers[resultHeader], 'denied');
    assert.equal(reply.headers['x-internal-detail'], 'secret');
    assert.equal(reply.headers['content-length'], String(Buffer.byteLength(denyBody)));
    assert.equal(app.count, appCount);
  });
});

describe('with_request_body', () => {
  it('sends the request body with the check, and the whole body still reaches the upstream', async () => {
    const body = 'b'.repeat(60_000);
    const reply = await send(harness.port('with-body'), '/upload/whole', { method: 'POST', headers: allow, body });
    assert.equal(reply.status, 200, reply.body);
    const check = lastCheck();
    assert.equal(check.body, body);
    assert.equal(check.headers['content-length'], String(body.length));
    assert.equal(check.headers['x-envoy-auth-partial-body'], 'false');
    await waitFor('the app to receive the body', () => appBodies.get('/upload/whole')?.length, (n) => n === body.length);
    assert.equal(appBodies.get('/upload/whole'), body);
  });

  it('waits for a body that arrives in pieces', async () => {
    const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: harness.port('with-body'), method: 'POST', path: '/upload/pieces', headers: allow, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.write('first,');
      // A separate chunk on the wire: the proxy has to wait for it.
      setTimeout(() => req.end('second'), 50);
    });
    const { status, body } = await reply;
    assert.equal(status, 200, body);
    assert.equal(lastCheck().body, 'first,second');
    await waitFor('the app to receive the body', () => appBodies.get('/upload/pieces'), (b) => b === 'first,second');
  });

  it('answers 413 without a check when the body is longer than max_request_bytes', async () => {
    const checks = authz.checks.length;
    const appCount = app.count;
    const reply = await send(harness.port('with-body'), '/upload/big', { method: 'POST', headers: allow, body: 'x'.repeat(100_000) });
    assert.equal(reply.status, 413);
    assert.equal(authz.checks.length, checks);
    assert.equal(app.count, appCount);
  });

  it('with allow_partial_message sends the first max_request_bytes, marked partial, and forwards the whole body', async () => {
    const body = Buffer.alloc(200_000);
    for (let i = 0; i < body.length; i++) body[i] = 97 + (i % 26);
    const reply = await send(harness.port('partial-body'), '/upload/partial', { method: 'POST', headers: allow, body });
    assert.equal(reply.status, 200, reply.body);
    const check = lastCheck();
    assert.equal(check.body, body.subarray(0, 1024).toString());
    assert.equal(check.headers['x-envoy-auth-partial-body'], 'true');
    await waitFor('the app to receive the body', () => appBodies.get('/upload/partial')?.length, (n) => n === body.length);
    assert.equal(appBodies.get('/upload/partial'), body.toString());
  });

  it('works for an HTTP/2 client too', async () => {
    const session = connect(harness.port('partial-body'));
    try {
      const body = 'h'.repeat(5000);
      const reply = await http2Request(session, '/upload/h2', { method: 'POST', headers: allow, body });
      assert.equal(reply.status, 200, reply.body);
      assert.equal(lastCheck().body, 'h'.repeat(1024));
      await waitFor('the app to receive the body', () => appBodies.get('/upload/h2')?.length, (n) => n === body.length);
    } finally {
      session.close();
    }
  });

  it('is not read for a route whose check_settings disable_request_body_buffering', async () => {
    const reply = await send(harness.port('with-body'), '/no-body/x', { method: 'POST', headers: allow, body: 'abc' });
    assert.equal(reply.status, 200, reply.body);
    const check = lastCheck();
    assert.equal(check.url, '/no-body/x');
    assert.equal(check.body, '');
    assert.equal(check.headers['x-envoy-auth-partial-body'], undefined);
    await waitFor('the app to receive the body', () => appBodies.get('/no-body/x'), (b) => b === 'abc');
  });
});

describe('an authorizer that cannot answer', () => {
  it('denies with status_on_error (403 by default) when the authorizer is down', async () => {
    const appCount = app.count;
    const reply = await send(harness.port('down'), '/x', { headers: allow });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, '');
    assert.equal(app.count, appCount);
    assert.equal(statsOf('down').error, 1);
  });

  it('lets the request through with failure_mode_allow, marked x-envoy-auth-failure-mode-allowed', async () => {
    const reply = await send(harness.port('fail-open'), '/x');
    const seen = seenByApp(reply);
    assert.equal(seen.headers['x-envoy-auth-failure-mode-allowed'], 'true');
    assert.equal(statsOf('fail-open').error, 1);
    assert.equal(statsOf('fail-open').failureModeAllowed, 1);
  });

  it('treats a 5xx answer as an error: status_on_error, not the authorizer answer', async () => {
    slowAuthz.hold = false;
    slowAuthz.failWith = 500;
    try {
      const appCount = app.count;
      const reply = await send(harness.port('failing'), '/x', { headers: allow });
      assert.equal(reply.status, 503);
      assert.equal(app.count, appCount);
      assert.equal(statsOf('failing').error, 1);
    } finally {
      slowAuthz.failWith = null;
      slowAuthz.hold = true;
    }
  });

  it('gives up after server_uri.timeout and denies', async () => {
    const appCount = app.count;
    const checks = slowAuthz.checks.length;
    const reply = await send(harness.port('slow'), '/x', { headers: allow });
    assert.equal(reply.status, 403);
    assert.equal(slowAuthz.checks.length, checks + 1, 'the check reached the authorizer');
    assert.equal(app.count, appCount);
    assert.equal(statsOf('slow').error, 1);
  });

  it('abandons the check, and never forwards the request, when the client goes away meanwhile', async () => {
    const appCount = app.count;
    const checks = slowAuthz.checks.length;
    const abandoned = slowAuthz.abandoned;
    const req = http.request({ host: '127.0.0.1', port: harness.port('failing'), path: '/x', headers: allow, agent: false });
    req.on('error', () => {});
    req.end();
    await waitFor('the check to arrive', () => slowAuthz.checks.length, (n) => n === checks + 1);
    req.destroy();
    await waitFor('the proxy to give up the check', () => slowAuthz.abandoned, (n) => n === abandoned + 1);
    assert.equal(app.count, appCount);
  });
});

describe('when the filter runs', () => {
  it('skips requests filter_enabled_metadata does not match (no Istio ext-authz shadow policy)', async () => {
    const checks = authz.checks.length;
    const before = statsOf('istio').disabled;
    const reply = await send(harness.port('istio'), '/elsewhere');
    assert.equal(seenByApp(reply).url, '/elsewhere');
    assert.equal(authz.checks.length, checks, 'no check was sent');
    assert.equal(statsOf('istio').disabled, before + 1);
  });

  it('skips routes whose ExtAuthzPerRoute disables it', async () => {
    const checks = authz.checks.length;
    const reply = await send(harness.port('plain'), '/public/page');
    assert.equal(seenByApp(reply).url, '/public/page');
    assert.equal(authz.checks.length, checks);
  });

  it('denies with status_on_error when switched off by filter_enabled and deny_at_disable is set', async () => {
    const checks = authz.checks.length;
    const appCount = app.count;
    const reply = await send(harness.port('switched-off'), '/x', { headers: allow });
    assert.equal(reply.status, 403);
    assert.equal(authz.checks.length, checks);
    assert.equal(app.count, appCount);
    assert.equal(statsOf('switched-off').disabled, 1);
  });
});

describe('config', () => {
  const at = new FieldPath('Listener authz', 'http_filters[0].typed_config');
  const service = httpService(authzCluster);
  const cases: [string, Obj, RegExp][] = [
    ['a gRPC authorization service', { grpc_service: { envoy_grpc: { cluster_name: authzCluster } } }, /grpc_service is not supported: only http_service is supported/],
    ['no authorization service', {}, /http_service is required/],
    ['a server_uri without timeout', { http_service: { server_uri: { uri: 'http://a', cluster: authzCluster } } }, /http_service\.server_uri\.timeout is required/],
    ['a server_uri without cluster', { http_service: { server_uri: { uri: 'http://a', timeout: '1s' } } }, /http_service\.server_uri\.cluster is required/],
    ['a path_prefix not starting with /', { http_service: { ...service, path_prefix: 'check' } }, /http_service\.path_prefix "check" must start with "\/"/],
    ['a request body limit of 0', { http_service: service, with_request_body: { max_request_bytes: 0 } }, /with_request_body\.max_request_bytes 0 must be greater than 0/],
    ['an undefined status_on_error', { http_service: service, status_on_error: { code: 'Teapot' } }, /status_on_error\.code "Teapot" is not a defined HTTP status code/],
    ['allowed_headers set twice', {
      http_service: { ...service, authorization_request: { allowed_headers: { patterns: [{ exact: 'a' }] } } },
      allowed_headers: { patterns: [{ exact: 'b' }] },
    }, /allowed_headers and http_service\.authorization_request\.allowed_headers must not both be set/],
    ['an empty header list', { http_service: { ...service, authorization_response: { allowed_upstream_headers: {} } } },
      /http_service\.authorization_response\.allowed_upstream_headers\.patterns must have at least one pattern/],
    ['a headers_to_add value that cannot be sent', {
      http_service: { ...service, authorization_request: { headers_to_add: [{ key: 'x-a', value: 'a\nb' }] } },
    }, /http_service\.authorization_request\.headers_to_add\[0\]\.value is not a valid header value/],
    ['header mutation rules', { http_service: service, decoder_header_mutation_rules: { disallow_all: { value: true } } }, /decoder_header_mutation_rules is not supported/],
    ['an unknown field', { http_service: service, frobnicate: true }, /frobnicate is not supported/],
  ];
  for (const [what, config, message] of cases) {
    it(`rejects ${what}, naming the field`, () => {
      assert.throws(() => compileExtAuthzSettings(config, at), rejected(new RegExp(`^Listener authz: http_filters\\[0\\]\\.typed_config\\.?${message.source}`)));
    });
  }

  it('reads status_on_error by name or number', () => {
    assert.equal(compileExtAuthzSettings({ http_service: service, status_on_error: { code: 'Unauthorized' } }, at).statusOnError, 401);
    assert.equal(compileExtAuthzSettings({ http_service: service, status_on_error: { code: 503 } }, at).statusOnError, 503);
    assert.equal(compileExtAuthzSettings({ http_service: service }, at).statusOnError, 403);
  });

  it('rejects an ExtAuthzPerRoute that sets neither or both of disabled and check_settings', () => {
    const pr = new FieldPath('RouteConfiguration r', 'typed_per_filter_config[envoy.filters.http.ext_authz]');
    assert.throws(() => compileExtAuthzPerRoute({}, pr), rejected(/must set exactly one of disabled, check_settings/));
    assert.throws(() => compileExtAuthzPerRoute({ disabled: true, check_settings: {} }, pr), rejected(/must set exactly one/));
    assert.equal(compileExtAuthzPerRoute({ check_settings: { context_extensions: { a: 'b' } } }, pr).disabled, false);
  });

  it('rejects a listener whose ext_authz filter asks for a gRPC service, and keeps serving the previous config', async () => {
    await assert.rejects(harness.apply({
      listeners: [authzListener('plain', [extAuthz({ grpc_service: { envoy_grpc: { cluster_name: authzCluster } } })])],
    }), rejected(/grpc_service is not supported: only http_service is supported/));
    // The previous filter still checks (and, forwarding no x-ext-authz header to the authorizer, denies).
    const reply = await send(harness.port('plain'), '/x', { headers: allow });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, denyBody);
  });
});
