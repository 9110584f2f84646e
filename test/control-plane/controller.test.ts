// The pipeline from store to snapshot cache: changes are debounced, and a proxy's snapshot changes
// (and is pushed) only when its resources change.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests } from '../../src/api/index.ts';
import { MeshController } from '../../src/control-plane/controller.ts';
import { defaultMeshConfig } from '../../src/control-plane/registry/model.ts';
import { SnapshotCache } from '../../src/control-plane/server/cache.ts';
import { openEmbeddedStore } from '../../src/control-plane/store/index.ts';
import { silentLogger } from '../../src/common/log.ts';
import { encodeProxyMetadata } from '../../src/xds/node-metadata.ts';
import { TypeUrl } from '../../src/xds/type-urls.ts';

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))); });

const se = (port: number) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: cart, namespace: default }
spec:
  hosts: [cart.default.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: ${port}, name: http }]
  endpoints: [{ address: 127.0.0.1 }]
`;

async function setup(debounceMs = 100) {
  const dir = await mkdtemp(join(tmpdir(), 'weft-ctl-'));
  dirs.push(dir);
  const store = await openEmbeddedStore({ dataDir: dir });
  const cache = new SnapshotCache();
  const controller = new MeshController({ store, cache, config: defaultMeshConfig, logger: silentLogger, debounceMs });
  const put = async (yaml: string) => {
    const [r] = parseManifests(yaml).resources;
    await store.commit([{ op: 'put', kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, value: r }]);
  };
  const node = (id: string) => ({ id, metadata: encodeProxyMetadata({ namespace: 'default', workloadName: id, labels: {}, serviceAccount: 'sa', address: '127.0.0.1', outboundPort: 15001, inbound: [] }) });
  return { store, cache, controller, put, node, close: async () => { controller.close(); await store.close(); } };
}

test('a connecting proxy gets a snapshot at once; a burst of changes is pushed once, after the debounce', async () => {
  const { cache, controller, put, node, close } = await setup(1000);
  controller.proxyConnected(1, node('p1'), '127.0.0.1');
  assert.ok(cache.get('p1'), 'snapshot ready when the stream asks');
  let pushed = 0;
  cache.watch('p1', () => pushed++);
  for (const port of [81, 82, 83, 84, 85]) await put(se(port));
  assert.equal(pushed, 0, 'nothing pushed inside the debounce window');
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal(pushed, 1, 'one push for the burst');
  const clusters = [...cache.get('p1')!.types[TypeUrl.Cluster].resources.keys()];
  assert.deepEqual(clusters, ['BlackHoleCluster', 'outbound|85||cart.default.svc.cluster.local'], 'the last state wins');
  await close();
});

test('a change that leaves a proxy\'s resources as they were does not push to it', async () => {
  const { cache, controller, put, node, close } = await setup();
  await put(se(80));
  controller.proxyConnected(1, node('p1'), '127.0.0.1');
  let pushed = 0;
  cache.watch('p1', () => pushed++);
  // A label on the ServiceEntry changes the store but not any Envoy resource.
  await put(se(80).replace('metadata: { name: cart, namespace: default }', 'metadata: { name: cart, namespace: default, labels: { team: a } }'));
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(pushed, 0);
  await put(se(8080));
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(pushed, 1);
  await close();
});

test('a proxy (sidecar or proxyless) that reconnects before its old stream closes keeps getting pushes', async () => {
  const { cache, controller, put, node, close } = await setup();
  let port = 9000;
  for (const [id, extra] of [['sidecar', {}], ['grpc', { user_agent_name: 'gRPC Node Pure JS' }]] as const) {
    const n = { ...node(id), ...extra };
    controller.proxyConnected(1, n, '127.0.0.1');
    controller.proxyConnected(2, n, '127.0.0.1'); // reconnected
    controller.proxyDisconnected(1, n); // the old stream closes late
    assert.ok(cache.get(id), `${id}: snapshot kept for the live stream`);
    let pushed = 0;
    const unwatch = cache.watch(id, () => pushed++);
    await put(se(port++));
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(pushed, 1, `${id}: still pushed to`);
    unwatch();
    controller.proxyDisconnected(2, n);
    assert.equal(cache.get(id), undefined, `${id}: forgotten once its last stream closes`);
  }
  await close();
});
