// Failures answered as Envoy answers them: status, body and (through stats) the response flag.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { closedPort, startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

const harness = new Harness();
const up: Record<string, Upstream> = {};
/** Responses the `held` upstream keeps until a test releases them. */
let held: http.ServerResponse[] = [];
let port = 0;

function releaseHeld(): void {
  for (const res of held) res.end('released');
  held = [];
}

const resetBefore = 'upstream connect error or disconnect/reset before headers. reset reason: ';

before(async () => {
  up.ok = await startUpstream('ok');
  up.held = await startUpstream('held', (req, res) => { req.resume(); held.push(res); });
  up.resetAfterHeaders = await startUpstream('reset-after', (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-length': '1000' });
    res.write('partial', () => res.socket?.destroy());
  });
  up.resetBeforeHeaders = await startUpstream('reset-before', (req) => { req.socket.destroy(); });
  const refused = await closedPort();
  await harness.apply({
    clusters: [
      edsCluster('ok'), edsCluster('no-endpoints'), edsCluster('unhealthy'), edsCluster('refused'), edsCluster('held'),
      edsCluster('reset-after'), edsCluster('reset-before'),
      edsCluster('one-request', { circuit_breakers: { thresholds: [{ max_requests: { value: 1 } }] } }),
      edsCluster('one-connection', { circuit_breakers: { thresholds: [{ max_connections: { value: 1 }, max_pending_requests: { value: 1 } }] } }),
    ],
    endpoints: [
      assignment('ok', [up.ok.port]),
      assignment('unhealthy', [{ port: up.ok.port, health: 'UNHEALTHY' }]),
      assignment('refused', [refused]),
      assignment('held', [up.held.port]),
      assignment('reset-after', [up.resetAfterHeaders.port]),
      assignment('reset-before', [up.resetBeforeHeaders.port]),
      assignment('one-request', [up.held.port]),
      assignment('one-connection', [up.held.port]),
    ],
    listeners: [httpListener('outbound', { rds: 'routes', statPrefix: 'outbound' }), httpListener('waiting', { rds: 'not-yet' })],
    routes: [routeConfig('routes', [virtualHost('all', ['*'], [
      route({ prefix: '/ok' }, routeTo('ok')),
      route({ prefix: '/ghost' }, routeTo('no-such-cluster')),
      route({ prefix: '/missing-404' }, routeTo('no-such-cluster', { cluster_not_found_response_code: 'NOT_FOUND' })),
      route({ prefix: '/no-endpoints' }, routeTo('no-endpoints')),
      route({ prefix: '/unhealthy' }, routeTo('unhealthy')),
      route({ prefix: '/refused' }, routeTo('refused')),
      route({ prefix: '/timeout' }, routeTo('held', { timeout: { nanos: 200_000_000 } })),
      route({ prefix: '/reset-after' }, routeTo('reset-after')),
      route({ prefix: '/reset-before' }, routeTo('reset-before')),
      route({ prefix: '/one-request' }, routeTo('one-request')),
      route({ prefix: '/one-connection' }, routeTo('one-connection')),
    ])])],
  });
  port = harness.port('outbound');
});

after(async () => {
  releaseHeld();
  await harness.close();
  for (const u of Object.values(up)) await u.close();
});

describe('local replies', () => {
  it('answers 404 with an empty body when no route matches (NR)', async () => {
    const reply = await send(port, '/nowhere');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '');
    assert.equal(await harness.metric('envoy_http_no_route', { envoy_http_conn_manager_prefix: 'outbound' }), 1);
  });

  it('answers 404 on a listener whose RDS route configuration has not arrived yet', async () => {
    assert.equal((await send(harness.port('waiting'), '/ok')).status, 404);
  });

  it('answers 503 with an empty body when the route names an unknown cluster (NC), or its cluster_not_found_response_code', async () => {
    const reply = await send(port, '/ghost');
    assert.equal(reply.status, 503);
    assert.equal(reply.body, '');
    assert.equal((await send(port, '/missing-404')).status, 404);
  });

  it('answers 503 "no healthy upstream" without endpoints or with only unhealthy ones (UH)', async () => {
    for (const path of ['/no-endpoints', '/unhealthy']) {
      const reply = await send(port, path);
      assert.equal(reply.status, 503);
      assert.equal(reply.body, 'no healthy upstream');
      assert.equal(reply.headers['content-type'], 'text/plain');
    }
  });

  it('answers 503 "connection failure" when the endpoint refuses the connection (UF)', async () => {
    const reply = await send(port, '/refused');
    assert.equal(reply.status, 503);
    assert.equal(reply.body, `${resetBefore}connection failure`);
    assert.equal(await harness.metric('envoy_cluster_upstream_cx_connect_fail', { envoy_cluster_name: 'refused' }), 1);
  });

  it('answers 503 "connection termination" when the upstream closes before the response headers (UC)', async () => {
    const reply = await send(port, '/reset-before');
    assert.equal(reply.status, 503);
    assert.equal(reply.body, `${resetBefore}connection termination`);
  });

  it('answers 504 "upstream request timeout" when the route timeout fires before the response (UT)', async () => {
    const reply = await send(port, '/timeout');
    assert.equal(reply.status, 504);
    assert.equal(reply.body, 'upstream request timeout');
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_timeout', { envoy_cluster_name: 'held' }), 1);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq', { envoy_cluster_name: 'held', envoy_response_code: '504' }), 1);
    releaseHeld();
  });

  it('aborts the downstream response when the upstream resets after the headers (UR)', async () => {
    await assert.rejects(send(port, '/reset-after'), (err: NodeJS.ErrnoException) => ['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err.code ?? '') || /aborted|hang up/.test(err.message));
  });
});

describe('circuit breakers', () => {
  it('answers 503 overflow beyond max_requests (UO)', async () => {
    const first = send(port, '/one-request/1');
    await waitFor('the first request to reach the upstream', () => held.length, (n) => n === 1);
    const second = await send(port, '/one-request/2');
    assert.equal(second.status, 503);
    assert.equal(second.body, `${resetBefore}overflow`);
    releaseHeld();
    assert.equal((await first).status, 200);
    assert.equal(await harness.metric('envoy_cluster_upstream_rq_pending_overflow', { envoy_cluster_name: 'one-request' }), 1);
  });

  it('queues up to max_pending_requests behind max_connections, then overflows', async () => {
    const first = send(port, '/one-connection/1');
    await waitFor('the first request to reach the upstream', () => held.length, (n) => n === 1);
    const queued = send(port, '/one-connection/2');
    await waitFor('the second request to be pending', () => harness.metric('envoy_cluster_upstream_rq_pending_active', { envoy_cluster_name: 'one-connection' }), (n) => n === 1);
    const third = await send(port, '/one-connection/3');
    assert.equal(third.status, 503);
    assert.equal(third.body, `${resetBefore}overflow`);
    releaseHeld();
    assert.equal((await first).status, 200);
    await waitFor('the queued request to reach the upstream on the same connection', () => held.length, (n) => n === 1);
    releaseHeld();
    assert.equal((await queued).status, 200);
    assert.equal(await harness.metric('envoy_cluster_upstream_cx_total', { envoy_cluster_name: 'one-connection' }), 1);
  });
});
