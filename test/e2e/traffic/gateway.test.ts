// An ingress gateway (`weft proxy --gateway`) serving Istio Gateways on live traffic: an HTTP server
// routes by Host and path to a service behind its sidecar, and a TLS PASSTHROUGH server routes by SNI
// to TLS backends whose handshake passes through untouched (the client sees each backend's own
// certificate).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall } from './scenario.ts';
import { startTlsBackends, type TlsBackends } from './tls-backends.ts';

let s: Scenario;
let backends: TlsBackends;
let httpPort: number;
let tlsPort: number;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function tlsHello(servername: string): Promise<{ peer: string; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: tlsPort, servername, ca: backends.ca }, () => {
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
  backends = await startTlsBackends(['a.example.com', 'b.example.com']);
  [httpPort, tlsPort] = [await freePort(), await freePort()];
  s = await Scenario.start();
  await s.applyFile('services.yaml');
  await s.workload({ service: 'web' });
  await s.mesh.apply(backends.serviceEntries);
  await s.mesh.apply(Scenario.yaml('gateway.yaml').replaceAll('HTTP_PORT', String(httpPort)).replaceAll('TLS_PORT', String(tlsPort)));
  await s.mesh.startProxy({ name: 'ingressgateway', labels: { istio: 'ingressgateway' }, outbound: false, extraArgs: ['--gateway'] });
});
after(async () => {
  await s?.stop();
  await backends?.close();
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

test('AuthorizationPolicy selecting the gateway applies at the gateway (DENY by path; RequestAuthentication rejects a bad token)', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ingress-deny-admin, namespace: default }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/web/admin*"] } }] }]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: { name: ingress-jwt, namespace: default }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  jwtRules: [{ issuer: "issuer.example", jwks: '{"keys":[]}' }]
`);
  await waitFor('the gateway denies /web/admin', async () => (await httpCall(httpPort, '/web/admin', { host: 'web.example.com' })).status === 403, 15_000);
  const denied = await httpCall(httpPort, '/web/admin/x', { host: 'web.example.com' });
  assert.deepEqual([denied.status, denied.body], [403, 'RBAC: access denied']);
  assert.equal((await httpCall(httpPort, '/web/items', { host: 'web.example.com' })).status, 200, 'other paths pass');
  assert.equal((await httpCall(httpPort, '/web/items', { host: 'web.example.com', authorization: 'Bearer not.a.jwt' })).status, 401, 'an invalid token is rejected at the edge');
  for (const [kind, name] of [['authorizationpolicy', 'ingress-deny-admin'], ['requestauthentication', 'ingress-jwt']]) {
    assert.equal((await s.mesh.weft(['delete', kind, name, '-n', 'default'])).code, 0);
  }
});
