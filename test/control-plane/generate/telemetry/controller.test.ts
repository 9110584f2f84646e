// Telemetry resources reach proxies through the control plane: stored, picked up by the controller's
// mesh snapshot, and pushed as access logs in the workload's listeners; `weft apply` warnings name
// what cannot be honoured.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests } from '../../../../src/api/index.ts';
import { MeshController } from '../../../../src/control-plane/controller.ts';
import { defaultMeshConfig } from '../../../../src/control-plane/registry/model.ts';
import { SnapshotCache } from '../../../../src/control-plane/server/cache.ts';
import { openEmbeddedStore } from '../../../../src/control-plane/store/index.ts';
import { silentLogger } from '../../../../src/common/log.ts';
import { encodeProxyMetadata } from '../../../../src/xds/node-metadata.ts';
import { TypeUrl } from '../../../../src/xds/type-urls.ts';

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))); });

const TELEMETRY = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  accessLogging: [{ providers: [{ name: envoy }] }]
  tracing: [{ providers: [{ name: otel }] }]
`;

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a stored Telemetry turns on access logs in a connected sidecar\'s listeners, and its problems are warnings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-telemetry-'));
  dirs.push(dir);
  const store = await openEmbeddedStore({ dataDir: dir });
  const cache = new SnapshotCache();
  const controller = new MeshController({ store, cache, config: defaultMeshConfig, logger: silentLogger, debounceMs: 10 });
  try {
    const metadata = encodeProxyMetadata({
      namespace: 'default', workloadName: 'cart', labels: { app: 'cart' }, serviceAccount: 'cart', address: '127.0.0.1',
      inbound: [{ servicePort: 8080, port: 15006, appPort: 18080 }],
    });
    controller.proxyConnected(1, { id: 'cart', metadata }, '127.0.0.1');
    const inboundHcm = () => {
      const listener = cache.get('cart')?.types[TypeUrl.Listener].resources.get('inbound|8080')?.body as { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] } | undefined;
      return listener?.filter_chains[0].filters[0].typed_config;
    };
    assert.equal(inboundHcm()?.access_log, undefined, 'no access log before the Telemetry');
    const [r] = parseManifests(TELEMETRY).resources;
    await store.commit([{ op: 'put', kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, value: r }]);
    const logs = await waitFor('the access log to be pushed', () => inboundHcm()?.access_log as { typed_config: { path: string } }[] | undefined);
    assert.equal(logs[0].typed_config.path, '/dev/stdout');
    assert.deepEqual(controller.configWarnings(['default']), [
      'Telemetry istio-system/mesh-default: tracing provider "otel" is not defined in the mesh config\'s extensionProviders; tracing is off',
    ]);
  } finally {
    controller.close();
    await store.close();
  }
});
