// Istio's standard metrics, scraped by a real Prometheus from a running mesh: after N requests from
// productpage's sidecar to reviews, Prometheus counts N on both reporters, the request-duration
// histogram answers histogram_quantile, and the series carry Istio's labels with the values of both
// ends of each exchange (peer metadata exchanged between the sidecars).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertNoLeakedProcesses, waitFor } from '../../harness/process.ts';
import { httpCall, requests } from '../traffic/scenario.ts';
import { createConnection } from 'node:net';
import { prometheusMissing, proxiesJob } from './prometheus.ts';
import { startObservedMesh, type ObservedMesh } from './observed-mesh.ts';

const N = 37;
/** The labels of Istio's HTTP metrics (istio_requests_total, istio_request_duration_milliseconds, ...). */
export const httpLabels = [
  'reporter', 'source_workload', 'source_workload_namespace', 'source_principal', 'source_app', 'source_version',
  'destination_workload', 'destination_workload_namespace', 'destination_principal', 'destination_app', 'destination_version',
  'destination_service', 'destination_service_name', 'destination_service_namespace',
  'request_protocol', 'response_code', 'grpc_response_status', 'response_flags', 'connection_security_policy',
];
/** The TCP metrics carry the same peer labels, without the request-level ones. */
export const tcpLabels = httpLabels.filter((l) => !['request_protocol', 'response_code', 'grpc_response_status'].includes(l));

let m: ObservedMesh;
const reviews = (path: string) => httpCall(m.productpage.outboundPort, path, { host: 'reviews:9080' });

before(async () => {
  if (prometheusMissing) return;
  m = await startObservedMesh();
  await waitFor('reviews answering through the sidecars', async () => (await reviews('/warmup')).status === 200);
  await m.prometheus.waitForTargetsUp(proxiesJob);
});
after(async () => {
  await m?.stop();
  assertNoLeakedProcesses();
});

const reviewsTotal = (reporter: string) => `sum(istio_requests_total{reporter="${reporter}",destination_service_name="reviews"})`;

test(`after ${N} requests to reviews, Prometheus counts ${N} more on both reporters`, { skip: prometheusMissing }, async () => {
  // The warm-up requests are counted too: measure the increase from what Prometheus holds now.
  await m.prometheus.waitForScrapesAfter(proxiesJob);
  const before = {
    destination: (await m.prometheus.value(reviewsTotal('destination'))) ?? 0,
    source: (await m.prometheus.value(reviewsTotal('source'))) ?? 0,
  };
  const replies = await requests(N, 4, () => reviews('/reviews/0'));
  assert.deepEqual(replies.filter((r) => r.status !== 200).map((r) => r.status), []);
  await waitFor(`Prometheus to count ${N} more requests to reviews`, async () => {
    const dest = await m.prometheus.value(reviewsTotal('destination'));
    const src = await m.prometheus.value(reviewsTotal('source'));
    if (dest === before.destination + N && src === before.source + N) return true;
    throw new Error(`destination ${dest} (want ${before.destination + N}), source ${src} (want ${before.source + N})`);
  }, 15_000, 250);
});

test('the spec query sum(istio_requests_total{reporter="destination",destination_service_name="reviews"}) counts every request', { skip: prometheusMissing }, async () => {
  // A fresh count from zero: the warm-up, the previous test's and these requests, all answered 200.
  const sent = await m.reviews[0].served() + await m.reviews[1].served();
  await m.prometheus.waitForScrapesAfter(proxiesJob);
  assert.equal(await m.prometheus.value(reviewsTotal('destination')), sent, 'every request the reviews apps served is counted once by the destination sidecars');
});

test('histogram_quantile(0.99, ...) over istio_request_duration_milliseconds returns a number', { skip: prometheusMissing }, async () => {
  await requests(20, 4, () => reviews('/reviews/1'));
  const q = 'histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket[1m])) by (le))';
  const value = await waitFor(`${q} to be a number`, async () => {
    const v = await m.prometheus.value(q);
    if (v !== undefined && Number.isFinite(v)) return v;
    throw new Error(`got ${v}`);
  }, 15_000, 250);
  assert.ok(value >= 0, `p99 ${value} ms`);
  // Istio's buckets (milliseconds): 0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, ...
  const les = new Set((await m.prometheus.series('istio_request_duration_milliseconds_bucket{destination_service_name="reviews"}')).map((s) => s.le));
  for (const le of ['0.5', '1', '5', '10', '25', '50', '100', '250', '500', '1000', '2500', '5000', '10000', '30000', '60000', '300000', '600000', '1800000', '3600000', '+Inf']) {
    assert.ok(les.has(le), `bucket le="${le}" of Istio's histogram is present (have ${[...les].join(', ')})`);
  }
});

test('request series carry every Istio label, with the values of both ends', { skip: prometheusMissing }, async () => {
  const identity = 'spiffe://cluster.local/ns/default/sa/default';
  const expected: Record<string, string | RegExp> = {
    source_workload: 'productpage-v1', source_workload_namespace: 'default', source_app: 'productpage', source_version: 'v1',
    destination_workload: /^reviews-v[12]-\d+$/, destination_workload_namespace: 'default', destination_app: 'reviews',
    destination_version: /^v[12]$/, destination_service: 'reviews.default.svc.cluster.local', destination_service_name: 'reviews',
    destination_service_namespace: 'default', request_protocol: 'http', response_flags: '-',
    // Sidecar to sidecar traffic is mutual TLS: each end knows the other by its certificate (Istio
    // reports connection_security_policy "unknown" on the source side, which does not terminate TLS).
    destination_principal: identity, source_principal: identity,
  };
  const problems: string[] = [];
  for (const reporter of ['source', 'destination']) {
    const want: Record<string, string | RegExp> = { ...expected, reporter, ...(reporter === 'destination' ? { connection_security_policy: 'mutual_tls' } : {}) };
    for (const metric of ['istio_requests_total', 'istio_request_duration_milliseconds_bucket', 'istio_request_bytes_bucket', 'istio_response_bytes_bucket']) {
      const series = await m.prometheus.series(`${metric}{reporter="${reporter}",destination_service_name="reviews",response_code="200"}`);
      if (series.length === 0) { problems.push(`${metric} (reporter=${reporter}): no series for reviews`); continue; }
      const s = series[0];
      // Prometheus drops labels whose value is empty; grpc_response_status is empty for plain HTTP.
      const missing = httpLabels.filter((l) => s[l] === undefined && l !== 'grpc_response_status');
      if (missing.length > 0) problems.push(`${metric} (reporter=${reporter}): no label ${missing.join(', ')}`);
      for (const [label, value] of Object.entries(want)) {
        const ok = value instanceof RegExp ? value.test(s[label] ?? '') : s[label] === value;
        if (!ok && s[label] !== undefined) problems.push(`${metric} (reporter=${reporter}): ${label}="${s[label]}", want ${value instanceof RegExp ? String(value) : `"${value}"`}`);
      }
    }
  }
  assert.deepEqual(problems, []);
  // Both versions of reviews are told apart.
  const versions = new Set((await m.prometheus.vector('sum by (destination_version) (istio_requests_total{reporter="destination",destination_service_name="reviews"})')).map((s) => s.metric.destination_version));
  assert.deepEqual([...versions].sort(), ['v1', 'v2']);
  // grpc_response_status is present in the exposition even when empty (Prometheus drops it on ingest).
  const text = await (await fetch(`http://127.0.0.1:${m.reviews[0].proxy.ready.adminPort}/stats/prometheus`)).text();
  const line = text.split('\n').find((l) => l.startsWith('istio_requests_total{'));
  assert.ok(line, 'the reviews sidecar exposes istio_requests_total');
  assert.match(line, /grpc_response_status="/);
});

test('a failing upstream shows as response_code 503 with the reporter that saw it', { skip: prometheusMissing }, async () => {
  await m.reviews[0].control({ failStatus: 503 });
  await m.reviews[1].control({ failStatus: 503 });
  try {
    const replies = await requests(6, 2, () => reviews('/reviews/fail'));
    assert.ok(replies.every((r) => r.status === 503));
  } finally {
    await m.reviews[0].control({ failStatus: 0 });
    await m.reviews[1].control({ failStatus: 0 });
  }
  await waitFor('503s counted by the destination sidecars', async () =>
    ((await m.prometheus.value('sum(istio_requests_total{reporter="destination",destination_service_name="reviews",response_code="503"})')) ?? 0) >= 6, 15_000, 250);
});

test('TCP connections and bytes are counted with the peer labels', { skip: prometheusMissing }, async () => {
  const greeting = await new Promise<string>((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: m.productpage.tcpPort(27017) });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      text += d;
      if (text.includes('ping')) socket.end();
    });
    socket.once('connect', () => socket.write('ping\n'));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(greeting, /^mongodb-v1\n/);
  for (const metric of ['istio_tcp_connections_opened_total', 'istio_tcp_connections_closed_total', 'istio_tcp_sent_bytes_total', 'istio_tcp_received_bytes_total']) {
    await waitFor(`${metric} for mongodb on both reporters`, async () => {
      const reporters = (await m.prometheus.vector(`sum by (reporter) (${metric}{destination_service_name="mongodb"})`)).filter((s) => Number(s.value[1]) > 0).map((s) => s.metric.reporter).sort();
      if (reporters.join() === 'destination,source') return true;
      const inbound = await m.prometheus.series(`${metric}{reporter="destination"}`);
      throw new Error(`reporters with a non-zero ${metric}: ${JSON.stringify(reporters)}; reporter="destination" series: ${JSON.stringify(inbound)}`);
    }, 15_000, 250);
    const s = (await m.prometheus.series(`${metric}{reporter="destination",destination_service_name="mongodb"}`))[0];
    const missing = tcpLabels.filter((l) => s[l] === undefined);
    assert.deepEqual(missing, [], `${metric} lacks labels; has ${JSON.stringify(s)}`);
    assert.equal(s.destination_app, 'mongodb');
    assert.equal(s.destination_service, 'mongodb.default.svc.cluster.local', 'the server side knows the service it serves');
    const source = (await m.prometheus.series(`${metric}{reporter="source",destination_service_name="mongodb"}`))[0];
    assert.equal(source.source_workload, 'productpage-v1');
    assert.equal(source.destination_workload.startsWith('mongodb'), true, `the client side knows the destination workload: ${source.destination_workload}`);
  }
});

// TCP metadata exchange (ALPN istio-peer-exchange and a preamble between the two sidecars).
test('TCP: the server side knows the client workload from the metadata exchange', { skip: prometheusMissing }, async () => {
  const s = (await m.prometheus.series('istio_tcp_connections_opened_total{reporter="destination",destination_service_name="mongodb"}'))[0];
  assert.equal(s?.source_workload, 'productpage-v1');
  assert.equal(s?.source_workload_namespace, 'default');
});

test('every sidecar exports the Node.js process metrics that stand in for go_* and container_*', { skip: prometheusMissing }, async () => {
  const rss = await m.prometheus.vector(`process_resident_memory_bytes{job="${proxiesJob}"}`);
  assert.ok(rss.length >= 4, `one series per sidecar: ${rss.length}`);
  assert.ok(rss.every((s) => Number(s.value[1]) > 10e6), 'resident memory is a real figure');
  assert.ok((await m.prometheus.vector(`nodejs_eventloop_lag_seconds{job="${proxiesJob}"}`)).length >= 4);
});
