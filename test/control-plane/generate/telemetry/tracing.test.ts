// Tracing in generated config: which connection managers get Envoy's `tracing`, with which tracer,
// collector cluster, sampling percentage and custom tags, following Istio's Telemetry and mesh config.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generate, hcm, roundTrip, sidecar, type Json } from './mesh.ts';

const OTEL_MESH = `
defaultProviders: { tracing: [otel] }
extensionProviders:
- name: otel
  opentelemetry: { service: otel-collector.observability.svc.cluster.local, port: 4318, http: { path: /v1/traces, timeout: 2s } }
- name: zipkin
  zipkin: { service: zipkin.istio-system.svc.cluster.local, port: 9411 }
`;

test('without a tracing provider there is no tracing: no spans, trace headers pass through', () => {
  const g = generate('');
  assert.equal(hcm(g, 'inbound|9080')?.tracing, undefined);
  assert.equal(hcm(g, 'outbound_http')?.tracing, undefined);
  assert.deepEqual(g.warnings, []);
});

test('a default OpenTelemetry provider traces both sides over OTLP/HTTP to its collector cluster at 1%', () => {
  const g = generate('', OTEL_MESH);
  const expected = {
    provider: {
      name: 'envoy.tracers.opentelemetry',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig',
        http_service: {
          http_uri: {
            uri: 'http://otel-collector.observability.svc.cluster.local:4318/v1/traces',
            cluster: 'outbound|4318||otel-collector.observability.svc.cluster.local',
            timeout: { seconds: 2, nanos: 0 },
          },
        },
        service_name: 'reviews.bookinfo',
      },
    },
    random_sampling: { value: 1 },
  };
  assert.deepEqual(hcm(g, 'inbound|9080')?.tracing, expected);
  assert.deepEqual(hcm(g, 'outbound_http')?.tracing, expected);
  // Envoy's protos know every field.
  const decoded = roundTrip(g.listeners.get('inbound|9080')!).filter_chains[0].filters[0].typed_config as Json;
  assert.equal(decoded.tracing.provider.typed_config.http_service.http_uri.cluster, 'outbound|4318||otel-collector.observability.svc.cluster.local');
  assert.equal(decoded.tracing.provider.typed_config.service_name, 'reviews.bookinfo');
  assert.equal(decoded.tracing.random_sampling.value, 1);
});

test('Telemetry sampling and custom tags override the mesh defaults; the workload level wins', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  tracing: [{ randomSamplingPercentage: 50 }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: reviews, namespace: bookinfo }
spec:
  selector: { matchLabels: { app: reviews } }
  tracing:
  - randomSamplingPercentage: 100
    customTags:
      team: { literal: { value: bookinfo } }
      user: { header: { name: x-user, defaultValue: anonymous } }
      node: { environment: { name: NODE_NAME } }
`, `${OTEL_MESH}\ndefaultConfig: { tracing: { sampling: 10 } }\n`);
  const tracing = hcm(g, 'inbound|9080')?.tracing as Json;
  assert.deepEqual(tracing.random_sampling, { value: 100 });
  assert.deepEqual(tracing.custom_tags, [
    { tag: 'node', environment: { name: 'NODE_NAME', default_value: '' } },
    { tag: 'team', literal: { value: 'bookinfo' } },
    { tag: 'user', request_header: { name: 'x-user', default_value: 'anonymous' } },
  ]);
  const decoded = roundTrip(g.listeners.get('inbound|9080')!).filter_chains[0].filters[0].typed_config as Json;
  assert.equal(decoded.tracing.custom_tags.length, 3);
  assert.equal(decoded.tracing.custom_tags[2].request_header.default_value, 'anonymous');
});

test('defaultConfig.tracing.sampling is the percentage when no Telemetry sets one', () => {
  const g = generate('', `${OTEL_MESH}\ndefaultConfig: { tracing: { sampling: 10 } }\n`);
  assert.deepEqual(hcm(g, 'outbound_http')?.tracing?.random_sampling, { value: 10 });
});

test('a Telemetry picks a Zipkin provider for the client side only; the server side keeps the default', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: ns, namespace: bookinfo }
spec:
  tracing:
  - match: { mode: CLIENT }
    providers: [{ name: zipkin }]
`, OTEL_MESH);
  assert.deepEqual(hcm(g, 'outbound_http')?.tracing?.provider, {
    name: 'envoy.tracers.zipkin',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.config.trace.v3.ZipkinConfig',
      collector_cluster: 'outbound|9411||zipkin.istio-system.svc.cluster.local',
      collector_endpoint: '/api/v2/spans',
      collector_endpoint_version: 'HTTP_JSON',
      collector_hostname: 'zipkin.istio-system.svc.cluster.local',
      trace_id_128bit: true,
      shared_span_context: { value: false },
    },
  });
  assert.equal(hcm(g, 'inbound|9080')?.tracing?.provider?.name, 'envoy.tracers.opentelemetry');
  const decoded = roundTrip(g.listeners.get('outbound_http')!).filter_chains[0].filters[0].typed_config as Json;
  assert.equal(decoded.tracing.provider.typed_config.collector_endpoint_version, 'HTTP_JSON');
  assert.equal(decoded.tracing.provider.typed_config.trace_id_128bit, true);
});

test('disableSpanReporting turns tracing off for the selected workload only', () => {
  const telemetry = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: quiet, namespace: bookinfo }
spec:
  selector: { matchLabels: { app: reviews } }
  tracing: [{ disableSpanReporting: true }]
`;
  const g = generate(telemetry, OTEL_MESH);
  assert.equal(hcm(g, 'inbound|9080')?.tracing, undefined);
  assert.equal(hcm(g, 'outbound_http')?.tracing, undefined);
  const other = generate(telemetry, OTEL_MESH, sidecar({ labels: { app: 'ratings' }, workloadName: 'ratings-v1' }));
  assert.equal(hcm(other, 'inbound|9080')?.tracing?.provider?.typed_config?.service_name, 'ratings.bookinfo');
});

test('a Telemetry in another namespace does not apply', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: other, namespace: default }
spec:
  tracing: [{ providers: [{ name: otel }] }]
`, OTEL_MESH.replace('defaultProviders: { tracing: [otel] }', ''));
  assert.equal(hcm(g, 'inbound|9080')?.tracing, undefined);
});

test('enableTracing with a Zipkin address traces to that collector (Istio\'s mesh config without providers)', () => {
  const g = generate('', 'enableTracing: true\ndefaultConfig: { tracing: { sampling: 5, zipkin: { address: "zipkin.istio-system:9411" } } }\n');
  const tracing = hcm(g, 'inbound|9080')?.tracing as Json;
  assert.equal(tracing.provider.typed_config.collector_cluster, 'outbound|9411||zipkin.istio-system.svc.cluster.local');
  assert.deepEqual(tracing.random_sampling, { value: 5 });
  const off = generate('', 'enableTracing: true\n');
  assert.equal(hcm(off, 'inbound|9080')?.tracing, undefined);
  assert.match(off.warnings[0], /enableTracing: no tracer is configured/);
});

test('a provider whose collector is not a known service leaves tracing off, with a warning', () => {
  const g = generate('', `
defaultProviders: { tracing: [jaeger] }
extensionProviders:
- name: jaeger
  opentelemetry: { service: jaeger.observability.svc.cluster.local, port: 4318, http: {} }
- name: grpc-otel
  opentelemetry: { service: otel-collector.observability.svc.cluster.local, port: 4318 }
`);
  assert.equal(hcm(g, 'inbound|9080')?.tracing, undefined);
  assert.deepEqual(g.warnings, ['tracing provider "jaeger": jaeger.observability.svc.cluster.local:4318 is not a known service and port; tracing is off']);
  const grpc = generate('', 'defaultProviders: { tracing: [grpc-otel] }\nextensionProviders:\n- { name: grpc-otel, opentelemetry: { service: otel-collector.observability.svc.cluster.local, port: 4318 } }\n');
  assert.equal(hcm(grpc, 'inbound|9080')?.tracing, undefined);
  assert.match(grpc.warnings[0], /OpenTelemetry export over gRPC is not supported by Weft/);
  const missing = generate('apiVersion: telemetry.istio.io/v1\nkind: Telemetry\nmetadata: { name: t, namespace: bookinfo }\nspec: { tracing: [{ providers: [{ name: nope }] }] }\n');
  assert.deepEqual(missing.warnings, ['Telemetry bookinfo/t: tracing provider "nope" is not defined in the mesh config\'s extensionProviders; tracing is off']);
});

test('a gateway\'s connection managers trace as the client side', () => {
  const gateway = sidecar({ gateway: true, labels: { istio: 'ingressgateway' }, workloadName: 'ingress', namespace: 'istio-system', inbound: [] });
  const g = generate(`
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bookinfo, namespace: bookinfo }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh, namespace: istio-system }
spec:
  tracing:
  - match: { mode: SERVER }
    disableSpanReporting: true
`, OTEL_MESH, gateway);
  const tracing = hcm(g, '127.0.0.1_8080')?.tracing as Json;
  assert.equal(tracing.provider.typed_config.service_name, 'ingress.istio-system');
});
