// Metrics overrides in generated config: Telemetry metrics → the `istio.stats` HTTP filter (before
// the router) with Istio's stats PluginConfig, per side; none without overrides (metrics stay on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromStruct } from '../../../../src/xds/struct.ts';
import { generate, hcm, roundTrip, type Generated, type Json } from './mesh.ts';

const httpFilterNames = (g: Generated, listener: string) => (hcm(g, listener)?.http_filters as Json[]).map((f) => f.name);
const pluginConfig = (g: Generated, listener: string) => {
  const f = (hcm(g, listener)?.http_filters as Json[]).find((x) => x.name === 'istio.stats');
  return f === undefined ? undefined : fromStruct(f.typed_config.value);
};

const telemetry = (namespace: string, spec: string, selector = '') => `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: t-${namespace}${selector ? '-w' : ''}, namespace: ${namespace} }
spec:
${selector ? `  selector: { matchLabels: ${selector} }\n` : ''}${spec}
---`;

test('without metrics overrides there is no istio.stats filter: the standard metrics are on as they are', () => {
  const g = generate(telemetry('bookinfo', '  accessLogging: [{ providers: [{ name: envoy }] }]'));
  assert.ok(!httpFilterNames(g, 'inbound|9080').includes('istio.stats'));
  assert.ok(!httpFilterNames(g, 'outbound_http').includes('istio.stats'));
});

test('tag overrides become dimensions and tags_to_remove of Istio\'s metric names, in a TypedStruct before the router', () => {
  const g = generate(telemetry('bookinfo', `  metrics:
  - overrides:
    - match: { metric: REQUEST_COUNT }
      tagOverrides:
        response_flags: { operation: REMOVE }
        request_host: { value: request.host }
    - match: { metric: TCP_SENT_BYTES, mode: SERVER }
      tagOverrides:
        source_app: { operation: REMOVE }`));
  assert.deepEqual(httpFilterNames(g, 'inbound|9080').slice(-2), ['istio.stats', 'envoy.filters.http.router']);
  assert.deepEqual(httpFilterNames(g, 'outbound_http'), ['envoy.filters.http.fault', 'envoy.filters.http.cors', 'istio.stats', 'envoy.filters.http.router']);
  const filter = (hcm(g, 'inbound|9080')?.http_filters as Json[]).find((x) => x.name === 'istio.stats')!;
  assert.equal(filter.is_optional, true);
  assert.equal(filter.typed_config['@type'], 'type.googleapis.com/xds.type.v3.TypedStruct');
  assert.equal(filter.typed_config.type_url, 'type.googleapis.com/stats.PluginConfig');
  assert.deepEqual(pluginConfig(g, 'inbound|9080'), { metrics: [
    { name: 'requests_total', dimensions: { request_host: 'request.host' }, tags_to_remove: ['response_flags'] },
    { name: 'tcp_sent_bytes_total', tags_to_remove: ['source_app'] },
  ] });
  assert.deepEqual(pluginConfig(g, 'outbound_http'), { metrics: [
    { name: 'requests_total', dimensions: { request_host: 'request.host' }, tags_to_remove: ['response_flags'] },
  ] });
  // The TypedStruct survives Envoy's protos.
  const decoded = roundTrip(g.listeners.get('inbound|9080')!).filter_chains[0].filters[0].typed_config as Json;
  const stats = (decoded.http_filters as Json[]).find((x) => x.name === 'istio.stats')!;
  assert.equal(stats.is_optional, true);
});

test('overrides accumulate from the mesh through the namespace to the workload, later ones winning', () => {
  const g = generate([
    telemetry('istio-system', `  metrics:
  - overrides:
    - tagOverrides:
        request_protocol: { operation: REMOVE }
        destination_port: { value: destination.port }`),
    telemetry('bookinfo', `  metrics:
  - overrides:
    - match: { metric: REQUEST_DURATION, mode: CLIENT }
      disabled: true
    - match: { metric: REQUEST_COUNT }
      tagOverrides:
        request_protocol: { value: "'http'" }`),
    telemetry('bookinfo', `  metrics:
  - overrides:
    - match: { metric: ALL_METRICS, mode: SERVER }
      tagOverrides:
        destination_port: { operation: REMOVE }`, '{ app: reviews }'),
  ].join('\n'));
  assert.deepEqual(pluginConfig(g, 'outbound_http'), { metrics: [
    { name: '', dimensions: { destination_port: 'destination.port' }, tags_to_remove: ['request_protocol'] },
    { name: 'request_duration_milliseconds', dimensions: { destination_port: 'destination.port' }, tags_to_remove: ['request_protocol'], drop: true },
    { name: 'requests_total', dimensions: { destination_port: 'destination.port', request_protocol: "'http'" } },
  ] });
  assert.deepEqual(pluginConfig(g, 'inbound|9080'), { metrics: [
    { name: '', tags_to_remove: ['destination_port', 'request_protocol'] },
    { name: 'requests_total', dimensions: { request_protocol: "'http'" }, tags_to_remove: ['destination_port'] },
  ] });
});

test('disabling ALL_METRICS drops every metric of that side only', () => {
  const g = generate(telemetry('bookinfo', `  metrics:
  - overrides:
    - match: { metric: ALL_METRICS, mode: CLIENT }
      disabled: true`));
  assert.deepEqual(pluginConfig(g, 'outbound_http'), { metrics: [{ name: '', drop: true }] });
  assert.equal(pluginConfig(g, 'inbound|9080'), undefined);
});

test('overrides for a provider that is not Prometheus do not touch the proxy\'s metrics', () => {
  const g = generate(telemetry('bookinfo', `  metrics:
  - providers: [{ name: stackdriver }]
    overrides:
    - tagOverrides:
        request_protocol: { operation: REMOVE }`), 'extensionProviders: [{ name: stackdriver, stackdriver: {} }]\n');
  assert.equal(pluginConfig(g, 'inbound|9080'), undefined);
  const named = generate(telemetry('bookinfo', `  metrics:
  - providers: [{ name: prom }]
    reportingInterval: 15s
    overrides:
    - tagOverrides:
        request_protocol: { operation: REMOVE }`), 'extensionProviders: [{ name: prom, prometheus: {} }]\n');
  assert.deepEqual(pluginConfig(named, 'inbound|9080'), { metrics: [{ name: '', tags_to_remove: ['request_protocol'] }], tcp_reporting_duration: '15s' });
});
