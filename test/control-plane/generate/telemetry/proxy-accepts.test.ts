// The contract between generator and proxy: listeners carrying tracing (OpenTelemetry and Zipkin),
// access logs (JSON and text, with a CEL filter) and the istio.stats filter, encoded with Envoy's
// protos as they go on the wire, are accepted by Weft's own proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { registerBuiltinHttpFilters } from '../../../../src/proxy/http/filters/index.ts';
import { compileListener } from '../../../../src/proxy/listener/listener-config.ts';
import { generate, hcm, roundTrip, tcpProxy } from './mesh.ts';

registerBuiltinHttpFilters();

const TELEMETRY = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: t, namespace: bookinfo }
spec:
  tracing:
  - randomSamplingPercentage: 50
    customTags: { team: { literal: { value: bookinfo } }, user: { header: { name: x-user } } }
  - match: { mode: CLIENT }
    providers: [{ name: zipkin }]
  accessLogging:
  - providers: [{ name: envoy }, { name: text }]
    filter: { expression: "response.code >= 400 || request.headers['x-debug'] == 'true'" }
  metrics:
  - overrides:
    - match: { metric: REQUEST_COUNT }
      tagOverrides: { response_flags: { operation: REMOVE }, request_host: { value: request.host } }
    - match: { metric: REQUEST_DURATION, mode: CLIENT }
      disabled: true
`;

const MESH = `
accessLogEncoding: JSON
defaultProviders: { tracing: [otel] }
extensionProviders:
- { name: otel, opentelemetry: { service: otel-collector.observability.svc.cluster.local, port: 4318, http: { path: /v1/traces, timeout: 1s } } }
- { name: zipkin, zipkin: { service: zipkin.istio-system.svc.cluster.local, port: 9411 } }
- { name: text, envoyFileAccessLog: { path: /dev/stdout, logFormat: { text: "%RESPONSE_CODE% %RESPONSE_FLAGS%" } } }
`;

test('the proxy accepts every listener the generator builds with tracing, access logs and metrics overrides', () => {
  const g = generate(TELEMETRY, MESH);
  assert.deepEqual(g.warnings, ['Telemetry bookinfo/t: spec.tracing: only the last entry that sets a value counts; multiple tracing entries are not fully supported']);
  // The listeners really carry the telemetry being checked.
  assert.equal(hcm(g, 'inbound|9080')?.tracing?.provider?.name, 'envoy.tracers.opentelemetry');
  assert.equal(hcm(g, 'outbound_http')?.tracing?.provider?.name, 'envoy.tracers.zipkin');
  assert.equal(hcm(g, 'outbound_http')?.access_log?.length, 2);
  assert.ok((hcm(g, 'outbound_http')?.http_filters as { name: string }[]).some((f) => f.name === 'istio.stats'));
  assert.equal(tcpProxy(g, 'inbound|9090')?.access_log?.length, 2);
  const context = { clusterExists: () => true, secrets: { get: () => undefined } } as unknown as Parameters<typeof compileListener>[1];
  for (const [name, listener] of g.listeners) {
    const spec = compileListener(roundTrip(listener), context);
    assert.equal(spec.name, name);
  }
});
