// `weft proxy --concurrency 2` as a process against a fake ADS server: an update every worker accepts
// is ACKed, one the data plane refuses is NACKed with its reason and changes no worker.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { weftBin } from '../../harness/mesh.ts';
import { startProcess, stopProcess, type ManagedProcess } from '../../harness/process.ts';
import { TypeUrl } from '../../../src/xds/type-urls.ts';
import { FakeAds } from '../xds-client/fake-ads.ts';
import { send, upstreamsOf } from '../support/client.ts';
import { httpListener, route, routeConfig, routeTo, staticCluster, virtualHost } from '../support/resources.ts';
import { closedPort, startUpstream, type Upstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const ads = new FakeAds();
const up: Record<string, Upstream> = {};
let proxy: ManagedProcess | undefined;
let port = 0;
let adminPort = 0;
const routesTo = (cluster: string) => [routeConfig('routes', [virtualHost('all', ['*'], [route({ prefix: '/' }, routeTo(cluster))])])];

async function ack(typeUrl: string, version: string, resources: Record<string, unknown>[]): Promise<void> {
  const nonce = ads.respond(typeUrl, version, resources);
  const reply = await ads.waitForRequest((r) => r.response_nonce === nonce);
  assert.equal(reply.error_detail, undefined, `${typeUrl} ${version} NACKed: ${reply.error_detail?.message}`);
}

async function acceptedByWorker(): Promise<number[]> {
  const info = await (await fetch(`http://127.0.0.1:${adminPort}/server_info`)).json() as { workers: { downstreamCxTotal: number }[] };
  return info.workers.map((w) => w.downstreamCxTotal);
}

async function onNewConnections(n: number): Promise<Record<string, number>> {
  return upstreamsOf(await Promise.all(Array.from({ length: n }, () => send(port, '/'))));
}

before(async () => {
  up.a = await startUpstream('a');
  up.b = await startUpstream('b');
  await ads.start();
  port = await closedPort();
  adminPort = await closedPort();
  proxy = await startProcess('proxy', [weftBin, 'proxy', '--concurrency', '2', '--plaintext-xds', '--xds-address', `127.0.0.1:${ads.port}`,
    '--admin-address', `127.0.0.1:${adminPort}`, '--outbound-port', String(port), '--node-id', 'workers.default'], { noWait: true });
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Listener, 15_000);
  await ack(TypeUrl.Cluster, 'c1', [staticCluster('a', [up.a.port]), staticCluster('b', [up.b.port])]);
  await ack(TypeUrl.Listener, 'l1', [httpListener('outbound', { rds: 'routes', port })]);
  await ads.waitForRequest((r) => r.type_url === TypeUrl.RouteConfiguration && (r.resource_names ?? []).includes('routes'));
  await ack(TypeUrl.RouteConfiguration, 'r1', routesTo('a'));
  await waitFor('the proxy ready', async () => (await fetch(`http://127.0.0.1:${adminPort}/ready`)).status, (s) => s === 200);
});

after(async () => {
  if (proxy) await stopProcess(proxy);
  await ads.stop();
  for (const u of Object.values(up)) await u.close();
});

it('serves on both workers what both accepted', async () => {
  assert.deepEqual(await onNewConnections(40), { a: 40 });
  const accepted = await acceptedByWorker();
  assert.ok(accepted.every((n) => n > 0), `both workers accepted connections: ${JSON.stringify(accepted)}`);
});

it('NACKs a cluster update the data plane refuses, with its reason, and no worker changes', async () => {
  // Were it applied anywhere, cluster b would be gone there.
  const nonce = ads.respond(TypeUrl.Cluster, 'c2', [staticCluster('a', [up.a.port], { lb_policy: 'CLUSTER_PROVIDED' })]);
  const nack = await ads.waitForRequest((r) => r.response_nonce === nonce);
  assert.match(nack.error_detail?.message ?? '', /^Cluster a: lb_policy CLUSTER_PROVIDED is not supported/);
  assert.equal(nack.version_info, 'c1');
  const before = await acceptedByWorker();
  await ack(TypeUrl.RouteConfiguration, 'r2', routesTo('b'));
  assert.deepEqual(await onNewConnections(40), { b: 40 });
  const now = await acceptedByWorker();
  assert.ok(now.every((n, i) => n > before[i]), `both workers still have cluster b: ${JSON.stringify(before)} → ${JSON.stringify(now)}`);
});

it('exits 0 on SIGTERM', async () => {
  const p = proxy!;
  proxy = undefined;
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
});
