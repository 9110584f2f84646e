// The proxy's ADS client against a fake server: subscriptions, ACK with the new version, NACK with
// the reason and the previous version, following EDS/RDS names, reconnecting after a server loss.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { XdsClient } from '../../../src/proxy/xds-client/xds-client.ts';
import { silentLogger } from '../../../src/common/log.ts';
import { TypeUrl } from '../../../src/xds/type-urls.ts';
import { toStruct } from '../../../src/xds/struct.ts';
import { FakeAds } from './fake-ads.ts';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => { for (const c of cleanups) await c(); });

async function setup(apply: (t: string, r: Record<string, unknown>[]) => Promise<void>) {
  const ads = new FakeAds();
  await ads.start();
  const client: XdsClient = new XdsClient({
    address: `127.0.0.1:${ads.port}`,
    node: { id: 'test-node', cluster: 'c', metadata: toStruct({ NAMESPACE: 'default' }) },
    apply: async (t, r) => apply(t, r),
    logger: silentLogger,
  });
  client.start();
  cleanups.push(() => client.stop(), () => ads.stop());
  return { ads, client };
}

test('the first request carries the node; clusters and listeners are wildcard subscriptions', async () => {
  const { ads } = await setup(async () => {});
  const first = await ads.waitForRequest(() => true);
  assert.equal(first.node.id, 'test-node');
  assert.equal(first.node.metadata.fields.NAMESPACE.stringValue, 'default');
  const lds = await ads.waitForRequest((r) => r.type_url === TypeUrl.Listener);
  assert.equal(lds.node, undefined, 'the node is sent only on the first request of a stream');
  assert.deepEqual(lds.resource_names ?? [], [], 'no names: every listener');
});

test('an accepted update is ACKed with its version and nonce, and EDS follows the EDS clusters', async () => {
  const applied: string[] = [];
  const { ads, client } = await setup(async (t, r) => {
    applied.push(`${t.split('.').pop()}:${r.map((x) => x.name ?? x.cluster_name).join(',')}`);
    if (t === TypeUrl.Cluster) client.subscribe(TypeUrl.ClusterLoadAssignment, r.map((c) => String(c.name)));
  });
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Cluster);
  const nonce = ads.respond(TypeUrl.Cluster, 'v1', [{ name: 'a', type: 'EDS' }, { name: 'b', type: 'EDS' }]);
  const ack = await ads.waitForRequest((r) => r.type_url === TypeUrl.Cluster && r.response_nonce === nonce);
  assert.equal(ack.version_info, 'v1');
  assert.equal(ack.error_detail, undefined);
  const eds = await ads.waitForRequest((r) => r.type_url === TypeUrl.ClusterLoadAssignment);
  assert.deepEqual(eds.resource_names, ['a', 'b']);
  assert.deepEqual(applied, ['Cluster:a,b']);
  assert.equal(client.acceptedVersion(TypeUrl.Cluster), 'v1');
});

test('a rejected update is NACKed with the reason and the previous version, and not applied', async () => {
  let reject = false;
  const { ads, client } = await setup(async () => { if (reject) throw new Error('Cluster bad: lb_policy MAGLEV is not supported'); });
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Cluster);
  const n1 = ads.respond(TypeUrl.Cluster, 'v1', [{ name: 'good' }]);
  await ads.waitForRequest((r) => r.response_nonce === n1);
  reject = true;
  const n2 = ads.respond(TypeUrl.Cluster, 'v2', [{ name: 'bad' }]);
  const nack = await ads.waitForRequest((r) => r.response_nonce === n2);
  assert.equal(nack.version_info, 'v1', 'a NACK names the version still in force');
  assert.equal(nack.error_detail?.message, 'Cluster bad: lb_policy MAGLEV is not supported');
  assert.equal(client.acceptedVersion(TypeUrl.Cluster), 'v1');
  assert.equal(client.stats.updatesRejected.CDS, 1);
});

test('a resource of the wrong type inside a response is NACKed', async () => {
  const { ads } = await setup(async () => {});
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Listener);
  const nonce = `x`;
  ads.streams[0].write({ version_info: 'v1', type_url: TypeUrl.Listener, nonce, resources: [{ '@type': TypeUrl.Cluster, name: 'c' }] });
  const nack = await ads.waitForRequest((r) => r.response_nonce === nonce);
  assert.match(nack.error_detail?.message ?? '', /LDS response holds a resource of type type\.googleapis\.com\/envoy\.config\.cluster\.v3\.Cluster/);
});

test('after losing the server the client reconnects, sends its node again and its accepted versions', async () => {
  const { ads } = await setup(async () => {});
  await ads.waitForRequest((r) => r.type_url === TypeUrl.Cluster);
  const n = ads.respond(TypeUrl.Cluster, 'v7', [{ name: 'c' }]);
  await ads.waitForRequest((r) => r.response_nonce === n);
  const port = ads.port;
  await ads.stop();
  const again = new FakeAds();
  cleanups.push(() => again.stop());
  await again.start(port);
  const first = await again.waitForRequest(() => true, 10_000);
  assert.equal(first.node?.id, 'test-node');
  const cds = await again.waitForRequest((r) => r.type_url === TypeUrl.Cluster);
  assert.equal(cds.version_info, 'v7');
  assert.equal(cds.response_nonce, '');
});
