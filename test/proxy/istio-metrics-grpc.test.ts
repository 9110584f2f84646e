// gRPC calls through a sidecar are reported with request_protocol grpc and their grpc-status as
// grpc_response_status (HTTP 200 either way), as Istio reports them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { echoClient, startEchoServer, unary, type EchoClient, type EchoServer } from './support/grpc-echo.ts';
import { http2Cluster } from './support/http2.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { matching, scrape, sidecar, sidecarNode } from './istio-metrics.support.ts';

const cluster = 'outbound|7070||echo.default.svc.cluster.local';
const proxy = sidecar(sidecarNode('frontend-v1', 'frontend', 'v1'));
let server: EchoServer;
let client: EchoClient;

before(async () => {
  server = await startEchoServer();
  await proxy.apply({
    clusters: [staticCluster(cluster, [server.port], http2Cluster())],
    listeners: [httpListener('0.0.0.0_7070', {
      routeConfig: routeConfig('7070', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster, { timeout: { seconds: '0' } }))])]),
    })],
  });
  client = echoClient(proxy.port());
});

after(async () => {
  client?.close();
  await proxy.close();
  await server?.close();
});

describe('Istio standard metrics of gRPC calls', () => {
  it('labels calls with request_protocol grpc and their grpc status', async () => {
    for (let i = 0; i < 2; i++) {
      const ok = await unary((cb) => client.unary({ text: 'hi' }, new grpc.Metadata(), {}, cb));
      assert.equal(ok.error, null);
    }
    const failed = await unary((cb) => client.fail({}, new grpc.Metadata(), {}, cb));
    assert.equal(failed.error?.code, 5);

    const samples = await scrape(proxy);
    const ok = matching(samples, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '0' });
    assert.equal(ok.length, 1);
    assert.equal(ok[0].value, 2);
    assert.equal(ok[0].labels.response_code, '200');
    assert.equal(ok[0].labels.destination_service_name, 'echo');
    const notFound = matching(samples, 'istio_requests_total', { request_protocol: 'grpc', grpc_response_status: '5' });
    assert.equal(notFound.length, 1);
    assert.equal(notFound[0].value, 1);
  });
});
