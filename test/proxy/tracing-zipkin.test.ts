// Tracing with the Zipkin provider: spans reach a Zipkin v2 JSON collector, with B3 context between
// the hops; Istio's shared_span_context false gives each server its own span, Envoy's default shares it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { send } from './support/client.ts';
import { staticCluster } from './support/resources.ts';
import { startZipkinReceiver, type ReceivedSpan, type SpanReceiver } from './support/trace-receivers.ts';
import { startChain, zipkinTracing, type Chain } from './support/traced-mesh.ts';
import { waitFor } from './support/wait.ts';

let zipkin: SpanReceiver;
const chains: Chain[] = [];

before(async () => {
  zipkin = await startZipkinReceiver();
});

after(async () => {
  await Promise.all(chains.map((c) => c.close()));
  await zipkin.close();
});

async function chain(tracing: Record<string, unknown>): Promise<Chain> {
  const c = await startChain(tracing, staticCluster('zipkin', [zipkin.port]));
  chains.push(c);
  return c;
}

function spansWithRequestId(id: string): ReceivedSpan[] {
  return zipkin.spans.filter((s) => s.attributes['guid:x-request-id'] === id);
}

test('Zipkin export: a three-service request arrives as one trace of client and server spans under each service\'s name', async () => {
  const c = await chain(zipkinTracing(100));
  const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'zipkin-chain' } });
  assert.equal(reply.status, 200);
  const spans = await waitFor('five Zipkin spans', () => spansWithRequestId('zipkin-chain'), (s) => s.length === 5);
  assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace');
  assert.match(spans[0].traceId, /^[0-9a-f]{32}$/, 'trace_id_128bit gives 128-bit trace ids');
  const root = spans.find((s) => s.parentSpanId === '')!;
  const path = [root];
  for (let next = spans.find((s) => s.parentSpanId === root.spanId); next !== undefined; next = spans.find((s) => s.parentSpanId === path.at(-1)!.spanId)) {
    path.push(next);
  }
  assert.deepEqual(path.map((s) => `${s.kind} ${s.service}`), [
    'SERVER productpage.default', 'CLIENT productpage.default', 'SERVER reviews.default', 'CLIENT reviews.default', 'SERVER ratings.default',
  ]);
  assert.equal(path[1].name, 'reviews:9080/*');
  assert.equal(path[2].attributes['istio.canonical_service'], 'reviews');
});

test('Zipkin\'s default shared span context: the server span reuses the caller\'s span id', async () => {
  const tracing = zipkinTracing(100);
  const provider = tracing.provider as { typed_config: Record<string, unknown> };
  delete provider.typed_config.shared_span_context;
  const c = await chain(tracing);
  await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'zipkin-shared' } });
  const spans = await waitFor('five Zipkin spans', () => spansWithRequestId('zipkin-shared'), (s) => s.length === 5);
  const client = spans.find((s) => s.kind === 'CLIENT' && s.service === 'productpage.default')!;
  const server = spans.find((s) => s.kind === 'SERVER' && s.service === 'reviews.default')!;
  assert.equal(server.spanId, client.spanId);
  assert.equal(server.parentSpanId, client.parentSpanId);
});

test('custom tags: literal, environment and request header (with its default) are set on every span', async () => {
  process.env.WEFT_TRACING_TEST_CLUSTER = 'east';
  const c = await chain(zipkinTracing(100, {
    custom_tags: [
      { tag: 'team', literal: { value: 'bookinfo' } },
      { tag: 'cluster', environment: { name: 'WEFT_TRACING_TEST_CLUSTER', default_value: 'unknown' } },
      { tag: 'region', environment: { name: 'WEFT_TRACING_TEST_UNSET', default_value: 'nowhere' } },
      { tag: 'user', request_header: { name: 'x-user', default_value: 'anonymous' } },
    ],
  }));
  await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'zipkin-tags', 'x-user': 'jason' } });
  const spans = await waitFor('the entry server span', () => spansWithRequestId('zipkin-tags'), (s) => s.length === 5);
  const entry = spans.find((s) => s.kind === 'SERVER' && s.service === 'productpage.default')!;
  assert.equal(entry.attributes.team, 'bookinfo');
  assert.equal(entry.attributes.cluster, 'east');
  assert.equal(entry.attributes.region, 'nowhere');
  assert.equal(entry.attributes.user, 'jason');
  // The application did not pass x-user on: the next hop reports the default.
  const next = spans.find((s) => s.kind === 'SERVER' && s.service === 'reviews.default')!;
  assert.equal(next.attributes.user, 'anonymous');
});

test('a collector that fails is counted and never fails the request', async () => {
  const c = await chain(zipkinTracing(100));
  zipkin.status = 503;
  try {
    const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'zipkin-down' } });
    assert.equal(reply.status, 200);
    const metric = c.sidecars[0].stats.registry.getSingleMetric('envoy_tracing_zipkin_reports_failed')!;
    await waitFor('a failed report counted', async () => (await metric.get()).values[0]?.value ?? 0, (n) => n >= 1);
  } finally {
    zipkin.status = 200;
  }
  assert.equal(spansWithRequestId('zipkin-down').length, 0);
});
