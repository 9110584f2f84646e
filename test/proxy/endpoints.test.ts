// Endpoints: round robin (plain and weighted) over healthy endpoints, random, and endpoint updates
// that keep in-flight requests and pooled connections to endpoints that remain.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send, sendMany, upstreamsOf } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { gate, waitFor } from './support/wait.ts';

const harness = new Harness();
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const slow = gate();
const up: Record<string, Upstream> = {};
let port = 0;

function routes() {
  const r = (prefix: string, cluster: string) => route({ prefix }, routeTo(cluster));
  return [routeConfig('routes', [virtualHost('all', ['*'], [
    r('/rr', 'rr'), r('/weighted', 'weighted'), r('/health', 'health'), r('/degraded', 'degraded'), r('/random', 'random'),
    r('/static', 'static'), r('/update', 'update'),
  ])])];
}

before(async () => {
  for (const n of ['e1', 'e2', 'e3']) up[n] = await startUpstream(n);
  up.held = await startUpstream('held', (req, res) => {
    req.resume();
    const reply = () => res.end(JSON.stringify({ upstream: 'held' }));
    if (req.url === '/update/slow') void slow.promise.then(reply);
    else reply();
  });
  await harness.apply({
    clusters: [
      edsCluster('rr'), edsCluster('weighted'), edsCluster('health'), edsCluster('degraded'),
      edsCluster('random', { lb_policy: 'RANDOM' }), staticCluster('static', [up.e2.port]),
      edsCluster('update', { eds_cluster_config: { eds_config: { ads: {} }, service_name: 'update-service' } }),
    ],
    endpoints: [
      assignment('rr', [up.e1.port, up.e2.port, up.e3.port]),
      assignment('weighted', [{ port: up.e1.port, weight: 3 }, { port: up.e2.port, weight: 1 }]),
      assignment('health', [
        { port: up.e1.port, health: 'HEALTHY' }, { port: up.e2.port, health: 'UNHEALTHY' },
        { port: up.e3.port, health: 'DRAINING' }, { port: up.held.port, health: 'TIMEOUT' },
      ]),
      assignment('degraded', [{ port: up.e1.port, health: 'DEGRADED' }, { port: up.e2.port, health: 'UNHEALTHY' }]),
      assignment('random', [up.e1.port, up.e2.port]),
      assignment('update-service', [up.held.port]),
    ],
    listeners: [httpListener('outbound', { rds: 'routes' })],
    routes: routes(),
  });
  port = harness.port();
});

after(async () => {
  slow.open();
  agent.destroy();
  await harness.close();
  for (const u of Object.values(up)) await u.close();
});

describe('load balancing', () => {
  it('round-robins evenly across endpoints', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(30, port, '/rr', { agent })), { e1: 10, e2: 10, e3: 10 });
  });

  it('round-robins in proportion to endpoint weights', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(40, port, '/weighted', { agent })), { e1: 30, e2: 10 });
  });

  it('skips UNHEALTHY, DRAINING and TIMEOUT endpoints', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(12, port, '/health', { agent })), { e1: 12 });
  });

  it('uses DEGRADED endpoints when no healthy one is left', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(5, port, '/degraded', { agent })), { e1: 5 });
  });

  it('spreads RANDOM picks over every endpoint', async () => {
    const counts = upstreamsOf(await sendMany(200, port, '/random', { agent }));
    assert.ok(counts.e1 > 40 && counts.e2 > 40, JSON.stringify(counts));
  });

  it('serves a STATIC cluster from its inline load_assignment', async () => {
    assert.deepEqual(upstreamsOf(await sendMany(3, port, '/static', { agent })), { e2: 3 });
  });
});

describe('endpoint updates', () => {
  it('keep in-flight requests and pooled connections to endpoints that remain, and close those of removed ones', async () => {
    const held = up.held;
    // Hold a request in flight on one connection, and leave another idle in the pool.
    const inFlight = send(port, '/update/slow');
    await waitFor('the slow request to reach the upstream', () => held.count, (n) => n === 1);
    await send(port, '/update/warm');
    const connectionsBefore = held.connections;
    assert.equal(connectionsBefore, 2);

    // The endpoint stays (a second one is added): the in-flight request and the pool survive.
    harness.dataPlane.updateEndpoints([assignment('update-service', [held.port, up.e3.port])]);
    const after = upstreamsOf(await sendMany(4, port, '/update/x', { agent }));
    assert.deepEqual(after, { held: 2, e3: 2 });
    assert.equal(held.connections, connectionsBefore, 'no new connection to the endpoint that remained');

    // The endpoint leaves: its idle connections close, the in-flight request still completes.
    harness.dataPlane.updateEndpoints([assignment('update-service', [up.e3.port])]);
    assert.deepEqual(upstreamsOf(await sendMany(2, port, '/update/y', { agent })), { e3: 2 });
    await waitFor('idle connections to the removed endpoint to close', () => held.openConnections.size, (n) => n === 1);
    slow.open();
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.body).upstream, 'held');
    await waitFor('the last connection to the removed endpoint to close', () => held.openConnections.size, (n) => n === 0);
  });

  it('keep at most maxIdleConnectionsPerEndpoint idle connections, closing the oldest', async () => {
    const responses: import('node:http').ServerResponse[] = [];
    const burst = await startUpstream('burst', (req, res) => { req.resume(); responses.push(res); });
    const small = new Harness({ maxIdleConnectionsPerEndpoint: 2 });
    try {
      await small.apply({
        clusters: [edsCluster('burst')],
        endpoints: [assignment('burst', [burst.port])],
        listeners: [httpListener('l', { rds: 'r' })],
        routes: [routeConfig('r', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo('burst'))])])],
      });
      const replies = Array.from({ length: 5 }, () => send(small.port(), '/'));
      await waitFor('5 concurrent requests on 5 connections', () => burst.openConnections.size, (n) => n === 5);
      await waitFor('all 5 requests to arrive', () => responses.length, (n) => n === 5);
      for (const res of responses) res.end('ok');
      for (const reply of await Promise.all(replies)) assert.equal(reply.status, 200);
      await waitFor('idle connections beyond the bound to close', () => burst.openConnections.size, (n) => n === 2);
    } finally {
      await small.close();
      await burst.close();
    }
  });
});
