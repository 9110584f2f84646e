// The registry: services from ServiceEntries, endpoints from WorkloadEntries, inline endpoints and
// registered sidecars; registrations outlive a disconnect by the grace period, and a restart.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseManifests } from '../../../src/api/index.ts';
import { buildMeshSnapshot, protocolFromName } from '../../../src/control-plane/registry/registry.ts';
import { defaultMeshConfig } from '../../../src/control-plane/registry/model.ts';
import { ProxyRegistrations, registrationKind } from '../../../src/control-plane/registry/registrations.ts';
import { openEmbeddedStore } from '../../../src/control-plane/store/index.ts';
import { silentLogger } from '../../../src/common/log.ts';
import type { ProxyMetadata } from '../../../src/xds/node-metadata.ts';

const dirs: string[] = [];
after(async () => { await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))); });

const yaml = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews.default.svc.cluster.local]
  resolution: STATIC
  ports: [{ number: 9080, name: http }, { number: 9090, name: grpc-admin, targetPort: 7000 }]
  workloadSelector: { labels: { app: reviews } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: vm1 }
spec: { address: 10.1.1.1, labels: { app: reviews, version: v3 }, ports: { http: 8080 }, locality: us/east/a, weight: 3 }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: other-ns, namespace: prod }
spec: { address: 10.1.1.2, labels: { app: reviews } }
`;

function proxy(ns: string, labels: Record<string, string>, port: number): ProxyMetadata {
  return { namespace: ns, workloadName: 'w', labels, serviceAccount: 'sa', address: '127.0.0.1', inbound: [{ servicePort: 9080, port, appPort: 1 }] };
}

test('a ServiceEntry selects WorkloadEntries and sidecars of its namespace, each on the right port', () => {
  const { resources } = parseManifests(yaml);
  const of = (k: string) => resources.filter((r) => r.kind === k) as any[];
  const mesh = buildMeshSnapshot({
    config: defaultMeshConfig,
    serviceEntries: of('ServiceEntry'),
    workloadEntries: of('WorkloadEntry'),
    virtualServices: [], destinationRules: [],
    proxies: new Map([
      ['r1', proxy('default', { app: 'reviews', version: 'v1' }, 16001)],
      ['r-prod', proxy('prod', { app: 'reviews' }, 16002)],
      ['ratings', proxy('default', { app: 'ratings' }, 16003)],
    ]),
  });
  const [svc] = mesh.services;
  assert.equal(svc.hostname, 'reviews.default.svc.cluster.local');
  assert.deepEqual(svc.ports.map((p) => `${p.number}/${p.protocol}`), ['9080/HTTP', '9090/GRPC']);
  const http = svc.endpoints.get(9080)!.map((e) => `${e.address}:${e.port} w${e.weight} ${e.locality}`).sort();
  assert.deepEqual(http, ['10.1.1.1:8080 w3 us/east/a', '127.0.0.1:16001 w1 ']);
  // The sidecar announced no inbound port for 9090 (nor its targetPort): it does not serve it.
  assert.deepEqual(svc.endpoints.get(9090)!.map((e) => `${e.address}:${e.port}`), ['10.1.1.1:7000']);
});

test('protocols follow Istio port-name prefixes', () => {
  assert.deepEqual(['http', 'http-web', 'http2', 'grpc', 'tcp-db', 'tls', 'mongo', 'whatever', undefined].map(protocolFromName),
    ['HTTP', 'HTTP', 'HTTP2', 'GRPC', 'TCP', 'TLS', 'MONGO', 'TCP', 'TCP']);
});

test('a disconnected sidecar keeps its registration for the grace period, across a restart, then goes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'weft-reg-'));
  dirs.push(dir);
  let store = await openEmbeddedStore({ dataDir: dir });
  let changes = 0;
  let regs = new ProxyRegistrations({ store, graceMs: 300, logger: silentLogger, onChange: () => changes++ });
  regs.connected(1, 'node-a', proxy('default', { app: 'x' }, 1000));
  assert.equal(changes, 1);
  regs.connected(2, 'node-a', proxy('default', { app: 'x' }, 1000));
  assert.equal(changes, 1, 'the same registration again is not a change');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(store.list({ kind: registrationKind }).length, 1, 'persisted');
  regs.disconnected(1, 'node-a');
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(regs.all().has('node-a'), 'still one stream open: kept');
  // Restart: the registration comes back from the store and expires if the proxy does not return.
  regs.close();
  await store.close();
  store = await openEmbeddedStore({ dataDir: dir });
  regs = new ProxyRegistrations({ store, graceMs: 300, logger: silentLogger, onChange: () => changes++ });
  assert.ok(regs.all().has('node-a'), 'known again after restart');
  await new Promise((r) => setTimeout(r, 450));
  assert.equal(regs.all().has('node-a'), false, 'expired after the grace period');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(store.list({ kind: registrationKind }).length, 0);
  // A proxy that reconnects within the grace period is kept.
  regs.connected(3, 'node-b', proxy('default', { app: 'y' }, 1001));
  regs.disconnected(3, 'node-b');
  await new Promise((r) => setTimeout(r, 100));
  regs.connected(4, 'node-b', proxy('default', { app: 'y' }, 1001));
  await new Promise((r) => setTimeout(r, 400));
  assert.ok(regs.all().has('node-b'));
  regs.close();
  await store.close();
});
