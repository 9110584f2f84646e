// Per-endpoint transport sockets (Cluster.transport_socket_matches), as Istio's auto mTLS uses them:
// in one cluster, endpoints labelled tlsMode=istio (LbEndpoint metadata under
// envoy.transport_socket_match) get mTLS with the SDS certificate, the others plaintext. The first
// match whose fields all equal the endpoint's metadata wins; with none, the cluster's transport_socket.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import { once } from 'node:events';
import { Harness } from './support/harness.ts';
import { sendMany, upstreamsOf } from './support/client.ts';
import { edsCluster, httpListener, lbEndpoint, route, routeConfig, routeTo, tcpListener, virtualHost } from './support/resources.ts';
import {
  certificateSecret, istioEndpointMetadata, istioTransportSocketMatches, rootSecret, sdsUpstreamTls, sdsUpstreamTlsContext, uriSans,
} from './support/sds-resources.ts';
import { makeCertificateAuthority, type TestCertificateAuthority } from './support/tls-certs.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';

const serverId = 'spiffe://cluster.local/ns/foo/sa/bar';

let ca: TestCertificateAuthority;
let plain: Upstream;
let mtlsServer: https.Server;
let mtlsPort: number;
let harness: Harness;
let port: number;

type Obj = Record<string, unknown>;
const raw = { name: 'envoy.transport_sockets.raw_buffer', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer' } };

function endpoints(cluster: string, list: { port: number; metadata?: Obj }[]): Obj {
  return {
    cluster_name: cluster,
    endpoints: [{ lb_endpoints: list.map((e) => ({ ...lbEndpoint(e.port), ...(e.metadata ? { metadata: e.metadata } : {}) })) }],
  };
}

before(async () => {
  ca = await makeCertificateAuthority();
  const backend = await ca.issue('backend', [`URI:${serverId}`], true);
  const proxyCert = await ca.issue('proxy', ['URI:spiffe://cluster.local/ns/default/sa/proxy'], true);
  plain = await startUpstream('plain');
  // A sidecar's inbound port: mTLS only, a client certificate of the mesh required.
  mtlsServer = https.createServer({ cert: backend.cert, key: backend.key, ca: ca.caCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    const body = JSON.stringify({ upstream: 'mtls', client: (req.socket as tls.TLSSocket).getPeerCertificate().subject.CN });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  mtlsServer.on('tlsClientError', () => {});
  mtlsServer.listen(0, '127.0.0.1');
  await once(mtlsServer, 'listening');
  mtlsPort = (mtlsServer.address() as net.AddressInfo).port;

  const istio = istioTransportSocketMatches(sdsUpstreamTlsContext({ sans: uriSans(serverId) }));
  const clusters = [
    edsCluster('auto', { transport_socket_matches: istio }),
    // As protobufjs decodes a Struct from the wire.
    edsCluster('auto-wire', {
      transport_socket_matches: istio.map((m) => ({
        ...m, match: { fields: Object.fromEntries(Object.entries(m.match as Obj).map(([k, v]) => [k, { stringValue: v }])) },
      })),
    }),
    // Only the TLS match: endpoints without the label fall back to the cluster's (absent) transport socket.
    edsCluster('istio-only', { transport_socket_matches: [istio[0]] }),
    // The cluster's transport socket is TLS; legacy endpoints are matched to plaintext.
    edsCluster('legacy', {
      transport_socket: sdsUpstreamTls({ sans: uriSans(serverId) }),
      transport_socket_matches: [{ name: 'legacy-plaintext', match: { legacy: 'true' }, transport_socket: raw }],
    }),
  ];
  harness = new Harness({ drainTimeoutMs: 200 });
  await harness.apply({
    secrets: [certificateSecret('default', proxyCert), rootSecret('ROOTCA', [ca.caCert])],
    clusters,
    endpoints: [
      endpoints('auto', [{ port: mtlsPort, metadata: istioEndpointMetadata }, { port: plain.port }]),
      endpoints('auto-wire', [
        { port: mtlsPort, metadata: { filter_metadata: { 'envoy.transport_socket_match': { fields: { tlsMode: { stringValue: 'istio' } } } } } },
        { port: plain.port, metadata: { filter_metadata: { 'envoy.transport_socket_match': { fields: { tlsMode: { stringValue: 'disabled' } } } } } },
      ]),
      endpoints('istio-only', [{ port: mtlsPort, metadata: istioEndpointMetadata }, { port: plain.port }]),
      endpoints('legacy', [{ port: mtlsPort }, { port: plain.port, metadata: { filter_metadata: { 'envoy.transport_socket_match': { legacy: 'true' } } } }]),
    ],
    listeners: [
      httpListener('out', {
        routeConfig: routeConfig('r', [virtualHost('all', ['*'], ['auto', 'auto-wire', 'istio-only', 'legacy'].map((c) => route({ prefix: `/${c}/` }, routeTo(c))))]),
      }),
      tcpListener('tcp-out', 'auto'),
    ],
  });
  port = harness.port('out');
});

after(async () => {
  await harness?.close();
  mtlsServer?.closeAllConnections();
  mtlsServer?.close();
  await plain?.close();
  await ca?.remove();
});

describe('transport_socket_matches', () => {
  it('Istio auto mTLS: TLS with the SDS certificate to tlsMode=istio endpoints, plaintext to the others of the same cluster', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(10, port, '/auto/x')), { mtls: 5, plain: 5 });
  });

  it('reads match and endpoint metadata in the Struct shape the xDS decoder gives', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(10, port, '/auto-wire/x')), { mtls: 5, plain: 5 });
  });

  it('an endpoint no match selects takes the cluster\'s transport socket (plaintext when it has none)', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(10, port, '/istio-only/x')), { mtls: 5, plain: 5 });
  });

  it('a match can turn TLS off for some endpoints of a TLS cluster', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(10, port, '/legacy/x')), { mtls: 5, plain: 5 });
  });

  it('tcp_proxy picks the transport socket per endpoint too', async () => {
    // Each request is a new downstream connection, so a new upstream connection, round robin.
    assert.deepEqual(upstreamsOf(await sendMany(4, harness.port('tcp-out'), '/tcp')), { mtls: 2, plain: 2 });
  });

  it('an endpoint update that changes the label changes the transport socket of its new connections', async () => {
    // The mTLS endpoint loses its label: plaintext to a TLS-only port fails.
    harness.dataPlane.updateEndpoints([
      endpoints('auto', [{ port: mtlsPort }, { port: plain.port }]),
      endpoints('auto-wire', [{ port: plain.port }]),
      endpoints('istio-only', [{ port: plain.port }]),
      endpoints('legacy', [{ port: plain.port }]),
    ]);
    const counts = upstreamsOf(await sendMany(10, port, '/auto/x'));
    assert.equal(counts.plain, 5);
    assert.equal(counts.mtls, undefined);
    assert.equal(counts['status 503'], 5);
  });
});
