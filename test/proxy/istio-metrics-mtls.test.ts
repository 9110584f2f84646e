// On the server's sidecar, a request over mutual TLS is reported with connection_security_policy
// mutual_tls, the client certificate's SPIFFE identity as source_principal and the sidecar's own as
// destination_principal; a plaintext one with none and unknown principals.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { send } from './support/client.ts';
import { chainsListener, filterChain } from './support/listener-resources.ts';
import { httpConnectionManager, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { makeCertificateAuthority, type TestCertificate, type TestCertificateAuthority } from './support/tls-certs.ts';
import { downstreamTls } from './support/tls-contexts.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { matching, scrape, sidecar, sidecarNode } from './istio-metrics.support.ts';

const proxy = sidecar(sidecarNode('reviews-v1', 'reviews', 'v1'));
const clientIdentity = 'spiffe://cluster.local/ns/default/sa/productpage';
const serverIdentity = 'spiffe://cluster.local/ns/default/sa/reviews';
let app: Upstream;
let ca: TestCertificateAuthority;
let clientCert: TestCertificate;

before(async () => {
  app = await startUpstream('reviews');
  ca = await makeCertificateAuthority();
  const serverCert = await ca.issue('reviews', [`URI:${serverIdentity}`]);
  clientCert = await ca.issue('productpage', [`URI:${clientIdentity}`], true);
  const hcm = (name: string) => httpConnectionManager({
    statPrefix: name, routeConfig: routeConfig(name, [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('inbound|9080||'))])]),
  });
  const inbound = { traffic_direction: 'INBOUND' };
  await proxy.apply({
    clusters: [staticCluster('inbound|9080||', [app.port])],
    listeners: [
      chainsListener('mtls', [{
        ...filterChain(hcm('mtls')),
        transport_socket: downstreamTls({ cert: serverCert, ca: ca.caCert, alpn: ['http/1.1'], extra: { require_client_certificate: { value: true } } }),
      }], { extra: inbound }),
      chainsListener('plaintext', [filterChain(hcm('plaintext'))], { extra: inbound }),
    ],
  });
});

after(async () => {
  await proxy.close();
  await app?.close();
  await ca?.remove();
});

function mtlsGet(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: proxy.port('mtls'), path: '/', headers: { host: 'reviews.default.svc.cluster.local:9080' },
      ca: ca.caCert, cert: clientCert.cert, key: clientCert.key, agent: false, checkServerIdentity: () => undefined,
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('Istio standard metrics over mutual TLS', () => {
  it('names both principals and reports mutual_tls', async () => {
    assert.equal(await mtlsGet(), 200);
    assert.equal(await mtlsGet(), 200);
    const found = matching(await scrape(proxy), 'istio_requests_total', { reporter: 'destination', connection_security_policy: 'mutual_tls' });
    assert.equal(found.length, 1);
    assert.equal(found[0].value, 2);
    assert.equal(found[0].labels.source_principal, clientIdentity);
    assert.equal(found[0].labels.destination_principal, serverIdentity);
    assert.equal(found[0].labels.destination_service, 'reviews.default.svc.cluster.local');
  });

  it('reports plaintext requests with policy none and unknown principals', async () => {
    assert.equal((await send(proxy.port('plaintext'), '/', { host: 'reviews:9080' })).status, 200);
    const found = matching(await scrape(proxy), 'istio_requests_total', { reporter: 'destination', connection_security_policy: 'none' });
    assert.equal(found.length, 1);
    assert.equal(found[0].labels.source_principal, 'unknown');
    assert.equal(found[0].labels.destination_principal, 'unknown');
  });
});
