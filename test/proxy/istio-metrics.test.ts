// Istio's standard HTTP metrics through two real sidecars back to back (the client's productpage
// sidecar → the server's reviews sidecar → the app): both reporters count the requests with Istio's
// labels, each naming the other end thanks to the peer metadata exchange, whose headers never reach
// the app or the client; histograms have Istio's buckets; a request with no healthy endpoint is a
// 503 with UH.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { send, sendMany } from './support/client.ts';
import {
  edsCluster, httpConnectionManager, lbEndpoint, listener, route, routeConfig, routeTo, routerFilter, virtualHost,
} from './support/resources.ts';
import { startUpstream, type Seen, type Upstream } from './support/upstream.ts';
import {
  assignmentOf, istioLabelNames, matching, scrape, sidecar, sidecarNode, total, workloadEndpoint,
} from './istio-metrics.support.ts';
import type { Harness } from './support/harness.ts';

const reviewsService = 'outbound|9080||reviews.default.svc.cluster.local';
const client = sidecar(sidecarNode('productpage-v1', 'productpage', 'v1'));
const server = sidecar(sidecarNode('reviews-v1', 'reviews', 'v1'));
const gateway = sidecar(sidecarNode('istio-ingressgateway', 'istio-ingressgateway', 'unknown', 'istio-system'));
let app: Upstream;
let clientPort = 0;

const everything = (cluster: string) => routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])]);

before(async () => {
  app = await startUpstream('reviews');
  await server.apply({
    clusters: [edsCluster('inbound|9080||')],
    endpoints: [assignmentOf('inbound|9080||', [workloadEndpoint(app.port, 'ignored;x;x;x;x')])],
    listeners: [listener('virtualInbound', httpConnectionManager({ statPrefix: 'inbound_0.0.0.0_9080', routeConfig: everything('inbound|9080||') }),
      { extra: { traffic_direction: 'INBOUND' } })],
  });
  await client.apply({
    clusters: [edsCluster(reviewsService), edsCluster('outbound|9080||ratings.default.svc.cluster.local')],
    endpoints: [
      assignmentOf(reviewsService, [workloadEndpoint(server.port(), 'reviews-v1;default;reviews;v1;Kubernetes')]),
      assignmentOf('outbound|9080||ratings.default.svc.cluster.local', []),
    ],
    listeners: [listener('0.0.0.0_9080', httpConnectionManager({
      statPrefix: 'outbound_0.0.0.0_9080',
      routeConfig: routeConfig('9080', [
        virtualHost('ratings', ['ratings', 'ratings:9080'], [route({ prefix: '/' }, routeTo('outbound|9080||ratings.default.svc.cluster.local'))]),
        virtualHost('reviews', ['*'], [route({ prefix: '/' }, routeTo(reviewsService), 'default')]),
      ]),
      httpFilters: [routerFilter],
    }))],
  });
  clientPort = client.port();
  // A gateway's listeners have no traffic_direction. Its endpoint has no istio.workload metadata: it
  // learns who answered from the response's peer metadata only.
  await gateway.apply({
    clusters: [edsCluster(reviewsService)],
    endpoints: [assignmentOf(reviewsService, [lbEndpoint(server.port())])],
    listeners: [listener('0.0.0.0_8080', httpConnectionManager({ statPrefix: 'outbound_0.0.0.0_8080', routeConfig: everything(reviewsService) }),
      { extra: { traffic_direction: undefined } })],
  });
});

after(async () => {
  await client.close();
  await gateway.close();
  await server.close();
  await app?.close();
});

/** The one istio_requests_total sample of a proxy for these labels. */
async function requests(proxy: Harness, labels: Record<string, string>) {
  const found = matching(await scrape(proxy), 'istio_requests_total', labels);
  assert.equal(found.length, 1, `one istio_requests_total series for ${JSON.stringify(labels)}, got ${JSON.stringify(found)}`);
  return found[0];
}

describe('Istio standard HTTP metrics', () => {
  it('counts requests on both sidecars, each naming both ends, and keeps the peer headers from the app and the client', async () => {
    const replies = await sendMany(5, clientPort, '/reviews/1', { host: 'reviews:9080' });
    for (const reply of replies) {
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-envoy-peer-metadata'], undefined, 'the client sees no peer metadata');
      assert.equal(reply.headers['x-envoy-peer-metadata-id'], undefined);
      const seen = JSON.parse(reply.body) as Seen;
      assert.equal(seen.headers['x-envoy-peer-metadata'], undefined, 'the app sees no peer metadata');
      assert.equal(seen.headers['x-envoy-peer-metadata-id'], undefined);
    }

    const source = await requests(client, { reporter: 'source', destination_service_name: 'reviews' });
    assert.equal(source.value, 5);
    assert.deepEqual(Object.keys(source.labels).sort(), [...istioLabelNames].sort());
    assert.deepEqual(source.labels, {
      reporter: 'source',
      source_workload: 'productpage-v1', source_workload_namespace: 'default', source_principal: 'unknown',
      source_app: 'productpage', source_version: 'v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v1', destination_workload_namespace: 'default', destination_principal: 'unknown',
      destination_app: 'reviews', destination_version: 'v1',
      destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'default',
      destination_canonical_service: 'reviews', destination_canonical_revision: 'v1', destination_cluster: 'Kubernetes',
      request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-', connection_security_policy: 'unknown',
    });

    const destination = await requests(server, { reporter: 'destination' });
    assert.equal(destination.value, 5);
    assert.deepEqual(destination.labels, {
      reporter: 'destination',
      source_workload: 'productpage-v1', source_workload_namespace: 'default', source_principal: 'unknown',
      source_app: 'productpage', source_version: 'v1', source_canonical_service: 'productpage', source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      destination_workload: 'reviews-v1', destination_workload_namespace: 'default', destination_principal: 'unknown',
      destination_app: 'reviews', destination_version: 'v1',
      destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews', destination_service_namespace: 'default',
      destination_canonical_service: 'reviews', destination_canonical_revision: 'v1', destination_cluster: 'Kubernetes',
      request_protocol: 'http', response_code: '200', grpc_response_status: '', response_flags: '-', connection_security_policy: 'none',
    });
  });

  it('records durations and sizes in histograms with Istio buckets', async () => {
    const body = 'x'.repeat(3000);
    const before = await scrape(server);
    const n = 3;
    for (let i = 0; i < n; i++) {
      const reply = await send(clientPort, '/upload', { method: 'POST', host: 'reviews:9080', body });
      assert.equal(reply.status, 200);
    }
    const after = await scrape(server);
    const delta = (name: string) => total(after, name, { reporter: 'destination' }) - total(before, name, { reporter: 'destination' });
    assert.equal(delta('istio_request_duration_milliseconds_count'), n);
    const buckets = matching(after, 'istio_request_duration_milliseconds_bucket', { reporter: 'destination' }).map((s) => s.labels.le);
    assert.deepEqual(buckets, [
      '0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000',
      '600000', '1800000', '3600000', '+Inf',
    ]);
    const sizeBuckets = matching(after, 'istio_request_bytes_bucket', { reporter: 'destination' }).map((s) => s.labels.le);
    assert.deepEqual(sizeBuckets, ['1', '10', '100', '1000', '10000', '100000', '1000000', '10000000', '100000000', '1000000000', '+Inf']);
    // Each request carried 3000 body bytes plus its headers: between 1000 and 10000 bytes.
    const inBucket = (le: string) => total(after, 'istio_request_bytes_bucket', { reporter: 'destination', le })
      - total(before, 'istio_request_bytes_bucket', { reporter: 'destination', le });
    assert.equal(inBucket('1000'), 0);
    assert.equal(inBucket('10000'), n);
    assert.ok(delta('istio_request_bytes_sum') >= n * body.length);
    assert.equal(delta('istio_response_bytes_count'), n);
    assert.ok(delta('istio_response_bytes_sum') > 0);
    // The client's side saw the same sizes.
    const clientSide = await scrape(client);
    assert.ok(total(clientSide, 'istio_request_bytes_sum', { reporter: 'source' }) >= n * body.length);
  });

  it('reports a request with no healthy endpoint as 503 UH, naming the service from the cluster', async () => {
    const reply = await send(clientPort, '/', { host: 'ratings:9080' });
    assert.equal(reply.status, 503);
    const sample = await requests(client, { reporter: 'source', destination_service_name: 'ratings' });
    assert.equal(sample.value, 1);
    assert.equal(sample.labels.response_code, '503');
    assert.equal(sample.labels.response_flags, 'UH');
    assert.equal(sample.labels.destination_service, 'ratings.default.svc.cluster.local');
    assert.equal(sample.labels.destination_service_namespace, 'default');
    assert.equal(sample.labels.destination_workload, 'unknown');
  });

  it('ignores peer metadata the app sends and puts its own on the response', async () => {
    const spoofed = Buffer.from(JSON.stringify({ WORKLOAD_NAME: 'evil', NAMESPACE: 'evil' })).toString('base64');
    const reply = await send(clientPort, '/', { host: 'reviews:9080', headers: { 'x-envoy-peer-metadata': spoofed, 'x-envoy-peer-metadata-id': 'evil' } });
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.body) as Seen;
    assert.equal(seen.headers['x-envoy-peer-metadata'], undefined);
    const samples = await scrape(server);
    assert.equal(matching(samples, 'istio_requests_total', { source_workload: 'evil' }).length, 0, 'the client app cannot speak for its sidecar');
  });

  it('reports a gateway as the source, naming the destination from the response, and the server names the gateway', async () => {
    const reply = await send(gateway.port(), '/', { host: 'reviews.example.com' });
    assert.equal(reply.status, 200);
    const atGateway = await requests(gateway, { reporter: 'source' });
    assert.equal(atGateway.value, 1);
    assert.equal(atGateway.labels.source_workload, 'istio-ingressgateway');
    assert.equal(atGateway.labels.source_workload_namespace, 'istio-system');
    assert.equal(atGateway.labels.destination_workload, 'reviews-v1');
    const atServer = await requests(server, { reporter: 'destination', source_workload: 'istio-ingressgateway' });
    assert.equal(atServer.value, 1);
    assert.equal(atServer.labels.source_workload_namespace, 'istio-system');
  });
});
