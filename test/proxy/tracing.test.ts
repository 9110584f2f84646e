// Distributed tracing across sidecars: one trace over three services with parent/child links,
// exported over OTLP/HTTP to a real receiver; sampling decisions made upstream are honoured.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { send } from './support/client.ts';
import { staticCluster } from './support/resources.ts';
import { startOtlpReceiver, type ReceivedSpan, type SpanReceiver } from './support/trace-receivers.ts';
import { otelTracing, startChain, type Chain } from './support/traced-mesh.ts';
import { waitFor } from './support/wait.ts';

let otlp: SpanReceiver;
const chains: Chain[] = [];

before(async () => {
  otlp = await startOtlpReceiver();
});

after(async () => {
  await Promise.all(chains.map((c) => c.close()));
  await otlp.close();
});

async function chain(percent: number | undefined): Promise<Chain> {
  const c = await startChain(otelTracing(percent), staticCluster('otel-collector', [otlp.port]));
  chains.push(c);
  return c;
}

function spansOf(traceId: string): ReceivedSpan[] {
  return otlp.spans.filter((s) => s.traceId === traceId);
}

test('a request through three services yields one trace whose spans link client to server at every hop', async () => {
  const c = await chain(100);
  const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080' });
  assert.equal(reply.status, 200);
  const traceparent = c.apps[2].received.at(-1)!.traceparent as string;
  const traceId = traceparent.split('-')[1];
  // productpage inbound, productpage → reviews, reviews inbound, reviews → ratings, ratings inbound.
  const spans = await waitFor('five spans of the trace', () => spansOf(traceId), (s) => s.length === 5);
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const roots = spans.filter((s) => s.parentSpanId === '');
  assert.equal(roots.length, 1, 'one root span');
  const path: ReceivedSpan[] = [roots[0]];
  for (;;) {
    const child = spans.find((s) => s.parentSpanId === path.at(-1)!.spanId);
    if (child === undefined) break;
    path.push(child);
  }
  assert.deepEqual(path.map((s) => `${s.kind} ${s.service} ${s.name}`), [
    'SERVER productpage.default productpage:9080/*',
    'CLIENT productpage.default reviews:9080/*',
    'SERVER reviews.default reviews:9080/*',
    'CLIENT reviews.default ratings:9080/*',
    'SERVER ratings.default ratings:9080/*',
  ]);
  for (const s of spans) if (s.parentSpanId !== '') assert.ok(byId.has(s.parentSpanId), `parent of ${s.name} is in the trace`);
  // The application behind the last sidecar sees that sidecar's span as its parent, in both formats.
  const last = path[4];
  const seen = c.apps[2].received.at(-1)!;
  assert.equal(seen.traceparent, `00-${traceId}-${last.spanId}-01`);
  assert.equal(seen['x-b3-traceid'], traceId);
  assert.equal(seen['x-b3-spanid'], last.spanId);
  assert.equal(seen['x-b3-parentspanid'], path[3].spanId);
  assert.equal(seen['x-b3-sampled'], '1');
});

test('spans carry Istio\'s tags: url, method, protocol, status, request id, node and workload identity', async () => {
  const c = await chain(100);
  const reply = await send(c.entryPort, '/productpage?u=normal', { host: 'productpage:9080', headers: { 'user-agent': 'tracing-test', 'x-request-id': 'req-1234' } });
  assert.equal(reply.status, 200);
  const server = await waitFor('the productpage server span', () => otlp.spans.find((s) => s.attributes['guid:x-request-id'] === 'req-1234' && s.kind === 'SERVER' && s.service === 'productpage.default'),
    (s) => s !== undefined);
  const a = server!.attributes;
  assert.equal(a['http.url'], 'http://productpage:9080/productpage?u=normal');
  assert.equal(a['http.method'], 'GET');
  assert.equal(a['http.protocol'], 'HTTP/1.1');
  assert.equal(a['http.status_code'], '200');
  assert.equal(a['user_agent'], 'tracing-test');
  assert.equal(a['response_flags'], '-');
  assert.equal(a['component'], 'proxy');
  assert.equal(a['node_id'], 'sidecar~127.0.0.1~productpage-v1.default~default.svc.cluster.local');
  assert.equal(a['istio.canonical_service'], 'productpage');
  assert.equal(a['istio.namespace'], 'default');
  assert.equal(a['istio.mesh_id'], 'cluster.local');
  assert.equal(a['peer.address'], '127.0.0.1');
  assert.equal(server!.error, false);
});

test('an incoming sampled traceparent is traced even at 0% random sampling, and continues its trace', async () => {
  const c = await chain(0);
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  assert.equal(reply.status, 200);
  const spans = await waitFor('five spans of the caller\'s trace', () => spansOf(traceId), (s) => s.length === 5);
  const root = spans.find((s) => s.kind === 'SERVER' && s.service === 'productpage.default')!;
  assert.equal(root.parentSpanId, '00f067aa0ba902b7');
});

test('an unsampled request makes no span, yet its trace headers reach every service with sampled=0', async () => {
  const c = await chain(100);
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const sentBefore = otlp.posts;
  const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { traceparent: `00-${traceId}-b7ad6b7169203331-00` } });
  assert.equal(reply.status, 200);
  for (const app of c.apps) {
    const seen = app.received.at(-1)!;
    assert.match(seen.traceparent as string, new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    assert.equal(seen['x-b3-traceid'], traceId);
    assert.equal(seen['x-b3-sampled'], '0');
  }
  // A sampled request afterwards is exported; the unsampled one never is.
  const marker = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'after-unsampled' } });
  assert.equal(marker.status, 200);
  await waitFor('the later sampled request\'s spans', () => otlp.spans.filter((s) => s.attributes['guid:x-request-id'] === 'after-unsampled').length, (n) => n === 5);
  assert.ok(otlp.posts > sentBefore);
  assert.deepEqual(spansOf(traceId), []);
});

test('with no sampled flag and 0% random sampling nothing is traced but the decision travels on', async () => {
  const c = await chain(0);
  const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'zero-percent' } });
  assert.equal(reply.status, 200);
  const first = c.apps[0].received.at(-1)!.traceparent as string;
  const last = c.apps[2].received.at(-1)!.traceparent as string;
  assert.match(first, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
  assert.equal(last.split('-')[1], first.split('-')[1], 'the same trace id reaches the last service');
  assert.equal(otlp.spans.filter((s) => s.attributes['guid:x-request-id'] === 'zero-percent').length, 0);
});

test('a B3-only client and a W3C-only client each get their trace joined across the hops', async () => {
  const c = await chain(0);
  const b3Trace = '463ac35c9f6413ad48485a3953bb6124';
  await send(c.entryPort, '/productpage', {
    host: 'productpage:9080',
    headers: { 'x-b3-traceid': b3Trace, 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' },
  });
  const b3Spans = await waitFor('the B3 trace', () => spansOf(b3Trace), (s) => s.length === 5);
  assert.equal(b3Spans.find((s) => s.kind === 'SERVER' && s.service === 'productpage.default')!.parentSpanId, 'a2fb4a1d1a96d312');

  // The single b3 header, 64-bit trace id: B3 headers going on keep 64 bits, W3C pads to 128.
  const shortTrace = 'e457b5a2e4d86bd1';
  await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { b3: `${shortTrace}-05e3ac9a4f6e3b90-1` } });
  const padded = `0000000000000000${shortTrace}`;
  await waitFor('the single-header B3 trace', () => spansOf(padded), (s) => s.length === 5);
  const seen = c.apps[1].received.at(-1)!;
  assert.equal(seen['x-b3-traceid'], shortTrace);
  assert.match(seen.b3 as string, new RegExp(`^${shortTrace}-[0-9a-f]{16}-1-[0-9a-f]{16}$`));

  const w3cTrace = '5b8efff798038103d269b633813fc60c';
  await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { traceparent: `00-${w3cTrace}-eee19b7ec3c1b174-01`, tracestate: 'vendor=opaque' } });
  await waitFor('the W3C trace', () => spansOf(w3cTrace), (s) => s.length === 5);
  assert.equal(c.apps[2].received.at(-1)!.tracestate, 'vendor=opaque');
});

test('a 5xx answer marks the span as an error', async () => {
  const c = await chain(100);
  await c.apps[2].close();
  const reply = await send(c.entryPort, '/productpage', { host: 'productpage:9080', headers: { 'x-request-id': 'broken-ratings' } });
  assert.ok(reply.status >= 500);
  const spans = await waitFor('the spans of the failed request', () => otlp.spans.filter((s) => s.attributes['guid:x-request-id'] === 'broken-ratings'),
    (s) => s.length >= 4);
  const toRatings = spans.find((s) => s.kind === 'CLIENT' && s.name === 'ratings:9080/*')!;
  assert.equal(toRatings.error, true);
  assert.equal(toRatings.attributes.error, 'true');
  assert.ok(Number(toRatings.attributes['http.status_code']) >= 500);
});

test('the OpenTelemetry service_name names the spans\' service, and long paths are cut at max_path_tag_length', async () => {
  const tracing = otelTracing(100, { max_path_tag_length: { value: 8 } });
  const typed = (tracing.provider as { typed_config: Record<string, unknown> }).typed_config;
  typed.service_name = 'bookinfo-frontend';
  const c = await startChain(tracing, staticCluster('otel-collector', [otlp.port]));
  chains.push(c);
  await send(c.entryPort, '/productpage/with/a/long/path', { host: 'productpage:9080', headers: { 'x-request-id': 'named-service' } });
  const spans = await waitFor('the spans', () => otlp.spans.filter((s) => s.attributes['guid:x-request-id'] === 'named-service'), (s) => s.length === 5);
  assert.deepEqual(new Set(spans.map((s) => s.service)), new Set(['bookinfo-frontend']));
  assert.equal(spans[0].attributes['http.url'].endsWith('/product'), true, spans[0].attributes['http.url']);
});
