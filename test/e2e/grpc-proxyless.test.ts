// A third-party xDS client drives off our control plane: gRPC's proxyless xDS client resolves a
// service, follows a weighted VirtualService and balances over EDS endpoints, with no sidecar.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Mesh } from '../harness/mesh.ts';
import { assertNoLeakedProcesses, startProcess } from '../harness/process.ts';

const fixture = (f: string) => fileURLToPath(new URL(`./fixtures/${f}`, import.meta.url));
let mesh: Mesh;
const servers: Record<string, number> = {};

before(async () => {
  mesh = await Mesh.start({ demo: true }); // gRPC's xDS client connects without TLS or a token
  for (const v of ['v1', 'v2']) {
    const p = await startProcess<{ port: number }>(`grpc ${v}`, [fixture('grpc-echo-server.ts'), v]);
    mesh.processes.push(p);
    servers[v] = p.ready.port;
  }
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 9080, name: grpc, protocol: GRPC }]
  endpoints:
  - { address: 127.0.0.1, ports: { grpc: ${servers.v1} }, labels: { version: v1 } }
  - { address: 127.0.0.1, ports: { grpc: ${servers.v2} }, labels: { version: v2 } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: echo }
spec:
  host: echo
  subsets:
  - { name: v1, labels: { version: v1 } }
  - { name: v2, labels: { version: v2 } }
`);
});
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

async function callThroughXds(count: number): Promise<string[]> {
  const bootstrap = {
    xds_servers: [{ server_uri: `127.0.0.1:${mesh.xdsPort}`, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: `grpc-client-${Date.now()}`, locality: {} },
  };
  const p = await startProcess<{ answers: string[] }>('grpc xds client', [fixture('grpc-xds-client.ts'), 'echo:9080', String(count)], {
    env: { GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap) },
    timeoutMs: 30_000,
  });
  await p.exited;
  return p.ready.answers;
}

test('gRPC proxyless clients resolve a service from the control plane and balance over its endpoints', async () => {
  const answers = await callThroughXds(20);
  assert.equal(answers.filter((a) => a.startsWith('error')).length, 0, answers.join(', '));
  assert.ok(answers.includes('v1') && answers.includes('v2'), `both endpoints answer: ${answers.join(',')}`);
});

test('gRPC proxyless clients follow a VirtualService that sends everything to one subset', async () => {
  await mesh.apply(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: echo }
spec:
  hosts: [echo]
  http:
  - route:
    - { destination: { host: echo, subset: v1 }, weight: 0 }
    - { destination: { host: echo, subset: v2 }, weight: 100 }
`);
  const answers = await callThroughXds(20);
  assert.deepEqual([...new Set(answers)], ['v2']);
});
