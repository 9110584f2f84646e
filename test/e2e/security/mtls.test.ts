// Mutual TLS between sidecars and PeerAuthentication on live traffic, with the control plane's own CA:
// auto mTLS between sidecars, PERMISSIVE (the default) accepts plaintext and mTLS on one port, STRICT
// refuses plaintext, DISABLE turns mTLS off on both ends, a certificate from another CA fails the
// handshake, and the client identity reaches authorization (principals).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { makeCertificateAuthority, type TestCertificateAuthority } from '../../proxy/support/tls-certs.ts';
import { Scenario, httpCall, requests, type Client, type Workload } from '../traffic/scenario.ts';

let s: Scenario;
let httpbin: Workload;
let sleep: Client;
let other: Client;
let foreignCa: TestCertificateAuthority;

const viaSidecar = (client: Client, path = '/') => httpCall(client.outboundPort, path, { host: 'httpbin:8000' });
/** Straight to httpbin's sidecar, in plaintext, as a workload without a sidecar would. */
const plaintext = () => httpCall(httpbin.port, '/', { host: 'httpbin.foo:8000' });

before(async () => {
  s = await Scenario.start();
  await s.applyFile('../security/services.yaml');
  httpbin = await s.workload({ service: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', servicePort: 8000 });
  sleep = await s.client({ name: 'sleep', namespace: 'foo', serviceAccount: 'sleep' });
  other = await s.client({ name: 'other', namespace: 'foo', serviceAccount: 'other' });
  foreignCa = await makeCertificateAuthority('Another Org CA');
});
after(async () => {
  await s?.stop();
  await foreignCa?.remove();
  assertNoLeakedProcesses();
});

/** Whether a plaintext HTTP request to the sidecar's inbound port gets an answer (false: the connection was closed). */
async function plaintextAccepted(): Promise<boolean> {
  try {
    return (await plaintext()).status === 200;
  } catch {
    return false;
  }
}

test('PERMISSIVE (the default) serves plaintext and mutual TLS on the same port', async () => {
  await waitFor('sidecar to sidecar works', async () => (await viaSidecar(sleep)).status === 200);
  const replies = await requests(20, 4, () => viaSidecar(sleep));
  assert.deepEqual(replies.map((r) => r.status), Array(20).fill(200));
  assert.equal(await plaintextAccepted(), true, 'a client without a sidecar still gets through');
});

test('sidecars talk mutual TLS: the server sees the client identity from its certificate', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: only-sleep, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }]
`);
  await waitFor('other is denied', async () => (await viaSidecar(other)).status === 403);
  const denied = await viaSidecar(other);
  assert.equal(denied.body, 'RBAC: access denied');
  assert.equal((await viaSidecar(sleep)).status, 200, 'the allowed identity passes');
  assert.equal((await plaintext()).status, 403, 'a plaintext client has no identity, so no principal matches');
  await s.mesh.weft(['delete', 'authorizationpolicy', 'only-sleep', '-n', 'foo']);
  await waitFor('policy removed', async () => (await viaSidecar(other)).status === 200);
});

test('STRICT refuses plaintext clients and keeps serving sidecars', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: foo }
spec:
  mtls: { mode: STRICT }
`);
  await waitFor('plaintext refused', async () => !(await plaintextAccepted()));
  const replies = await requests(20, 4, () => viaSidecar(sleep));
  assert.deepEqual(replies.map((r) => r.status), Array(20).fill(200), 'mTLS traffic is untouched');
  // A plain TCP connection is closed without an HTTP answer.
  const closed = await new Promise<string>((resolve) => {
    const socket = netConnect(httpbin.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: httpbin\r\n\r\n'));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('close', () => resolve(data));
    socket.on('error', () => undefined);
  });
  assert.equal(closed, '', 'no byte of HTTP comes back to a plaintext client');
});

test('a client certificate from another CA fails the TLS handshake, even with a mesh identity in it', async () => {
  const forged = await foreignCa.issue('sleep', ['URI:spiffe://cluster.local/ns/foo/sa/sleep'], true);
  const outcome = await new Promise<string>((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: httpbin.port, key: forged.key, cert: forged.cert, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      socket.write('GET / HTTP/1.1\r\nhost: httpbin\r\n\r\n');
    });
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', (err) => resolve(`error: ${err.message}`));
    socket.on('close', () => resolve(data === '' ? 'closed' : data));
  });
  assert.doesNotMatch(outcome, /^HTTP\/1\.1 200/, `the forged client got: ${outcome}`);
});

test('workload-level portLevelMtls DISABLE overrides the namespace STRICT for that port', async () => {
  await s.mesh.apply(`
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: httpbin-port, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  mtls: { mode: STRICT }
  portLevelMtls:
    "8000": { mode: DISABLE }
`);
  await waitFor('plaintext accepted again', () => plaintextAccepted());
  // The clients see the endpoint as plaintext-only now (auto mTLS follows the server's mode).
  await waitFor('sidecar traffic still works', async () => (await viaSidecar(sleep)).status === 200);
  const replies = await requests(20, 4, () => viaSidecar(sleep));
  assert.deepEqual(replies.map((r) => r.status), Array(20).fill(200));
  await s.mesh.weft(['delete', 'peerauthentication', 'httpbin-port', '-n', 'foo']);
  await s.mesh.weft(['delete', 'peerauthentication', 'default', '-n', 'foo']);
  await waitFor('back to PERMISSIVE', () => plaintextAccepted());
});
