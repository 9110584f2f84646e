// An ingress gateway (`weft proxy --gateway`) serving Istio Gateways on live traffic: an HTTP server
// routes by Host and path to a service behind its sidecar, and a TLS PASSTHROUGH server routes by SNI
// to TLS backends whose handshake passes through untouched (the client sees each backend's own
// certificate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { makeCertificates, type TestCertificates } from '../../proxy/support/tls-certs.ts';
import { Scenario, httpCall } from './scenario.ts';

let s: Scenario;
let certs: TestCertificates;
const backends: tls.Server[] = [];
let httpPort: number;
let tlsPort: number;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TLS server that answers each connection with its name, then closes. */
async function tlsBackend(name: string): Promise<number> {
  const c = certs.certificates.get(name)!;
  const server = tls.createServer({ key: c.key, cert: c.cert }, (socket) => socket.end(`${name}\n`));
  backends.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

function tlsHello(servername: string): Promise<{ peer: string; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, servername, ca: [...certs.certificates.values()].map((c) => c.cert) }, () => {
      const peer = socket.getPeerCertificate().subject.CN as string;
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (text += d));
      socket.on('end', () => resolve({ peer, text: text.trim() }));
    });
    socket.on('error', reject);
  });
}

before(async () => {
  certs = await makeCertificates(['a.example.com', 'b.example.com']);
  const [aPort, bPort] = [await tlsBackend('a.example.com'), await tlsBackend('b.example.com')];
  [httpPort, tlsPort] = [await freePort(), await freePort()];
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.workload({ service: 'web' });
  // One ServiceEntry per TLS backend, each with its endpoint on 127.0.0.1.
  await s.mesh.apply(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: secure, namespace: default }
spec:
  hosts: [a.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: tls, protocol: TLS }]
  endpoints: [{ address: 127.0.0.1, ports: { tls: ${aPort} } }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: secure-b, namespace: default }
spec:
  hosts: [b.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: tls, protocol: TLS }]
  endpoints: [{ address: 127.0.0.1, ports: { tls: ${bPort} } }]
`);
  await s.mesh.apply(Scenario.yaml('gateway.yaml').replaceAll('HTTP_PORT', String(httpPort)).replaceAll('TLS_PORT', String(tlsPort)));
  await s.mesh.startProxy({ name: 'ingressgateway', labels: { istio: 'ingressgateway' }, outbound: false, extraArgs: ['--gateway'] });
});
after(async () => {
  await s?.stop();
  for (const b of backends) b.close();
  await certs?.remove();
  assertNoLeakedProcesses();
});

test('an HTTP gateway server routes by host and path to the service behind its sidecar', async () => {
  const r = await waitFor('the gateway route', async () => {
    const reply = await httpCall(httpPort, '/web/items', { host: 'web.example.com' }).catch(() => undefined);
    return reply?.status === 200 ? reply : false;
  }, 15_000);
  assert.equal(r.headers['x-served-by'], 'web-v1');
  assert.equal(r.json.path, '/items', 'the gateway route rewrote the prefix');
  assert.equal((await httpCall(httpPort, '/web/items', { host: 'other.example.com' })).status, 404, 'a host the server does not expose');
  assert.equal((await httpCall(httpPort, '/elsewhere', { host: 'web.example.com' })).status, 404, 'a path no rule matches');
});

test('a TLS PASSTHROUGH gateway server routes by SNI and leaves the handshake to the backends', async () => {
  const a = await waitFor('SNI routing in force', () => tlsHello('a.example.com').catch(() => false as const), 15_000);
  assert.deepEqual(a, { peer: 'a.example.com', text: 'a.example.com' });
  assert.deepEqual(await tlsHello('b.example.com'), { peer: 'b.example.com', text: 'b.example.com' });
  await assert.rejects(tlsHello('c.example.com'), 'an SNI no route names gets no backend');
});
