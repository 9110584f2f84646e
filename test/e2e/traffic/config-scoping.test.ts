// Config that shapes what a client's sidecar sees, on live traffic: a delegate VirtualService merged
// into its root, exportTo hiding a VirtualService from other namespaces, a CORS preflight answered by
// the sidecar, a DNS-resolved ServiceEntry, and TLS services told apart by SNI on an outbound TCP
// listener (passthrough).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, requests, tally, type Client } from './scenario.ts';
import { startTlsBackends, type TlsBackends } from './tls-backends.ts';

let s: Scenario;
let client: Client;
let backends: TlsBackends;
const web = (path: string, headers: Record<string, string> = {}, method = 'GET') =>
  httpCall(client.outboundPort, path, { host: 'web:8080', ...headers }, method);

/** The common name of the certificate the backend reached with this SNI presents (CA-verified; the name is not checked). */
function tlsHello(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: client.tcpPort(443), servername, ca: backends.ca, checkServerIdentity: () => undefined }, () => {
      socket.end();
      resolve(socket.getPeerCertificate().subject.CN as string);
    });
    socket.on('error', reject);
  });
}

before(async () => {
  backends = await startTlsBackends(['a.example.com', 'b.example.com']);
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.mesh.apply(backends.serviceEntries);
  const webV1 = await s.workload({ service: 'web', version: 'v1' });
  await s.workload({ service: 'web', version: 'v2' });
  // An external service resolved by DNS: the sidecar resolves `localhost` itself.
  await s.mesh.apply(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: by-name, namespace: default }
spec:
  hosts: [by-name.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: localhost, ports: { http: ${webV1.app.ready.port} } }]
`);
  await s.workload({ service: 'mirror' });
  client = await s.client({ outboundTcp: [443] });
  await s.applyFile('delegate-export.yaml');
  await s.applyFile('sni-routing.yaml');
});
after(async () => {
  await s?.stop();
  await backends?.close();
  assertNoLeakedProcesses();
});

test('a delegate VirtualService is merged into its root: narrower matches, inherited headers', async () => {
  await waitFor('the delegate in force', async () => tally(await requests(10, 2, () => web('/api/v2/x')))['web-v2'] === 10);
  const v2 = await web('/api/v2/items');
  assert.equal(v2.headers['x-served-by'], 'web-v2');
  assert.equal(v2.headers['x-root'], 'api', 'the delegate rule inherits the root rule\'s header operations');
  assert.equal((await web('/api/other')).headers['x-served-by'], 'web-v1', 'the delegate\'s catch-all stays inside the root\'s /api');
  assert.equal((await web('/')).headers['x-root'], undefined, 'the root\'s other rule is not the delegate\'s');
});

test('a ServiceEntry with DNS resolution: the sidecar resolves the endpoint\'s name and sends there', async () => {
  const r = await waitFor('the name resolved', async () => {
    const reply = await httpCall(client.outboundPort, '/dns', { host: 'by-name.example.com:8080' });
    return reply.status === 200 ? reply : false;
  }, 15_000);
  assert.equal(r.headers['x-served-by'], 'web-v1');
  assert.equal(r.json.path, '/dns');
});

test('a VirtualService exported to another namespace does not apply to this client', async () => {
  const r = await httpCall(client.outboundPort, '/', { host: 'mirror:8080' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['x-served-by'], 'mirror-v1');
});

test('the sidecar answers a CORS preflight for an allowed origin and adds CORS headers to the response', async () => {
  const preflight = await web('/page', { origin: 'https://shop.example.com', 'access-control-request-method': 'POST' }, 'OPTIONS');
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers['access-control-allow-origin'], 'https://shop.example.com');
  assert.equal(preflight.headers['access-control-max-age'], '60');
  assert.equal(preflight.headers['x-served-by'], undefined, 'answered by the sidecar, not the application');
  const simple = await web('/page', { origin: 'https://shop.example.com' });
  assert.equal(simple.headers['access-control-allow-origin'], 'https://shop.example.com');
  assert.equal((await web('/page', { origin: 'https://evil.example.com' })).headers['access-control-allow-origin'], undefined);
});

test('TLS services are told apart by SNI on the outbound TCP listener, and a tls route redirects one name', async () => {
  assert.equal(await waitFor('SNI routing', () => tlsHello('a.example.com').catch(() => false as const), 15_000), 'a.example.com');
  assert.equal(await waitFor('SNI routing to b', () => tlsHello('b.example.com').catch(() => false as const), 15_000), 'b.example.com');
  assert.equal(await tlsHello('alias.example.com'), 'b.example.com',
    'alias.example.com is routed to b.example.com (whose certificate the client then sees)');
});
