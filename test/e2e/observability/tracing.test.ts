// Distributed tracing across three services: productpage → reviews (v2) → ratings, each behind its
// sidecar, the tracer an OpenTelemetry extension provider of the mesh config (OTLP/HTTP to a
// receiver in this test, a service of the mesh as Istio's collector is), made the default by
// defaultProviders and sampled at 100% by a mesh-wide Telemetry resource. One request yields one trace whose spans form a single tree across every hop;
// a request that arrives with a sampled W3C traceparent continues the caller's trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mesh } from '../../harness/mesh.ts';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { startBookinfo, type Bookinfo } from '../../../examples/bookinfo/topology.ts';
import { httpCall } from '../traffic/scenario.ts';
import { OtlpReceiver, type ReceivedSpan } from './otlp-receiver.ts';

let dir: string;
let receiver: OtlpReceiver;
let mesh: Mesh;
let bookinfo: Bookinfo;

const telemetry = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing:
  - providers: [{ name: otel-tracing }]
    randomSamplingPercentage: 100
`;
// reviews v2 calls ratings; every reviews request goes to v2.
const reviewsV2 = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ route: [{ destination: { host: reviews, subset: v2 } }] }]
`;

/** The collector as a service of the mesh (in Istio: the collector's Kubernetes Service). */
const collectorService = (port: number) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: otel-collector, namespace: observability }
spec:
  hosts: [otel-collector.observability.svc.cluster.local]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: ${port}, name: http-otlp, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1 }]
`;

const page = (headers: Record<string, string> = {}) => httpCall(bookinfo.entry.port, '/productpage', { host: 'productpage:9080', ...headers });

before(async () => {
  receiver = await OtlpReceiver.start();
  dir = await mkdtemp(join(tmpdir(), 'weft-tracing-'));
  const meshConfig = join(dir, 'mesh.yaml');
  await writeFile(meshConfig, [
    'extensionProviders:',
    '- name: otel-tracing',
    '  opentelemetry:',
    '    service: observability/otel-collector.observability.svc.cluster.local',
    `    port: ${receiver.port}`,
    '    http: { path: /v1/traces, timeout: 5s }',
    'defaultProviders:',
    '  tracing: [otel-tracing]',
    '',
  ].join('\n'));
  mesh = await Mesh.start({ controlPlaneArgs: ['--mesh-config', meshConfig] });
  await mesh.apply(collectorService(receiver.port));
  await mesh.apply(telemetry);
  bookinfo = await startBookinfo(mesh, ['v2'], reviewsV2, { detailsVersions: ['v1'] });
  await waitFor('productpage showing ratings from reviews v2', async () => {
    const r = await page();
    return r.status === 200 && r.json?.stars === 'black' && r.json?.ratingsAvailable !== false;
  }, 20_000, 200);
});
after(async () => {
  await mesh?.stop();
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
  assertNoLeakedProcesses();
});

/** The spans from `span` up to its root, following parentSpanId within the trace. */
function ancestry(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const byId = new Map(trace.map((s) => [s.spanId, s]));
  const chain = [span];
  let at = span;
  while (at.parentSpanId !== '' && byId.has(at.parentSpanId) && chain.length < 50) {
    at = byId.get(at.parentSpanId)!;
    chain.push(at);
  }
  return chain;
}

/** Whatever a span says about who emitted it: resource service.name and Istio's span attributes. */
const emitter = (s: ReceivedSpan) => [s.serviceName, s.attributes['istio.canonical_service'], s.attributes['node_id'], s.name].join(' ');

/** The server span of the ratings sidecar in a trace whose ancestry reaches this trace's root. */
async function ratingsSpan(which: { traceId?: string; requestId?: string }): Promise<{ span: ReceivedSpan; trace: ReceivedSpan[] }> {
  return waitFor('the ratings sidecar span of a trace through all three services', () => {
    for (const span of receiver.spans) {
      if (which.traceId !== undefined && span.traceId !== which.traceId) continue;
      if (which.requestId !== undefined && span.attributes['guid:x-request-id'] !== which.requestId) continue;
      if (span.kind !== 2 || !emitter(span).includes('ratings')) continue;
      const trace = receiver.trace(span.traceId);
      const chain = ancestry(span, trace);
      if (chain.length >= 6) return { span, trace };
    }
    throw new Error(`${receiver.spans.length} spans so far: ${JSON.stringify(receiver.spans.slice(-8).map((s) => [s.traceId.slice(0, 8), s.kind, emitter(s)]))}; rejected posts: ${JSON.stringify(receiver.rejected)}`);
  }, 15_000, 250);
}

test('a request through productpage, reviews and ratings yields one trace of parent and child spans', async () => {
  // The request id the sidecars tag spans with (guid:x-request-id), propagated by the apps like the trace context.
  const requestId = randomUUID();
  const r = await page({ 'x-request-id': requestId });
  assert.equal(r.status, 200);
  const { span, trace } = await ratingsSpan({ requestId });
  const chain = ancestry(span, trace);
  // ratings server ← reviews client ← reviews server ← productpage client ← productpage server ← entry client.
  const root = chain[chain.length - 1];
  assert.equal(root.parentSpanId, '', `the chain ends at the trace's root: ${JSON.stringify(chain.map(emitter))}`);
  assert.deepEqual(chain.map((s) => s.kind).slice(0, 6), [2, 3, 2, 3, 2, 3], `server and client spans alternate hop by hop: ${JSON.stringify(chain.map((s) => [s.kind, emitter(s)]))}`);
  for (const service of ['ratings', 'reviews', 'productpage']) {
    assert.ok(chain.some((s) => emitter(s).includes(service)), `a span of the ${service} sidecar is on the path: ${JSON.stringify(chain.map(emitter))}`);
  }
  // One trace: every span of it hangs off the same root, and no span of this request started another trace.
  const roots = trace.filter((s) => s.parentSpanId === '' || !trace.some((p) => p.spanId === s.parentSpanId));
  assert.deepEqual(roots.map((s) => s.spanId), [root.spanId], 'a single root');
  assert.equal(new Set(trace.map((s) => s.spanId)).size, trace.length, 'span ids are unique');
  await waitFor('the details hop of the same trace', () => receiver.trace(root.traceId).some((s) => emitter(s).includes('details')), 10_000, 250);
  const ofRequest = receiver.spans.filter((s) => s.attributes['guid:x-request-id'] === requestId);
  assert.deepEqual([...new Set(ofRequest.map((s) => s.traceId))], [root.traceId], 'every span of the request is in the one trace');
});

test("a request carrying a sampled traceparent continues the caller's trace", async () => {
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const r = await page({ traceparent: `00-${traceId}-${callerSpan}-01` });
  assert.equal(r.status, 200);
  const { span, trace } = await ratingsSpan({ traceId });
  const chain = ancestry(span, trace);
  assert.equal(chain[chain.length - 1].parentSpanId, callerSpan, "the first sidecar's span is a child of the caller's span");
});
