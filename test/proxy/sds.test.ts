// Mutual TLS between two proxies with certificates delivered as SDS secrets (Istio's `default` and
// `ROOTCA`): a client-side data plane's cluster originates TLS with an UpstreamTlsContext that names
// the secrets, a server-side data plane's inbound filter chain terminates it with a
// DownstreamTlsContext that names them and requires a client certificate. Both carry HTTP/1.1 and
// HTTP/2 (ALPN); the server refuses plaintext and certificates of another CA; the client refuses a
// server whose SPIFFE identity is not the one expected; a secret that has not arrived fails
// connections cleanly until it does.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import https from 'node:https';
import tls from 'node:tls';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { send } from './support/client.ts';
import { chainsListener, filterChain } from './support/listener-resources.ts';
import {
  httpConnectionManager, httpListener, route, routeConfig, routeTo, staticCluster, tcpListener, virtualHost,
} from './support/resources.ts';
import {
  certificateSecret, rootSecret, sdsDownstreamTls, sdsUpstreamTls, uriSans,
} from './support/sds-resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const serverId = 'spiffe://cluster.local/ns/foo/sa/bar';
const clientId = 'spiffe://cluster.local/ns/default/sa/client';
const http2Options = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

let ca: TestCertificateAuthority;
let otherCa: TestCertificateAuthority;
let serverCert: TestCertificate;
let clientCert: TestCertificate;
let foreignClientCert: TestCertificate;
let otherIdentityCert: TestCertificate;
let app: Upstream;
let server: Harness;
let client: Harness;
let serverPort: number;
let clientPort: number;

/** The server side: an inbound listener terminating mTLS with SDS secrets, routing to the app. */
function inboundListener(options: Parameters<typeof sdsDownstreamTls>[0] = {}) {
  const hcm = httpConnectionManager({ statPrefix: 'inbound', routeConfig: routeConfig('inbound', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('app'))])]) });
  return chainsListener('inbound', [{ ...filterChain(hcm), transport_socket: sdsDownstreamTls(options) }]);
}

before(async () => {
  ca = await makeCertificateAuthority('Mesh Root');
  otherCa = await makeCertificateAuthority('Other Root');
  serverCert = await ca.issue('server', [`URI:${serverId}`], true);
  clientCert = await ca.issue('client', [`URI:${clientId}`], true);
  foreignClientCert = await otherCa.issue('intruder', [`URI:${clientId}`], true);
  otherIdentityCert = await ca.issue('someone-else', ['URI:spiffe://cluster.local/ns/default/sa/someone-else'], true);
  app = await startUpstream('app');

  server = new Harness({ drainTimeoutMs: 200 });
  await server.apply({
    secrets: [certificateSecret('default', serverCert, true), rootSecret('ROOTCA', [ca.caCert], true)],
    clusters: [staticCluster('app', [app.port])],
    listeners: [inboundListener({ sans: uriSans(clientId) })],
  });
  serverPort = server.port('inbound');

  client = new Harness({ drainTimeoutMs: 200 });
  const mtls = sdsUpstreamTls({ sans: uriSans(serverId), sni: 'outbound_.80_._.bar.foo.svc.cluster.local' });
  await client.apply({
    secrets: [certificateSecret('default', clientCert), rootSecret('ROOTCA', [ca.caCert])],
    clusters: [
      staticCluster('to-server', [serverPort], { transport_socket: mtls }),
      staticCluster('to-server-h2', [serverPort], { transport_socket: mtls, ...http2Options }),
      staticCluster('to-server-plain-validation', [serverPort], { transport_socket: sdsUpstreamTls({ plainValidation: true }) }),
      staticCluster('wrong-identity', [serverPort], { transport_socket: sdsUpstreamTls({ sans: uriSans('spiffe://cluster.local/ns/foo/sa/other') }) }),
      staticCluster('plaintext', [serverPort]),
    ],
    listeners: [httpListener('outbound', {
      routeConfig: routeConfig('outbound', [virtualHost('all', ['*'], [
        route({ prefix: '/h2' }, routeTo('to-server-h2')),
        route({ prefix: '/plain-validation' }, routeTo('to-server-plain-validation')),
        route({ prefix: '/wrong-identity' }, routeTo('wrong-identity')),
        route({ prefix: '/plaintext' }, routeTo('plaintext')),
        route({ prefix: '/' }, routeTo('to-server')),
      ])]),
    })],
  });
  clientPort = client.port('outbound');
});

after(async () => {
  await client?.close();
  await server?.close();
  await app?.close();
  await ca?.remove();
  await otherCa?.remove();
});

/** One request straight to the server proxy's TLS port, as another sidecar would send it. */
function directHttps(cert: TestCertificate | null, path = '/direct'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: serverPort, path, agent: false, ca: ca.caCert,
      ...(cert ? { cert: cert.cert, key: cert.key } : {}),
      // The server's identity is a SPIFFE URI, not a host name.
      checkServerIdentity: () => undefined,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('mTLS between two proxies with SDS secrets', () => {
  it('carries HTTP/1.1 from the client proxy to the server proxy with client certificates', async () => {
    const reply = await send(clientPort, '/reviews');
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).url, '/reviews');
  });

  it('carries HTTP/2 when the cluster speaks h2: the server chain negotiates it by ALPN', async () => {
    const reply = await send(clientPort, '/h2/ratings');
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).url, '/h2/ratings');
    assert.ok((await server.metric('envoy_http_downstream_cx_http2_total', { envoy_http_conn_manager_prefix: 'inbound' }) ?? 0) >= 1);
  });

  it('verifies with a plain validation_context_sds_secret_config (no combined context) too', async () => {
    const reply = await send(clientPort, '/plain-validation/x');
    assert.equal(reply.status, 200);
  });

  it('negotiates h2 with a sidecar that offers it (ALPN h2, http/1.1 on the chain)', async () => {
    const session = http2.connect(`https://127.0.0.1:${serverPort}`, {
      ca: ca.caCert, cert: clientCert.cert, key: clientCert.key, checkServerIdentity: () => undefined,
    });
    try {
      const stream = session.request({ ':path': '/direct-h2' });
      const [headers] = await once(stream, 'response') as [http2.IncomingHttpHeaders];
      stream.resume();
      await once(stream, 'end');
      assert.equal(headers[':status'], 200);
      assert.equal((session.socket as tls.TLSSocket).alpnProtocol, 'h2');
    } finally {
      session.close();
    }
  });

  it('refuses a client without a certificate, and a plaintext client', async () => {
    assert.equal(await directHttps(clientCert), 200, 'control: a mesh certificate is accepted');
    await assert.rejects(directHttps(null));
    await assert.rejects(send(serverPort, '/plaintext'));
    const reply = await send(clientPort, '/plaintext/x');
    assert.equal(reply.status, 503, 'a plaintext cluster to the mTLS port fails');
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    await assert.rejects(directHttps(foreignClientCert));
  });

  it('refuses a mesh client whose SPIFFE identity matches none of the chain\'s SAN matchers', async () => {
    await assert.rejects(directHttps(otherIdentityCert));
  });

  it('refuses a server whose SPIFFE identity is not the expected one: 503 connection failure', async () => {
    const reply = await send(clientPort, '/wrong-identity/x');
    assert.equal(reply.status, 503);
    assert.match(reply.body, /connection failure/);
    assert.ok((await client.metric('envoy_cluster_upstream_cx_connect_fail', { envoy_cluster_name: 'wrong-identity' }) ?? 0) >= 1);
  });
});

describe('secrets that have not arrived yet', () => {
  it('a cluster naming a missing secret is accepted; its requests fail with 503 until the secret arrives', async () => {
    const late = new Harness({ drainTimeoutMs: 200 });
    try {
      const mtls = sdsUpstreamTls({ sans: uriSans(serverId) });
      await late.apply({
        secrets: [rootSecret('ROOTCA', [ca.caCert])],
        clusters: [
          staticCluster('to-server', [serverPort], { transport_socket: mtls }),
          staticCluster('to-server-h2', [serverPort], { transport_socket: mtls, ...http2Options }),
        ],
        listeners: [
          httpListener('out', {
            routeConfig: routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/h2' }, routeTo('to-server-h2')), route({ prefix: '/' }, routeTo('to-server'))])]),
          }),
          tcpListener('tcp-out', 'to-server'),
        ],
      });
      for (const path of ['/early', '/h2/early']) {
        const before = await send(late.port('out'), path);
        assert.equal(before.status, 503, path);
        assert.match(before.body, /connection failure/);
      }
      await assert.rejects(send(late.port('tcp-out'), '/tcp-early'), 'tcp_proxy closes the connection');
      late.dataPlane.updateSecrets([rootSecret('ROOTCA', [ca.caCert]), certificateSecret('default', clientCert)]);
      assert.equal((await send(late.port('out'), '/late')).status, 200);
      assert.equal((await send(late.port('out'), '/h2/late')).status, 200);
      assert.equal((await send(late.port('tcp-out'), '/tcp-late')).status, 200);
    } finally {
      await late.close();
    }
  });

  it('a filter chain naming a missing secret is accepted; it refuses connections until the secret arrives', async () => {
    const late = new Harness({ drainTimeoutMs: 200 });
    try {
      await late.apply({ clusters: [staticCluster('app', [app.port])], listeners: [inboundListener()] });
      const port = late.port('inbound');
      const attempt = () => new Promise<number>((resolve, reject) => {
        const req = https.request({
          host: '127.0.0.1', port, path: '/', agent: false, ca: ca.caCert, cert: clientCert.cert, key: clientCert.key,
          checkServerIdentity: () => undefined,
        }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
        req.on('error', reject);
        req.end();
      });
      await assert.rejects(attempt());
      late.dataPlane.updateSecrets([certificateSecret('default', serverCert), rootSecret('ROOTCA', [ca.caCert])]);
      assert.equal(await attempt(), 200);
    } finally {
      await late.close();
    }
  });
});
