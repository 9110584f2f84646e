// AuthorizationPolicy on live traffic, modelled on Istio's authorization tasks: HTTP traffic
// (allow-nothing, allow by method/path/principal), explicit deny, dry-run and AUDIT, TCP traffic
// (ports; denied connections are closed), and external authorization (action CUSTOM with an
// envoyExtAuthzHttp provider from the mesh config). Every policy is Istio YAML as the docs write it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedProcess } from '../../harness/process.ts';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { Scenario, httpCall, metric, type Client, type Workload } from '../traffic/scenario.ts';

let s: Scenario;
let httpbin: Workload;
let sleep: Client;
let other: Client;
let authz: ManagedProcess<{ port: number }>;
let dir: string;

const get = (client: Client, path: string, headers: Record<string, string> = {}, method = 'GET') =>
  httpCall(client.outboundPort, path, { host: 'httpbin.foo:8000', ...headers }, method);

const meshConfig = `
# Istio MeshConfig, as in the ext-authz task
extensionProviders:
- name: sample-ext-authz-http
  envoyExtAuthzHttp:
    service: ext-authz.foo.svc.cluster.local
    port: 8000
    includeRequestHeadersInCheck: ["x-ext-authz"]
    headersToUpstreamOnAllow: ["x-ext-authz-check-result"]
    headersToDownstreamOnDeny: ["x-ext-authz-check-result", "content-type"]
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-authz-'));
  await writeFile(join(dir, 'mesh.yaml'), meshConfig);
  s = await Scenario.start({ controlPlaneArgs: ['--mesh-config', join(dir, 'mesh.yaml')] });
  await s.applyFile('../security/services.yaml');
  authz = await s.mesh.startApp('ext-authz', fileURLToPath(new URL('./ext-authz-server.ts', import.meta.url)), []);
  // The authorizer runs without a sidecar: a ServiceEntry endpoint, reached in plaintext.
  await s.mesh.apply(`
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ext-authz, namespace: foo }
spec:
  hosts: [ext-authz.foo.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8000, name: http, protocol: HTTP, targetPort: ${authz.ready.port} }]
  endpoints: [{ address: 127.0.0.1 }]
`);
  httpbin = await s.workload({ service: 'httpbin', namespace: 'foo', serviceAccount: 'httpbin', servicePort: 8000 });
  await s.workload({ service: 'tcp-echo', namespace: 'foo', serviceAccount: 'tcp-echo', servicePort: 9000, mode: 'tcp' });
  sleep = await s.client({ name: 'sleep', namespace: 'foo', serviceAccount: 'sleep', outboundTcp: [9000] });
  other = await s.client({ name: 'other', namespace: 'bar', serviceAccount: 'other', outboundTcp: [9000] });
  await waitFor('traffic flows', async () => (await get(sleep, '/')).status === 200 && (await get(other, '/')).status === 200);
});
after(async () => {
  await s?.stop();
  await rm(dir, { recursive: true, force: true });
  assertNoLeakedProcesses();
});

async function apply(yaml: string): Promise<void> {
  await s.mesh.apply(yaml);
}

async function remove(name: string): Promise<void> {
  const r = await s.mesh.weft(['delete', 'authorizationpolicy', name, '-n', 'foo']);
  assert.equal(r.code, 0, r.stderr);
}

test('allow-nothing denies every request with 403 "RBAC: access denied"', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-nothing, namespace: foo }
spec: {}
`);
  await waitFor('denied', async () => (await get(sleep, '/')).status === 403);
  const r = await get(sleep, '/headers');
  assert.deepEqual([r.status, r.body], [403, 'RBAC: access denied']);
  await remove('allow-nothing');
  await waitFor('allowed again', async () => (await get(sleep, '/')).status === 200);
});

test('ALLOW by principal, method and path: sleep may GET /headers, nothing else is allowed', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: httpbin-viewer, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }]
    to: [{ operation: { methods: ["GET"], paths: ["/headers", "/status/*"] } }]
`);
  await waitFor('policy in force', async () => (await get(sleep, '/ip')).status === 403);
  assert.equal((await get(sleep, '/headers')).status, 200);
  assert.equal((await get(sleep, '/status/418')).status, 200, 'prefix match with *');
  assert.equal((await get(sleep, '/headers', {}, 'POST')).status, 403, 'method not allowed');
  assert.equal((await get(other, '/headers')).status, 403, 'another identity');
  await remove('httpbin-viewer');
});

test('ALLOW by source namespace', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: from-bar, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  rules:
  - from: [{ source: { namespaces: ["bar"] } }]
`);
  await waitFor('policy in force', async () => (await get(sleep, '/')).status === 403);
  assert.equal((await get(other, '/')).status, 200);
  await remove('from-bar');
});

test('DENY wins over ALLOW; a request header condition', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: allow-all, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  rules: [{}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin-header, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules:
  - to: [{ operation: { methods: ["GET"] } }]
    when: [{ key: "request.headers[x-token]", values: ["admin"] }]
`);
  await waitFor('deny in force', async () => (await get(sleep, '/', { 'x-token': 'admin' })).status === 403);
  assert.equal((await get(sleep, '/', { 'x-token': 'guest' })).status, 200);
  assert.equal((await get(sleep, '/', { 'x-token': 'admin' }, 'POST')).status, 200, 'the DENY rule is for GET only');
  await remove('deny-admin-header');
  await remove('allow-all');
});

test('dry-run: a DENY policy annotated istio.io/dry-run is evaluated, counted and not enforced', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-path-headers
  namespace: foo
  annotations: { "istio.io/dry-run": "true" }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: DENY
  rules: [{ to: [{ operation: { paths: ["/headers"] } }] }]
`);
  const shadow = () => metric(httpbin.proxy.ready.adminPort, 'envoy_http_rbac_shadow_denied', '');
  const before = await shadow();
  await waitFor('shadow denial counted', async () => (await get(sleep, '/headers')).status === 200 && (await shadow()) > before);
  await remove('deny-path-headers');
});

test('AUDIT lets requests through', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: audit-headers, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: AUDIT
  rules: [{ to: [{ operation: { paths: ["/headers"] } }] }]
`);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await get(sleep, '/headers')).status, 200);
  await remove('audit-headers');
});

/** Opens a TCP connection through the client's outbound TCP listener; resolves with what came back before close or timeout. */
function tcpExchange(client: Client, message: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(client.tcpPort(9000), '127.0.0.1', () => socket.write(message));
    let data = '';
    const timer = setTimeout(() => { socket.destroy(); resolve(data); }, 1500);
    socket.on('data', (d) => {
      data += d;
      if (data.includes(message)) { clearTimeout(timer); socket.destroy(); resolve(data); }
    });
    socket.on('close', () => { clearTimeout(timer); resolve(data); });
    socket.on('error', () => undefined);
  });
}

test('TCP traffic: ALLOW by port and principal; a denied connection is closed', async () => {
  await waitFor('tcp echo works', async () => (await tcpExchange(sleep, 'hello')).includes('hello'));
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: tcp-policy, namespace: foo }
spec:
  selector: { matchLabels: { app: tcp-echo } }
  action: ALLOW
  rules:
  - from: [{ source: { principals: ["cluster.local/ns/foo/sa/sleep"] } }]
    to: [{ operation: { ports: ["9000"] } }]
  - to: [{ operation: { methods: ["GET"] } }]
`);
  await waitFor('other is cut off', async () => !(await tcpExchange(other, 'ping')).includes('ping'));
  assert.match(await tcpExchange(sleep, 'hello again'), /hello again/);
  // The rule with an HTTP-only field (methods) never matches TCP traffic: it does not open the port to others.
  assert.equal((await tcpExchange(other, 'ping')).includes('ping'), false);
  await s.mesh.weft(['delete', 'authorizationpolicy', 'tcp-policy', '-n', 'foo']);
});

test('CUSTOM: the external authorizer decides, its headers reach the app, its denial reaches the client', async () => {
  await apply(`
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ext-authz, namespace: foo }
spec:
  selector: { matchLabels: { app: httpbin } }
  action: CUSTOM
  provider: { name: sample-ext-authz-http }
  rules: [{ to: [{ operation: { paths: ["/headers"] } }] }]
`);
  await waitFor('ext authz in force', async () => (await get(sleep, '/headers')).status === 403);
  const denied = await get(sleep, '/headers', { 'x-ext-authz': 'deny' });
  assert.equal(denied.status, 403);
  assert.match(denied.body, /denied by ext_authz/);
  assert.equal(denied.headers['x-ext-authz-check-result'], 'denied');
  const allowed = await get(sleep, '/headers', { 'x-ext-authz': 'allow' });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.json.headers['x-ext-authz-check-result'], 'allowed', 'the authorizer header reached the app');
  assert.equal((await get(sleep, '/ip')).status, 200, 'paths outside the rule are not sent to the authorizer');
  await remove('ext-authz');
});
