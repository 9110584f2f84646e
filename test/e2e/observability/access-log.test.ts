// Access logs turned on by the mesh config (accessLogFile: /dev/stdout, accessLogEncoding: JSON), as
// Istio's operators do: every line each sidecar writes parses as JSON with Envoy's fields, and the
// response flags say why a request failed: FI for a fault abort, NR when no route matched, UO for a
// circuit-breaker overflow, UC when the upstream reset the connection before answering.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { assertNoLeakedProcesses, waitFor, type ManagedProcess } from '../../harness/process.ts';
import { Scenario, httpCall, requests, type Client, type Workload } from '../traffic/scenario.ts';

const resetApp = fileURLToPath(new URL('./reset-app.ts', import.meta.url));

const config = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: busy, namespace: default }
spec:
  hosts: [busy.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: busy } }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: resetter, namespace: default }
spec:
  hosts: [resetter.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: resetter } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: [web]
  http:
  - match: [{ uri: { prefix: /abort } }]
    fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }
    route: [{ destination: { host: web } }]
  - match: [{ uri: { prefix: /ok } }]
    route: [{ destination: { host: web } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: busy }
spec:
  host: busy
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 1 }
      http: { http1MaxPendingRequests: 1, maxRequestsPerConnection: 1 }
`;

/** Istio's JSON access log format (EnvoyJSONLogFormatIstio): the keys of every line. */
const istioJsonKeys = [
  'start_time', 'route_name', 'method', 'path', 'protocol', 'response_code', 'response_flags', 'response_code_details',
  'connection_termination_details', 'bytes_received', 'bytes_sent', 'duration', 'upstream_service_time', 'x_forwarded_for',
  'user_agent', 'request_id', 'authority', 'upstream_host', 'upstream_cluster', 'upstream_local_address',
  'downstream_local_address', 'downstream_remote_address', 'requested_server_name', 'upstream_transport_failure_reason',
];

/** What a sidecar printed on stdout after its ready line, each line parsed (or the parse error). */
interface Output { lines: { text: string; json?: any; error?: string }[] }

let dir: string;
let s: Scenario;
let client: Client;
let web: Workload;
let busy: Workload;
let resetter: ManagedProcess<any>;
const outputs = new Map<string, Output>();

function capture(p: ManagedProcess<any>): Output {
  const out: Output = { lines: [] };
  createInterface({ input: p.child.stdout! }).on('line', (text) => {
    if (text.trim() === '') return;
    try {
      const json = JSON.parse(text);
      if (json?.ready === true) return; // the harness's ready line
      out.lines.push({ text, json });
    } catch (err) {
      out.lines.push({ text, error: (err as Error).message });
    }
  });
  outputs.set(p.name, out);
  return out;
}

const call = (host: string, path: string) => httpCall(client.outboundPort, path, { host: `${host}:8080` });

/** Waits for the access log line of a request (by path) on a sidecar's output. */
function logLine(out: Output, what: string, match: (j: any) => boolean): Promise<any> {
  return waitFor(what, () => {
    const found = out.lines.find((l) => l.json && match(l.json));
    if (found) return found.json;
    throw new Error(`${out.lines.length} lines so far, last: ${out.lines.slice(-3).map((l) => l.text).join(' | ')}`);
  }, 5000, 100);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'weft-access-log-'));
  const meshConfig = join(dir, 'mesh.yaml');
  await writeFile(meshConfig, 'accessLogFile: /dev/stdout\naccessLogEncoding: JSON\n');
  s = await Scenario.start({ controlPlaneArgs: ['--mesh-config', meshConfig] });
  await s.applyFile('services.yaml');
  await s.mesh.apply(config);
  web = await s.workload({ service: 'web' });
  busy = await s.workload({ service: 'busy', appArgs: ['--delay-ms', '300'] });
  const app = await s.mesh.startApp('app resetter', resetApp, []);
  resetter = await s.mesh.startProxy({ name: 'resetter-v1', labels: { app: 'resetter', version: 'v1' }, inbound: [{ servicePort: 8080, appPort: app.ready.port }], outbound: false });
  client = await s.client({ name: 'client-v1' });
  for (const p of [web.proxy, busy.proxy, resetter, client.proxy]) capture(p);
  await waitFor('routes in force (the fault route aborts)', async () => (await call('web', '/abort/warmup')).status === 503 && (await call('web', '/ok/warmup')).status === 200);
});
after(async () => {
  await s?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  assertNoLeakedProcesses();
});

test('every access log line parses as JSON and carries the fields of Istio\'s JSON format', async () => {
  const r = await call('web', '/ok/fields?x=1');
  assert.equal(r.status, 200);
  const line = await logLine(outputs.get(client.proxy.name)!, 'the client sidecar logging /ok/fields', (j) => j.path === '/ok/fields?x=1');
  assert.deepEqual(istioJsonKeys.filter((k) => !(k in line)), [], `keys missing from ${JSON.stringify(line)}`);
  assert.equal(line.method, 'GET');
  assert.equal(Number(line.response_code), 200);
  assert.equal(line.response_flags, '-');
  assert.equal(line.protocol, 'HTTP/1.1');
  assert.equal(line.authority, 'web:8080');
  assert.match(String(line.upstream_cluster), /^outbound\|8080\|\|web\.default\.svc\.cluster\.local$/);
  assert.match(String(line.upstream_host), /^127\.0\.0\.1:\d+$/);
  assert.match(String(line.request_id), /^[0-9a-f-]{36}$/, 'the x-request-id the sidecar generated');
  assert.ok(Number(line.duration) >= 0);
  assert.ok(!Number.isNaN(Date.parse(String(line.start_time))), `start_time ${line.start_time} is a timestamp`);
  // The destination sidecar logs the same request, under the same request id.
  const inbound = await logLine(outputs.get(web.proxy.name)!, 'the web sidecar logging /ok/fields', (j) => j.path === '/ok/fields?x=1');
  assert.equal(inbound.request_id, line.request_id);
  assert.match(String(inbound.upstream_cluster), /^inbound\|8080\|\|/);
  for (const [name, out] of outputs) {
    const bad = out.lines.filter((l) => l.error !== undefined);
    assert.deepEqual(bad.map((l) => l.text), [], `${name} wrote lines that are not JSON`);
  }
});

test('a fault abort is logged with response flag FI', async () => {
  assert.equal((await call('web', '/abort/now')).status, 503);
  const line = await logLine(outputs.get(client.proxy.name)!, 'the abort logged', (j) => j.path === '/abort/now');
  assert.equal(Number(line.response_code), 503);
  assert.equal(line.response_flags, 'FI');
});

test('a request no route matches is logged with response flag NR', async () => {
  assert.equal((await call('web', '/nowhere')).status, 404);
  const line = await logLine(outputs.get(client.proxy.name)!, 'the no-route logged', (j) => j.path === '/nowhere');
  assert.equal(Number(line.response_code), 404);
  assert.equal(line.response_flags, 'NR');
});

test('a circuit-breaker overflow is logged with response flag UO', async () => {
  const replies = await requests(12, 12, (i) => call('busy', `/overflow/${i}`));
  const overflowed = replies.filter((r) => r.status === 503).length;
  assert.ok(overflowed > 0, `some of 12 concurrent requests overflow one connection and one pending request: ${replies.map((r) => r.status).join(',')}`);
  const out = outputs.get(client.proxy.name)!;
  await waitFor('every overflow logged', () => out.lines.filter((l) => l.json?.response_flags === 'UO' && String(l.json.path).startsWith('/overflow/')).length === overflowed, 5000, 100);
  const line = out.lines.find((l) => l.json?.response_flags === 'UO')!.json;
  assert.equal(Number(line.response_code), 503);
  assert.match(String(line.upstream_cluster), /busy\.default\.svc\.cluster\.local/);
});

test('an upstream that resets the connection is logged with response flag UC', async () => {
  const r = await call('resetter', '/reset/now');
  assert.equal(r.status, 503);
  const line = await logLine(outputs.get(resetter.name)!, "the resetter's sidecar logging the reset", (j) => j.path === '/reset/now');
  assert.equal(Number(line.response_code), 503);
  assert.equal(line.response_flags, 'UC');
});

test('no sidecar wrote a stdout line that is not JSON', () => {
  let lines = 0;
  for (const [name, out] of outputs) {
    lines += out.lines.length;
    const bad = out.lines.filter((l) => l.error !== undefined);
    assert.deepEqual(bad.map((l) => l.text), [], `${name} wrote lines that are not JSON`);
  }
  assert.ok(lines >= 10, `the sidecars logged the requests of every test (${lines} lines)`);
});
