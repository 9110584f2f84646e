// Data-plane workers (--concurrency 2) driven as one data plane: real worker threads sharing a reserved
// port (SO_REUSEPORT), fed hand-written Envoy resources. Every worker takes connections, every worker
// gets each update, a refused update changes none, metrics are summed, drain and close reach them all.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { Registry } from 'prom-client';
import { silentLogger } from '../../../src/common/log.ts';
import { ConfigRejectedError } from '../../../src/proxy/data-plane.ts';
import { releaseSharedPort, reserveSharedPort } from '../../../src/proxy/workers/shared-ports.ts';
import { WorkerPool } from '../../../src/proxy/workers/worker-pool.ts';
import { send, upstreamsOf } from '../support/client.ts';
import { edsCluster, httpListener, route, routeConfig, routeTo, virtualHost, assignment } from '../support/resources.ts';
import { closedPort, startUpstream, type Upstream } from '../support/upstream.ts';

const fatal: string[] = [];
let pool: WorkerPool;
let port = 0;
let closed = false;
const up: Record<string, Upstream> = {};
const routesTo = (cluster: string) => [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])])];

/** `n` requests, each on a new connection (the kernel picks a worker per connection). */
async function onNewConnections(n: number): Promise<Record<string, number>> {
  const replies = await Promise.all(Array.from({ length: n }, () => send(port, '/')));
  return upstreamsOf(replies);
}

async function acceptedByWorker(): Promise<number[]> {
  return (await pool.info()).map((w) => w.downstreamCxTotal);
}

before(async () => {
  up.a = await startUpstream('a');
  up.b = await startUpstream('b');
  const reserved: net.Server = await reserveSharedPort('127.0.0.1', 0);
  port = (reserved.address() as net.AddressInfo).port;
  pool = new WorkerPool({
    concurrency: 2, logger: silentLogger, nodeId: 'test.default', nodeMetadata: { NAMESPACE: 'default' },
    reserved: [{ host: '127.0.0.1', port }], onFatal: (reason) => fatal.push(reason),
  });
  await pool.start();
  await releaseSharedPort(reserved);
  await pool.updateClusters([edsCluster('a'), edsCluster('b')]);
  await pool.updateEndpoints([assignment('a', [up.a.port]), assignment('b', [up.b.port])]);
  await pool.updateListeners([httpListener('outbound', { rds: 'routes', port })]);
  await pool.updateRoutes(routesTo('a'));
});

after(async () => {
  if (!closed) await pool?.close();
  for (const u of Object.values(up)) await u.close();
});

describe('data-plane workers', () => {
  it('both take connections on the shared port, and the listener is where the main thread reserved it', async () => {
    assert.deepEqual(pool.listenerAddresses(), [{ name: 'outbound', address: '127.0.0.1', port }]);
    assert.deepEqual(await onNewConnections(40), { a: 40 });
    const accepted = await acceptedByWorker();
    assert.equal(accepted.length, 2);
    assert.equal(accepted[0] + accepted[1], 40);
    assert.ok(accepted.every((n) => n > 0), `each worker accepts some of 40 connections: ${JSON.stringify(accepted)}`);
  });

  it('a route change reaches every worker before the update resolves', async () => {
    const before = await acceptedByWorker();
    await pool.updateRoutes(routesTo('b'));
    assert.deepEqual(await onNewConnections(40), { b: 40 });
    const now = await acceptedByWorker();
    assert.ok(now.every((n, i) => n > before[i]), `both workers served the new route: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
  });

  it('refuses a listener on port 0 (each worker would get another free port)', async () => {
    await assert.rejects(pool.updateListeners([httpListener('outbound', { rds: 'routes', port }), httpListener('anywhere', { rds: 'routes', port: 0 })]),
      (err: Error) => err instanceof ConfigRejectedError && /Listener anywhere: .*port_value: 0/.test(err.message));
    assert.deepEqual(pool.listenerAddresses(), [{ name: 'outbound', address: '127.0.0.1', port }]);
  });

  it('a refused update is refused with the worker\'s reason and changes no worker', async () => {
    await assert.rejects(pool.updateClusters([edsCluster('a', { lb_policy: 'CLUSTER_PROVIDED' }), edsCluster('b', { type: 'ORIGINAL_DST' })]), (err: unknown) => {
      assert.ok(err instanceof ConfigRejectedError, `expected ConfigRejectedError, got ${String(err)}`);
      assert.match(err.message, /^Cluster a: lb_policy CLUSTER_PROVIDED is not supported/);
      return true;
    });
    await assert.rejects(pool.updateListeners([httpListener('outbound', { rds: 'routes', port }), httpListener('outbound', { rds: 'routes', port: port + 1 })]),
      /Listener outbound: name appears twice in the update/);
    assert.deepEqual(pool.listenerAddresses(), [{ name: 'outbound', address: '127.0.0.1', port }]);
    // Both clusters still exist in every worker (a refused CDS removed nothing) and the route is still b's.
    assert.deepEqual(await onNewConnections(40), { b: 40 });
    await pool.updateRoutes(routesTo('a'));
    assert.deepEqual(await onNewConnections(40), { a: 40 });
  });

  it('serves the sum of the workers\' metrics, with a per-worker count of accepted connections', async () => {
    const mainRegistry = new Registry();
    const text = await (await pool.registry(mainRegistry)).metrics();
    const sample = (re: RegExp) => Number(re.exec(text)?.[1]);
    const accepted = await acceptedByWorker();
    const total = accepted[0] + accepted[1];
    assert.equal(total, 160);
    assert.equal(sample(new RegExp(`envoy_listener_downstream_cx_total\\{envoy_listener_address="127\\.0\\.0\\.1_${port}"\\} (\\d+)`)), total);
    assert.equal(sample(/envoy_http_downstream_rq_total\{envoy_http_conn_manager_prefix="outbound"\} (\d+)/), total);
    assert.equal(sample(/envoy_cluster_upstream_rq_total\{envoy_cluster_name="a"\} (\d+)/), up.a.count);
    assert.equal(sample(/weft_worker_downstream_cx_total\{worker="0"\} (\d+)/), accepted[0]);
    assert.equal(sample(/weft_worker_downstream_cx_total\{worker="1"\} (\d+)/), accepted[1]);
    // Each worker's view of the same cluster, not a count: one endpoint is one, not one per worker.
    assert.equal(sample(/envoy_cluster_membership_total\{envoy_cluster_name="a"\} (\d+)/), 1);
    assert.equal(sample(/envoy_cluster_membership_healthy\{envoy_cluster_name="a"\} (\d+)/), 1);
  });

  it('reads bytes fields as the single-threaded data plane does (a direct response\'s inline_bytes)', async () => {
    const body = { inline_bytes: Buffer.from('from bytes') };
    await pool.updateRoutes([routeConfig('routes', [virtualHost('all', ['*'], [{ match: { prefix: '/' }, direct_response: { status: 200, body } }])])]);
    const before = await acceptedByWorker();
    const replies = await Promise.all(Array.from({ length: 40 }, () => send(port, '/')));
    assert.deepEqual(new Set(replies.map((r) => `${r.status} ${r.body}`)), new Set(['200 from bytes']));
    const now = await acceptedByWorker();
    assert.ok(now.every((n, i) => n > before[i]), `both workers answered: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
    await pool.updateRoutes(routesTo('a'));
  });

  it('binds a listener on a port the main thread did not reserve (a gateway\'s) in every worker', async () => {
    const free = await closedPort();
    await pool.updateListeners([httpListener('outbound', { rds: 'routes', port }), httpListener('gateway', { rds: 'routes', port: free })]);
    const before = await acceptedByWorker();
    const replies = await Promise.all(Array.from({ length: 40 }, () => send(free, '/')));
    assert.deepEqual(upstreamsOf(replies), { a: 40 });
    const now = await acceptedByWorker();
    assert.ok(now.every((n, i) => n > before[i]), `both workers accepted on the gateway port: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
    await pool.updateListeners([httpListener('outbound', { rds: 'routes', port })]);
  });

  it('drain stops every worker accepting; close ends the threads without a fatal report', async () => {
    await pool.drain();
    await assert.rejects(send(port, '/'), /ECONNREFUSED/);
    closed = true;
    await pool.close();
    assert.deepEqual(fatal, []);
  });
});
