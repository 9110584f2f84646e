// The control plane's Prometheus metrics on its admin port (GET /metrics), with istiod's names so
// Istio's pilot dashboard works: proxies connected, pushes by type, rejected config, validation of
// `weft apply`, certificates issued, and the process metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mesh } from '../harness/mesh.ts';
import { assertNoLeakedProcesses, waitFor } from '../harness/process.ts';

let mesh: Mesh;

const ratingsEntry = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ratings }
spec:
  hosts: [ratings.default.svc.cluster.local]
  resolution: STATIC
  location: MESH_INTERNAL
  ports: [{ number: 9080, name: http }]
  endpoints:
  - { address: 127.0.0.1, ports: { http: 9 } }
`;

function ratingsRoutes(uriMatch: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
  - match: [{ uri: ${uriMatch} }]
    route: [{ destination: { host: ratings } }]
  - route: [{ destination: { host: ratings } }]
`;
}

async function scrape(): Promise<{ text: string; contentType: string }> {
  const res = await fetch(`${mesh.server}/metrics`);
  assert.equal(res.status, 200);
  return { text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** The sum of a metric's samples whose labels include `labels` (0 when none). */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Polls /metrics until `ok` holds for the text, and returns that text. */
async function metricsWhen(what: string, ok: (text: string) => boolean): Promise<string> {
  let last = '';
  try {
    return await waitFor(what, async () => {
      last = (await scrape()).text;
      return ok(last) ? last : false;
    });
  } catch (err) {
    const pilot = last.split('\n').filter((l) => /^(pilot|galley|citadel)_/.test(l)).join('\n');
    throw new Error(`${String(err)}\nlast pilot/galley/citadel samples:\n${pilot}`, { cause: err });
  }
}

before(async () => {
  mesh = await Mesh.start();
  await mesh.apply(ratingsEntry);
  await mesh.startProxy({ name: 'client', labels: { app: 'client' } });
});
after(async () => {
  await mesh?.stop();
  assertNoLeakedProcesses();
});

test('GET /metrics on the admin port serves Prometheus text with the build and Node.js process metrics', async () => {
  const { text, contentType } = await scrape();
  assert.match(contentType, /^text\/plain/);
  assert.match(text, /^# TYPE pilot_xds gauge$/m);
  assert.match(text, /^# TYPE pilot_xds_pushes counter$/m);
  assert.match(text, /^# TYPE pilot_xds_push_time histogram$/m);
  assert.equal(value(text, 'istio_build', { component: 'pilot' }), 1);
  assert.ok(value(text, 'process_cpu_seconds_total') > 0, 'process CPU time is reported');
  assert.ok(value(text, 'process_resident_memory_bytes') > 0, 'process memory is reported');
  assert.match(text, /^nodejs_heap_size_used_bytes \d+/m);
});

test('a connected proxy is counted in pilot_xds, and the pushes it got are counted by type with their time and size', async () => {
  const text = await metricsWhen('pushes of every type to the proxy', (t) =>
    value(t, 'pilot_xds') >= 1 && ['cds', 'eds', 'lds', 'rds', 'sds'].every((type) => value(t, 'pilot_xds_pushes', { type }) >= 1));
  for (const type of ['cds', 'eds', 'lds', 'rds', 'sds']) {
    assert.ok(value(text, 'pilot_xds_push_time_count', { type }) >= 1, `push time observed for ${type}`);
    assert.ok(value(text, 'pilot_xds_config_size_bytes_sum', { type }) > 0, `config size observed for ${type}`);
  }
  assert.ok(value(text, 'pilot_xds_config_size_bytes_bucket', { type: 'cds', le: '+Inf' }) >= 1);
  assert.ok(value(text, 'pilot_services') >= 1, 'the ServiceEntry is a service');
  assert.ok(value(text, 'pilot_k8s_cfg_events', { type: 'ServiceEntry', event: 'add' }) >= 1);
});

test('workload certificates issued for proxies are counted, and the root expiry is reported', async () => {
  const text = await metricsWhen('a certificate issued', (t) => value(t, 'citadel_server_success_cert_issuance_count') >= 1);
  assert.ok(value(text, 'citadel_server_csr_count') >= 1);
  const expiry = value(text, 'citadel_server_root_cert_expiry_timestamp');
  assert.ok(expiry > Date.now() / 1000, `the root expires in the future (${expiry})`);
  assert.ok(value(text, 'citadel_server_root_cert_expiry_seconds') > 0);
});

test('weft apply counts valid resources as passed and refused ones as failed, by resource and reason', async () => {
  const before = (await scrape()).text;
  const failedBefore = value(before, 'galley_validation_failed', { resource: 'virtualservices', reason: 'invalid_resource' });
  const passedBefore = value(before, 'galley_validation_passed', { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' });
  const bad = await mesh.weft(['apply', '-f', '-'], ratingsRoutes('{ prefix: /ratings }').replace('hosts: [ratings]', 'hosts: [ratings]\n  htp: []'));
  assert.notEqual(bad.code, 0, 'the invalid VirtualService is refused');
  await mesh.apply(ratingsRoutes('{ prefix: /ratings }'));
  const after = (await scrape()).text;
  assert.equal(value(after, 'galley_validation_failed', { resource: 'virtualservices', reason: 'invalid_resource' }), failedBefore + 1);
  assert.equal(value(after, 'galley_validation_passed', { group: 'networking.istio.io', version: 'v1', resource: 'virtualservices' }), passedBefore + 1);
  assert.ok(value(after, 'pilot_k8s_cfg_events', { type: 'VirtualService', event: 'add' }) >= 1);
  assert.ok(value(after, 'pilot_push_triggers', { type: 'config' }) >= 1);
});

test('a config change the proxy ACKs is timed in pilot_proxy_convergence_time', async () => {
  const before = value((await scrape()).text, 'pilot_proxy_convergence_time_count');
  await mesh.apply(ratingsRoutes('{ prefix: /ratings/v2 }'));
  await metricsWhen('a convergence observed', (t) => value(t, 'pilot_proxy_convergence_time_count') > before);
});

test('config a proxy rejects (NACK) is counted in pilot_total_xds_rejects and pilot_xds_rds_reject', async () => {
  // RE2's ungreedy flag (?U) is valid Istio, but the sidecar cannot honour it and rejects the routes.
  await mesh.apply(ratingsRoutes('{ regex: "(?U)/ratings/.+" }'));
  const text = await metricsWhen('an RDS rejection', (t) => value(t, 'pilot_total_xds_rejects', { type: 'rds' }) >= 1);
  assert.ok(value(text, 'pilot_xds_rds_reject', { node: 'client.default' }) >= 1, 'the rejecting proxy is named');
  assert.equal(value(text, 'pilot_total_xds_rejects', { type: 'cds' }), 0, 'only the routes were rejected');
});
