// The network RBAC filter (envoy.filters.network.rbac) in front of tcp_proxy and
// http_connection_manager: a denied connection is closed before its terminal filter sees it, an
// allowed one carries on; after TLS termination the `authenticated` principal is the client
// certificate's SPIFFE identity. HTTP-only rules never match at L4.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { ConfigRejectedError } from '../../src/proxy/data-plane.ts';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { chainsListener, tcpProxy } from './support/listener-resources.ts';
import { networkRbacFilter, policy, rbacRules } from './support/rbac-resources.ts';
import { assignment, edsCluster, httpConnectionManager, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { downstreamTls } from './support/tls-contexts.ts';
import { startTcpUpstream, whoAnswers, type TcpUpstream } from './support/tcp-upstream.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

type Obj = Record<string, unknown>;

const harness = new Harness({ drainTimeoutMs: 200 });
let tcpUpstream: TcpUpstream;
let web: Upstream;
let ca: TestCertificateAuthority;
let serverCert: TestCertificate;
let barCert: TestCertificate;
let bazCert: TestCertificate;

const local = { direct_remote_ip: { address_prefix: '127.0.0.1', prefix_len: 32 } };
const remote = { remote_ip: { address_prefix: '10.0.0.0', prefix_len: 8 } };

/** A filter chain: these network filters, then tcp_proxy to the echo upstream. */
function tcpChain(filters: Obj[], extra: Obj = {}): Obj {
  return { filters: [...filters, { name: 'envoy.filters.network.tcp_proxy', typed_config: tcpProxy('tcp', 'echo') }], ...extra };
}

function hcmChain(filters: Obj[]): Obj {
  const hcm = httpConnectionManager({
    statPrefix: 'http-behind-rbac',
    routeConfig: routeConfig('local', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('web'))])]),
  });
  return { filters: [...filters, { name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] };
}

before(async () => {
  tcpUpstream = await startTcpUpstream('echo');
  web = await startUpstream('web');
  ca = await makeCertificateAuthority();
  serverCert = await ca.issue('echo.example.com', ['DNS:echo.example.com']);
  barCert = await ca.issue('bar', ['URI:spiffe://cluster.local/ns/foo/sa/bar'], true);
  bazCert = await ca.issue('baz', ['URI:spiffe://cluster.local/ns/foo/sa/baz'], true);
  await harness.apply({
    clusters: [edsCluster('echo'), edsCluster('web')],
    endpoints: [assignment('echo', [tcpUpstream.port]), assignment('web', [web.port])],
    listeners: [
      chainsListener('allowed', [tcpChain([networkRbacFilter({ stat_prefix: 'tcp-allowed.', rules: rbacRules('ALLOW', { local: policy([{ any: true }], [local]) }) })])]),
      chainsListener('denied', [tcpChain([networkRbacFilter({ stat_prefix: 'tcp-denied.', rules: rbacRules('ALLOW', { remote: policy([{ any: true }], [remote]) }) })])]),
      chainsListener('deny-action', [tcpChain([networkRbacFilter({
        stat_prefix: 'tcp-deny-action.', enforcement_type: 'CONTINUOUS',
        rules: rbacRules('DENY', { 'local-port': policy([{ destination_ip: { address_prefix: '127.0.0.0', prefix_len: 8 } }]) }),
        shadow_rules: rbacRules('ALLOW', { nobody: policy([{ any: true }], [remote]) }),
      })])]),
      chainsListener('http-only-rule', [tcpChain([networkRbacFilter({
        stat_prefix: 'tcp-http-only.', rules: rbacRules('ALLOW', { header: policy([{ header: { name: ':method', present_match: true } }]) }),
      })])]),
      chainsListener('two-filters', [tcpChain([
        networkRbacFilter({ stat_prefix: 'first.', rules: rbacRules('DENY', { remote: policy([{ any: true }], [remote]) }) }),
        networkRbacFilter({ stat_prefix: 'second.', rules: rbacRules('ALLOW', { local: policy([{ any: true }], [local]) }) }),
      ])]),
      chainsListener('mtls', [tcpChain([networkRbacFilter({
        stat_prefix: 'tcp-mtls.',
        rules: rbacRules('ALLOW', { bar: policy([{ any: true }], [{ authenticated: { principal_name: { exact: 'spiffe://cluster.local/ns/foo/sa/bar' } } }]) }),
      })], { transport_socket: downstreamTls({ cert: serverCert, ca: ca.caCert, extra: { require_client_certificate: { value: true } } }) })]),
      chainsListener('http-allowed', [hcmChain([networkRbacFilter({ stat_prefix: 'http-allowed.', rules: rbacRules('ALLOW', { local: policy([{ any: true }], [local]) }) })])]),
      chainsListener('http-denied', [hcmChain([networkRbacFilter({ stat_prefix: 'http-denied.', rules: rbacRules('DENY', { local: policy([{ any: true }], [local]) }) })])]),
    ],
  });
});

after(async () => {
  await harness.close();
  await tcpUpstream?.close();
  await web?.close();
  await ca?.remove();
});

const statLabel = (prefix: string) => ({ envoy_rbac_stat_prefix: prefix });

/** Over TLS with a client certificate: the upstream's greeting, or null when the proxy closed the connection. */
function whoAnswersTls(cert: TestCertificate): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1', port: harness.port('mtls'), servername: 'echo.example.com', ca: ca.caCert, cert: cert.cert, key: cert.key,
    });
    let data = '';
    let settled = false;
    const finish = (value: string | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl >= 0) finish(data.slice(0, nl));
    });
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
  });
}

describe('network RBAC before tcp_proxy', () => {
  it('lets an allowed connection reach the upstream', async () => {
    assert.equal(await whoAnswers(harness.port('allowed')), 'echo');
    assert.equal(await harness.metric('envoy_rbac_allowed', statLabel('tcp-allowed.')), 1);
  });

  it('closes a denied connection before it reaches the upstream, and counts it', async () => {
    const before = tcpUpstream.connections;
    assert.equal(await whoAnswers(harness.port('denied')), null);
    assert.equal(tcpUpstream.connections, before, 'the upstream never saw the denied connection');
    assert.equal(await harness.metric('envoy_rbac_denied', statLabel('tcp-denied.')), 1);
  });

  it('applies DENY rules, and counts shadow rules without enforcing them', async () => {
    assert.equal(await whoAnswers(harness.port('deny-action')), null);
    assert.equal(await harness.metric('envoy_rbac_denied', statLabel('tcp-deny-action.')), 1);
    assert.equal(await harness.metric('envoy_rbac_shadow_denied', statLabel('tcp-deny-action.')), 1);
  });

  it('never matches HTTP-only rules on a connection', async () => {
    assert.equal(await whoAnswers(harness.port('http-only-rule')), null);
  });

  it('runs several RBAC filters in order; the connection goes on when all allow it', async () => {
    assert.equal(await whoAnswers(harness.port('two-filters')), 'echo');
    assert.equal(await harness.metric('envoy_rbac_allowed', statLabel('first.')), 1);
    assert.equal(await harness.metric('envoy_rbac_allowed', statLabel('second.')), 1);
  });
});

describe('network RBAC after TLS termination', () => {
  it('allows the client whose certificate has the allowed SPIFFE identity and closes another', async () => {
    assert.equal(await whoAnswersTls(barCert), 'echo');
    assert.equal(await whoAnswersTls(bazCert), null);
    assert.equal(await harness.metric('envoy_rbac_allowed', statLabel('tcp-mtls.')), 1);
    assert.equal(await harness.metric('envoy_rbac_denied', statLabel('tcp-mtls.')), 1);
  });
});

describe('network RBAC before http_connection_manager', () => {
  it('serves HTTP on an allowed connection', async () => {
    assert.equal((await send(harness.port('http-allowed'), '/')).status, 200);
  });

  it('closes a denied connection without an HTTP answer', async () => {
    await assert.rejects(send(harness.port('http-denied'), '/'), /socket hang up|ECONNRESET/);
  });
});

describe('network filter chain config errors', () => {
  const rbac = networkRbacFilter({ stat_prefix: 'x.', rules: { action: 'ALLOW' } });
  const cases: [string, Obj, RegExp][] = [
    ['an RBAC filter after the terminal filter', { filters: [{ name: 'tcp', typed_config: tcpProxy('tcp', 'echo') }, rbac] },
      /filter_chains\[0\]\.filters has 2 filters; the terminal filter \(http_connection_manager or tcp_proxy\) must be the only one and the last/],
    ['a chain with only an RBAC filter', { filters: [rbac] },
      /filters\[0\]\.typed_config .*network\.rbac\.v3\.RBAC is not a terminal filter; the chain must end with http_connection_manager or tcp_proxy/],
    ['an RBAC filter without stat_prefix', tcpChain([networkRbacFilter({ rules: { action: 'ALLOW' } })]), /filters\[0\]\.typed_config\.stat_prefix is required/],
    ['the xDS matcher API', tcpChain([networkRbacFilter({ stat_prefix: 'x.', matcher: {} })]), /filters\[0\]\.typed_config\.matcher \(the xDS matcher API\) is not supported/],
    ['an unknown enforcement_type', tcpChain([networkRbacFilter({ stat_prefix: 'x.', enforcement_type: 'SOMETIMES' })]),
      /enforcement_type SOMETIMES is not one of ONE_TIME_ON_FIRST_BYTE, CONTINUOUS/],
    ['an unknown network filter', tcpChain([{ name: 'x', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.ext_authz.v3.ExtAuthz' } }]),
      /filters\[0\]\.typed_config type\.googleapis\.com\/envoy\.extensions\.filters\.network\.ext_authz\.v3\.ExtAuthz is not supported/],
  ];
  for (const [what, chain, message] of cases) {
    it(`rejects ${what}, naming the listener and field`, async () => {
      await assert.rejects(harness.dataPlane.updateListeners([chainsListener('bad', [chain])]), (err: unknown) => {
        assert.ok(err instanceof ConfigRejectedError, String(err));
        assert.match(err.message, /^Listener bad: /);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
