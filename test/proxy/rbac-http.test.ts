// The HTTP RBAC filter (envoy.filters.http.rbac) as Istio's AuthorizationPolicy translation configures
// it: requests through real listeners are allowed or answered 403 `RBAC: access denied`; LOG and shadow
// rules leave dynamic metadata that a later filter reads (as ext_authz's filter_enabled_metadata does);
// the `authenticated` principal is the SPIFFE URI SAN of a real mTLS client certificate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { chainsListener, filterChain } from './support/listener-resources.ts';
import {
  freePort, httpRbacFilter, metadataRule, perRouteRbac, policy, rbacRules,
} from './support/rbac-resources.ts';
import {
  assignment, edsCluster, httpConnectionManager, listener, route, routeConfig, routeTo, routerFilter, virtualHost,
} from './support/resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { downstreamTls } from './support/tls-contexts.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness();
let upstream: Upstream;
let ca: TestCertificateAuthority;
let serverCert: TestCertificate;
let barCert: TestCertificate;
let bazCert: TestCertificate;
let destinationPort: number;

const everything = () => routeConfig('local', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('web'))])]);

/** An HTTP listener whose connection manager runs these filters before the router. */
function rbacListener(name: string, filters: Obj[], options: { routes?: Obj; port?: number } = {}): Obj {
  return listener(name, httpConnectionManager({
    statPrefix: name, routeConfig: options.routes ?? everything(), httpFilters: [...filters, routerFilter],
  }), { port: options.port });
}

const get = { header: { name: ':method', string_match: { exact: 'GET' } } };
const path = (prefix: string): Obj => ({ url_path: { path: { prefix } } });

/** A second RBAC filter that denies when the dynamic metadata says so: what a later filter reads. */
function denyWhen(name: string, policies: Record<string, Obj>): Obj {
  return httpRbacFilter({ rules: rbacRules('DENY', policies) }, name);
}

before(async () => {
  upstream = await startUpstream('web');
  ca = await makeCertificateAuthority();
  serverCert = await ca.issue('web.example.com', ['DNS:web.example.com']);
  barCert = await ca.issue('bar', ['URI:spiffe://cluster.local/ns/foo/sa/bar'], true);
  bazCert = await ca.issue('baz', ['URI:spiffe://cluster.local/ns/foo/sa/baz', 'DNS:baz.foo.svc'], true);
  destinationPort = await freePort();

  const perRouteRoutes = routeConfig('per-route', [virtualHost('all', ['*'], [
    { ...route({ prefix: '/open' }, routeTo('web')), ...perRouteRbac() },
    { ...route({ prefix: '/narrow' }, routeTo('web')), ...perRouteRbac({ rules: rbacRules('ALLOW', { ok: policy([path('/narrow/ok')]) }) }) },
    route({ prefix: '/' }, routeTo('web')),
  ])]);

  const mtlsHcm = httpConnectionManager({
    statPrefix: 'mtls', routeConfig: everything(),
    httpFilters: [httpRbacFilter({
      rules: rbacRules('ALLOW', {
        'bar-only': policy([{ any: true }], [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/foo/sa/bar' } } }]),
        'any-peer': policy([path('/any-peer')], [{ authenticated: {} }]),
        'dns-san': policy([path('/dns')], [{ authenticated: { principal_name: { exact: 'baz.foo.svc' } } }]),
        sni: policy([{ and_rules: { rules: [path('/sni'), { requested_server_name: { exact: 'sni.example' } }] } }]),
      }),
    }), routerFilter],
  });

  await harness.apply({
    clusters: [edsCluster('web')],
    endpoints: [assignment('web', [upstream.port])],
    listeners: [
      rbacListener('allow', [httpRbacFilter({
        rules: rbacRules('ALLOW', {
          'public-get': policy([{ and_rules: { rules: [get, path('/public')] } }]),
          exact: policy([{ url_path: { path: { exact: '/exact' } } }]),
          'from-localhost': policy([path('/local')], [{ direct_remote_ip: { address_prefix: '127.0.0.1', prefix_len: 32 } }]),
          'from-elsewhere': policy([path('/elsewhere')], [{ remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } }]),
          tenant: policy([path('/tenant')], [{ header: { name: 'x-tenant', string_match: { exact: 'acme' } } }]),
        }),
      })]),
      rbacListener('deny', [httpRbacFilter({
        rules: rbacRules('DENY', {
          evil: policy([{ header: { name: 'x-evil', present_match: true } }]),
          'not-reviews': policy([{ not_rule: { header: { name: ':authority', string_match: { prefix: 'reviews' } } } }]),
          'admin-path': policy([{ or_rules: { rules: [path('/admin'), path('/debug')] } }], [{ url_path: { path: { prefix: '/' } } }]),
        }),
      })]),
      rbacListener('allow-nothing', [httpRbacFilter({ rules: { action: 'ALLOW' } })]),
      rbacListener('deny-nothing', [httpRbacFilter({ rules: { action: 'DENY' } })]),
      rbacListener('no-rules', [httpRbacFilter({})]),
      rbacListener('log', [
        httpRbacFilter({ rules: rbacRules('LOG', { audit: policy([path('/logged')]) }) }),
        denyWhen('check-log', {
          'hint-common': policy([metadataRule('envoy.common', 'access_log_hint', { bool_match: true })]),
          'hint-false': policy([{ and_rules: { rules: [path('/quiet'), metadataRule('envoy.filters.http.rbac', 'access_log_hint', { bool_match: false })] } }]),
        }),
      ]),
      rbacListener('shadow', [
        httpRbacFilter({
          shadow_rules: rbacRules('ALLOW', { 'ext-authz-policy': policy([path('/ext')]) }),
          shadow_rules_stat_prefix: 'istio_ext_authz_',
        }),
        denyWhen('ext-authz-stand-in', {
          'by-policy': policy([metadataRule('envoy.filters.http.rbac', 'istio_ext_authz_shadow_effective_policy_id', { string_match: { exact: 'ext-authz-policy' } })]),
          'by-result': policy([{ and_rules: { rules: [path('/result'), metadataRule('envoy.filters.http.rbac', 'istio_ext_authz_shadow_engine_result', { string_match: { exact: 'denied' } })] } }]),
          'allowed-result': policy([{ and_rules: { rules: [path('/ext'), { not_rule: metadataRule('envoy.filters.http.rbac', 'istio_ext_authz_shadow_engine_result', { string_match: { exact: 'allowed' } }) }] } }]),
        }),
      ]),
      rbacListener('shadow-enforced', [httpRbacFilter({
        rules: rbacRules('DENY', { 'no-secrets': policy([path('/secret')]) }),
        rules_stat_prefix: 'enforced_',
        shadow_rules: rbacRules('DENY', { 'dry-run': policy([path('/dry')]) }),
        shadow_rules_stat_prefix: 'istio_dry_run_allow_',
      })]),
      rbacListener('per-route', [httpRbacFilter({ rules: { action: 'ALLOW' } })], { routes: perRouteRoutes }),
      rbacListener('destination', [httpRbacFilter({
        rules: rbacRules('ALLOW', {
          here: policy([{ and_rules: { rules: [
            { destination_port: destinationPort }, { destination_ip: { address_prefix: '127.0.0.1', prefix_len: 32 } },
            { destination_port_range: { start: destinationPort, end: destinationPort + 1 } }, path('/here'),
          ] } }]),
        }),
      })], { port: destinationPort }),
      chainsListener('mtls', [{ ...filterChain(mtlsHcm), transport_socket: downstreamTls({ cert: serverCert, ca: ca.caCert, alpn: ['http/1.1'] }) }]),
    ],
  });
});

after(async () => {
  await harness.close();
  await upstream?.close();
  await ca?.remove();
});

async function status(listenerName: string, target: string, options: Parameters<typeof send>[2] = {}): Promise<number> {
  return (await send(harness.port(listenerName), target, options)).status;
}

describe('ALLOW rules', () => {
  it('forwards a request a policy allows and answers 403 "RBAC: access denied" to others', async () => {
    const before = upstream.count;
    const ok = await send(harness.port('allow'), '/public/page');
    assert.equal(ok.status, 200);
    assert.equal(upstream.count, before + 1);
    const denied = await send(harness.port('allow'), '/private');
    assert.equal(denied.status, 403);
    assert.equal(denied.body, 'RBAC: access denied');
    assert.equal(upstream.count, before + 1, 'a denied request never reaches the upstream');
  });

  it('needs every rule of and_rules: a POST to an allowed path is denied', async () => {
    assert.equal(await status('allow', '/public/page', { method: 'POST', body: 'x' }), 403);
  });

  it('matches url_path without the query string', async () => {
    assert.equal(await status('allow', '/exact?x=1'), 200);
    assert.equal(await status('allow', '/exact/more'), 403);
  });

  it('matches direct_remote_ip and remote_ip principals against the client address', async () => {
    assert.equal(await status('allow', '/local'), 200);
    assert.equal(await status('allow', '/elsewhere'), 403);
  });

  it('matches a header principal', async () => {
    assert.equal(await status('allow', '/tenant', { headers: { 'x-tenant': 'acme' } }), 200);
    assert.equal(await status('allow', '/tenant', { headers: { 'x-tenant': 'other' } }), 403);
  });

  it('counts allowed and denied requests under the connection manager', async () => {
    const labels = { envoy_http_conn_manager_prefix: 'allow', envoy_rbac_prefix: '' };
    const allowed = (await harness.metric('envoy_http_rbac_allowed', labels)) ?? 0;
    const denied = (await harness.metric('envoy_http_rbac_denied', labels)) ?? 0;
    await status('allow', '/public/x');
    await status('allow', '/nope');
    await status('allow', '/nope');
    assert.equal(await harness.metric('envoy_http_rbac_allowed', labels), allowed + 1);
    assert.equal(await harness.metric('envoy_http_rbac_denied', labels), denied + 2);
  });

  it('with no policies denies every request', async () => {
    assert.equal(await status('allow-nothing', '/'), 403);
  });

  it('matches destination_ip, destination_port and destination_port_range against the listener address', async () => {
    assert.equal(await status('destination', '/here'), 200);
    assert.equal(await status('destination', '/there'), 403);
  });
});

describe('DENY rules', () => {
  it('denies a request a policy matches and forwards the others', async () => {
    assert.equal(await status('deny', '/', { host: 'reviews', headers: { 'x-evil': '1' } }), 403);
    assert.equal(await status('deny', '/', { host: 'reviews' }), 200);
  });

  it('matches the :authority pseudo-header inside not_rule', async () => {
    assert.equal(await status('deny', '/', { host: 'ratings' }), 403);
  });

  it('matches or_rules with a url_path principal', async () => {
    assert.equal(await status('deny', '/debug/pprof', { host: 'reviews' }), 403);
    assert.equal(await status('deny', '/admin', { host: 'reviews' }), 403);
    assert.equal(await status('deny', '/user', { host: 'reviews' }), 200);
  });

  it('with no policies allows every request', async () => {
    assert.equal(await status('deny-nothing', '/'), 200);
  });

  it('answers a denied gRPC request in gRPC form (PERMISSION_DENIED)', async () => {
    const reply = await send(harness.port('deny'), '/pkg.Service/Method', {
      method: 'POST', host: 'reviews', headers: { 'content-type': 'application/grpc', 'x-evil': '1' }, body: Buffer.alloc(5),
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['grpc-status'], '7');
    assert.equal(reply.headers['grpc-message'], 'RBAC: access denied');
  });
});

describe('without rules', () => {
  it('allows everything', async () => {
    assert.equal(await status('no-rules', '/anything'), 200);
  });
});

describe('LOG rules', () => {
  it('lets every request through and leaves access_log_hint for later filters', async () => {
    // The next filter denies when it finds access_log_hint true (envoy.common): only a logged request has it.
    assert.equal(await status('log', '/logged/a'), 403);
    assert.equal(await status('log', '/other'), 200);
  });

  it('sets access_log_hint false when no policy matched', async () => {
    assert.equal(await status('log', '/quiet'), 403);
  });
});

describe('shadow rules', () => {
  it('are never enforced but name the matched policy in the dynamic metadata', async () => {
    // The shadow policy matches /ext: the stand-in for ext_authz finds
    // istio_ext_authz_shadow_effective_policy_id = ext-authz-policy and denies.
    assert.equal(await status('shadow', '/ext/check'), 403);
    assert.equal(await status('shadow', '/other'), 200, 'shadow rules that would deny do not deny');
  });

  it('report the shadow engine result as allowed or denied', async () => {
    assert.equal(await status('shadow', '/result'), 403, 'shadow_engine_result is "denied" for a request no ALLOW shadow policy matches');
  });

  it('are counted under shadow_allowed and shadow_denied with the shadow stat prefix', async () => {
    const labels = { envoy_http_conn_manager_prefix: 'shadow', envoy_rbac_prefix: 'istio_ext_authz_' };
    const allowed = (await harness.metric('envoy_http_rbac_shadow_allowed', labels)) ?? 0;
    const denied = (await harness.metric('envoy_http_rbac_shadow_denied', labels)) ?? 0;
    await status('shadow', '/ext/1');
    await status('shadow', '/other');
    await status('shadow', '/other');
    assert.equal(await harness.metric('envoy_http_rbac_shadow_allowed', labels), allowed + 1);
    assert.equal(await harness.metric('envoy_http_rbac_shadow_denied', labels), denied + 2);
  });

  it('run beside enforced rules, each counted under its own stat prefix', async () => {
    assert.equal(await status('shadow-enforced', '/dry'), 200);
    assert.equal(await status('shadow-enforced', '/secret'), 403);
    const enforced = { envoy_http_conn_manager_prefix: 'shadow-enforced', envoy_rbac_prefix: 'enforced_' };
    const shadow = { envoy_http_conn_manager_prefix: 'shadow-enforced', envoy_rbac_prefix: 'istio_dry_run_allow_' };
    assert.equal(await harness.metric('envoy_http_rbac_denied', enforced), 1);
    assert.equal(await harness.metric('envoy_http_rbac_allowed', enforced), 1);
    assert.equal(await harness.metric('envoy_http_rbac_shadow_denied', shadow), 1);
    assert.equal(await harness.metric('envoy_http_rbac_shadow_allowed', shadow), 1);
  });
});

describe('RBACPerRoute', () => {
  it('replaces the filter rules on its route; an empty one turns RBAC off there', async () => {
    assert.equal(await status('per-route', '/elsewhere'), 403);
    assert.equal(await status('per-route', '/open/door'), 200);
    assert.equal(await status('per-route', '/narrow/ok'), 200);
    assert.equal(await status('per-route', '/narrow/no'), 403);
  });
});

/** An HTTPS/1.1 request to the mtls listener, with a client certificate when given. */
function mtlsGet(target: string, cert: TestCertificate | null, servername = 'web.example.com', agent: https.Agent | false = false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: harness.port('mtls'), path: target, servername, ca: ca.caCert, agent,
      checkServerIdentity: () => undefined,
      ...(cert ? { cert: cert.cert, key: cert.key } : {}),
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('authenticated principals over mTLS', () => {
  it('allows the workload whose certificate carries the SPIFFE identity in its URI SAN', async () => {
    assert.equal(await mtlsGet('/', barCert), 200);
  });

  it('authorizes every request of a kept-alive connection by the identity of its certificate', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.deepEqual([
        await mtlsGet('/one', bazCert, 'web.example.com', agent),
        await mtlsGet('/any-peer', bazCert, 'web.example.com', agent),
        await mtlsGet('/dns', bazCert, 'web.example.com', agent),
      ], [403, 200, 200]);
    } finally {
      agent.destroy();
    }
  });

  it('denies another workload of the same trust domain', async () => {
    assert.equal(await mtlsGet('/', bazCert), 403);
  });

  it('matches a DNS SAN when no URI SAN matches', async () => {
    assert.equal(await mtlsGet('/dns', bazCert), 200);
    assert.equal(await mtlsGet('/dns', barCert), 200, 'bar passes through its own policy');
  });

  it('without principal_name, allows any peer with a verified certificate and denies a peer without one', async () => {
    assert.equal(await mtlsGet('/any-peer', bazCert), 200);
    assert.equal(await mtlsGet('/any-peer', null), 403);
  });

  it('matches requested_server_name against the SNI of the TLS connection', async () => {
    assert.equal(await mtlsGet('/sni', null, 'sni.example'), 200);
    assert.equal(await mtlsGet('/sni', null, 'web.example.com'), 403);
  });
});

describe('HTTP RBAC config errors', () => {
  const cases: [string, Obj, RegExp][] = [
    ['the xDS matcher API', { matcher: { matcher_list: {} } }, /http_filters\[0\]\.typed_config\.matcher \(the xDS matcher API\) is not supported; use rules/],
    ['a shadow matcher', { shadow_matcher: {} }, /typed_config\.shadow_matcher \(the xDS matcher API\) is not supported; use shadow_rules/],
    ['per-rule stats', { track_per_rule_stats: true }, /typed_config\.track_per_rule_stats true is not supported/],
    ['a CEL condition', { rules: { action: 'ALLOW', policies: { p: { permissions: [{ any: true }], principals: [{ any: true }], condition: { const_expr: { bool_value: true } } } } } },
      /typed_config\.rules\.policies\[p\]\.condition \(a CEL expression\) is not supported/],
    ['an unknown field', { rules: { action: 'ALLOW' }, enforcement: 1 }, /typed_config\.enforcement is not supported/],
  ];
  for (const [what, config, message] of cases) {
    it(`rejects ${what}, naming the listener and field`, async () => {
      await assert.rejects(harness.dataPlane.updateListeners([rbacListener('bad', [httpRbacFilter(config)])]), (err: unknown) => {
        assert.ok(err instanceof ConfigRejectedError, String(err));
        assert.match(err.message, /^Listener bad: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
