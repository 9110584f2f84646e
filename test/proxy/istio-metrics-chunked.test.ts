// istio_request_bytes for a request body without content-length (chunked HTTP/1.1): on a route with a
// retry policy (Istio's default), the body is counted as it goes by, so its size is in the metric.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { edsCluster, httpConnectionManager, listener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { assignmentOf, scrape, sidecar, sidecarNode, total, workloadEndpoint } from './istio-metrics.support.ts';

const server = sidecar(sidecarNode('reviews-v1', 'reviews', 'v1'));
let app: Upstream;

before(async () => {
  // The application reads the whole body before it answers.
  app = await startUpstream('reviews', (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => { n += c.length; });
    req.on('end', () => res.end(String(n)));
  });
  await server.apply({
    clusters: [edsCluster('inbound|9080||')],
    endpoints: [assignmentOf('inbound|9080||', [workloadEndpoint(app.port, 'x;x;x;x;x')])],
    listeners: [listener('virtualInbound', httpConnectionManager({
      statPrefix: 'inbound_0.0.0.0_9080',
      routeConfig: routeConfig('inbound', [virtualHost('all', ['*'], [
        route({ prefix: '/' }, routeTo('inbound|9080||', { retry_policy: { retry_on: 'connect-failure', num_retries: 2 } })),
      ])]),
    }), { extra: { traffic_direction: 'INBOUND' } })],
  });
});

after(async () => {
  await server.close();
  await app?.close();
});

it('counts a chunked request body in istio_request_bytes', async () => {
  const body = 'y'.repeat(5000);
  const status = await new Promise<number>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port(), method: 'POST', path: '/upload', headers: { host: 'reviews' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.write(body.slice(0, 2000));
    setTimeout(() => req.end(body.slice(2000)), 20);
  });
  assert.equal(status, 200);
  const samples = await scrape(server);
  assert.equal(total(samples, 'istio_request_bytes_count', { reporter: 'destination' }), 1);
  const sum = total(samples, 'istio_request_bytes_sum', { reporter: 'destination' });
  assert.ok(sum >= body.length, `the chunked body is counted: ${sum}`);
});
