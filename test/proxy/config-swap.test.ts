// Config swaps are atomic and leave in-flight requests alone: a request finishes on the config it
// started with, new requests see the new config.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { send, sendMany, upstreamsOf } from './support/client.ts';
import { Harness } from './support/harness.ts';
import { assignment, edsCluster, httpListener, route, routeConfig, routeTo, virtualHost } from './support/resources.ts';
import { startUpstream, type Upstream } from './support/upstream.ts';
import { waitFor } from './support/wait.ts';

const harness = new Harness();
const up: Record<string, Upstream> = {};
const held: http.ServerResponse[] = [];
let port = 0;

/** An upstream that holds `/slow` requests until released and answers the rest at once. */
function holding(name: string): Promise<Upstream> {
  return startUpstream(name, (req, res) => {
    req.resume();
    const body = JSON.stringify({ upstream: name });
    if (req.url?.startsWith('/slow')) held.push(Object.assign(res, { weftBody: body }));
    else res.end(body);
  });
}

function release(): void {
  for (const res of held.splice(0)) res.end((res as unknown as { weftBody: string }).weftBody);
}

const routesTo = (cluster: string) => [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])])];

before(async () => {
  up.old = await holding('old');
  up.new = await holding('new');
  port = 0;
});

after(async () => {
  release();
  await harness.close();
  for (const u of Object.values(up)) await u.close();
});

describe('config swaps', () => {
  it('finish an in-flight request on the old cluster while new requests go to the new one', async () => {
    await harness.apply({
      clusters: [edsCluster('old')],
      endpoints: [assignment('old', [up.old.port])],
      listeners: [httpListener('outbound', { rds: 'routes' })],
      routes: routesTo('old'),
    });
    port = harness.port();
    const inFlight = send(port, '/slow');
    await waitFor('the slow request to reach the old upstream', () => held.length, (n) => n === 1);

    // Make-before-break as ADS pushes it: new cluster, its endpoints, the route, then the old cluster goes.
    harness.dataPlane.updateClusters([edsCluster('old'), edsCluster('new')]);
    harness.dataPlane.updateEndpoints([assignment('old', [up.old.port]), assignment('new', [up.new.port])]);
    harness.dataPlane.updateRoutes(routesTo('new'));
    harness.dataPlane.updateClusters([edsCluster('new')]);
    harness.dataPlane.updateEndpoints([assignment('new', [up.new.port])]);

    assert.deepEqual(upstreamsOf(await sendMany(3, port, '/fast')), { new: 3 });
    release();
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), { upstream: 'old' });
    await waitFor('the removed cluster to close its connection', () => up.old.openConnections.size, (n) => n === 0);
  });

  it('keep in-flight requests of a changed cluster on their connection and open new ones for new requests', async () => {
    const before = up.new.connections;
    const inFlight = send(port, '/slow');
    await waitFor('the slow request to reach the upstream', () => held.length, (n) => n === 1);
    // A new connect_timeout means new connection pools.
    harness.dataPlane.updateClusters([edsCluster('new', { connect_timeout: { seconds: '2' } })]);
    assert.deepEqual(upstreamsOf(await sendMany(2, port, '/fast')), { new: 2 });
    release();
    assert.equal((await inFlight).status, 200);
    assert.ok(up.new.connections > before, 'the changed cluster opened a new connection');
  });

  it('change nothing when the same resources are pushed again', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      await sendMany(2, port, '/fast', { agent });
      const connections = up.new.connections;
      await harness.apply({
        clusters: [edsCluster('new', { connect_timeout: { seconds: '2' } })],
        endpoints: [assignment('new', [up.new.port])],
        listeners: [httpListener('outbound', { rds: 'routes' })],
        routes: routesTo('new'),
      });
      assert.equal(harness.port(), port, 'the listener kept its socket');
      assert.deepEqual(upstreamsOf(await sendMany(2, port, '/fast', { agent })), { new: 2 });
      assert.equal(up.new.connections, connections, 'pooled upstream connections were kept');
    } finally {
      agent.destroy();
    }
  });
});
