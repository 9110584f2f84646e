// Access logs in generated config: off by default; on for every listener with the mesh's
// accessLogFile (Istio's TEXT or JSON format, or the operator's); chosen per side by Telemetry
// accessLogging with file providers, CEL filters and `disabled`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromStruct } from '../../../../src/xds/struct.ts';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from '../../../../src/control-plane/generate/telemetry/access-log-formats.ts';
import { generate, hcm, roundTrip, sidecar, tcpProxy, type Json } from './mesh.ts';

const paths = (logs: Json[] | undefined) => (logs ?? []).map((l) => l.typed_config.path);

test('access logs are off by default', () => {
  const g = generate('');
  for (const name of ['inbound|9080', 'outbound_http']) assert.equal(hcm(g, name)?.access_log, undefined);
  assert.equal(tcpProxy(g, 'inbound|9090')?.access_log, undefined);
});

test('accessLogFile logs every HTTP and TCP listener to that file in Istio\'s text format', () => {
  const g = generate('', 'accessLogFile: /dev/stdout\n');
  const expected = [{
    name: 'envoy.access_loggers.file',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
      path: '/dev/stdout',
      log_format: { text_format_source: { inline_string: ISTIO_TEXT_FORMAT } },
    },
  }];
  assert.deepEqual(hcm(g, 'inbound|9080')?.access_log, expected);
  assert.deepEqual(hcm(g, 'outbound_http')?.access_log, expected);
  assert.deepEqual(tcpProxy(g, 'inbound|9090')?.access_log, expected);
  assert.ok(ISTIO_TEXT_FORMAT.endsWith('%ROUTE_NAME%\n'));
  const decoded = roundTrip(g.listeners.get('inbound|9090')!).filter_chains[0].filters[0].typed_config as Json;
  assert.equal(decoded.access_log[0].typed_config.log_format.text_format_source.inline_string, ISTIO_TEXT_FORMAT);
});

test('accessLogEncoding JSON logs Istio\'s JSON fields, sent as a protobuf Struct', () => {
  const g = generate('', 'accessLogFile: /tmp/access.log\naccessLogEncoding: JSON\n');
  const log = hcm(g, 'inbound|9080')?.access_log?.[0] as Json;
  assert.equal(log.typed_config.path, '/tmp/access.log');
  assert.ok(log.typed_config.log_format.json_format.fields, 'json_format is in Struct form');
  assert.deepEqual(fromStruct(log.typed_config.log_format.json_format), ISTIO_JSON_FORMAT);
  assert.equal(ISTIO_JSON_FORMAT.response_flags, '%RESPONSE_FLAGS%');
  const decoded = roundTrip(g.listeners.get('inbound|9080')!).filter_chains[0].filters[0].typed_config as Json;
  assert.deepEqual(fromStruct(decoded.access_log[0].typed_config.log_format.json_format), ISTIO_JSON_FORMAT);
});

test('the operator\'s accessLogFormat replaces Istio\'s, in text (newline added) and JSON', () => {
  const text = generate('', 'accessLogFile: /dev/stdout\naccessLogFormat: "%RESPONSE_CODE% %REQ(:PATH)%"\n');
  assert.deepEqual(hcm(text, 'inbound|9080')?.access_log?.[0].typed_config.log_format, { text_format_source: { inline_string: '%RESPONSE_CODE% %REQ(:PATH)%\n' } });
  const json = generate('', `accessLogFile: /dev/stdout\naccessLogEncoding: JSON\naccessLogFormat: '{"code": "%RESPONSE_CODE%", "flags": "%RESPONSE_FLAGS%"}'\n`);
  assert.deepEqual(fromStruct(hcm(json, 'inbound|9080')?.access_log?.[0].typed_config.log_format.json_format), { code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%' });
});

test('Telemetry accessLogging: a mesh-wide `envoy` provider, a server-side filter and the client side turned off', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  accessLogging: [{ providers: [{ name: envoy }] }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: reviews, namespace: bookinfo }
spec:
  selector: { matchLabels: { app: reviews } }
  accessLogging:
  - match: { mode: SERVER }
    providers: [{ name: envoy }]
    filter: { expression: "response.code >= 400" }
  - match: { mode: CLIENT }
    disabled: true
`, 'accessLogEncoding: JSON\n');
  assert.deepEqual(g.warnings, []);
  assert.equal(hcm(g, 'outbound_http')?.access_log, undefined);
  const server = hcm(g, 'inbound|9080')?.access_log as Json[];
  assert.deepEqual(paths(server), ['/dev/stdout']);
  assert.deepEqual(server[0].filter, {
    extension_filter: {
      name: 'envoy.access_loggers.extension_filters.cel',
      typed_config: { '@type': 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter', expression: 'response.code >= 400' },
    },
  });
  // The built-in provider writes in the mesh's encoding.
  assert.deepEqual(fromStruct(server[0].typed_config.log_format.json_format), ISTIO_JSON_FORMAT);
  assert.deepEqual(tcpProxy(g, 'inbound|9090')?.access_log, server);
  const decoded = roundTrip(g.listeners.get('inbound|9080')!).filter_chains[0].filters[0].typed_config as Json;
  assert.equal(decoded.access_log[0].filter.extension_filter.typed_config.expression, 'response.code >= 400');
});

test('a Telemetry naming a file provider replaces the mesh-wide provider; labels become the JSON format', () => {
  const mesh = `
defaultProviders: { accessLogging: [envoy] }
extensionProviders:
- name: audit
  envoyFileAccessLog: { path: /var/log/audit.log, logFormat: { labels: { code: "%RESPONSE_CODE%", peer: "%DOWNSTREAM_PEER_URI_SAN%" } } }
- name: plain
  envoyFileAccessLog: { path: /var/log/plain.log, logFormat: { text: "%RESPONSE_CODE%" } }
`;
  const byDefault = generate('', mesh);
  assert.deepEqual(paths(hcm(byDefault, 'inbound|9080')?.access_log), ['/dev/stdout']);
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: ns, namespace: bookinfo }
spec:
  accessLogging: [{ providers: [{ name: plain }, { name: audit }] }]
`, mesh);
  const logs = hcm(g, 'inbound|9080')?.access_log as Json[];
  assert.deepEqual(paths(logs), ['/var/log/audit.log', '/var/log/plain.log'], 'sorted by provider name, the default provider replaced');
  assert.deepEqual(fromStruct(logs[0].typed_config.log_format.json_format), { code: '%RESPONSE_CODE%', peer: '%DOWNSTREAM_PEER_URI_SAN%' });
  assert.deepEqual(logs[1].typed_config.log_format, { text_format_source: { inline_string: '%RESPONSE_CODE%\n' } });
});

test('a Telemetry selecting other workloads, or naming an unknown provider, changes nothing here', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: ratings, namespace: bookinfo }
spec:
  selector: { matchLabels: { app: ratings } }
  accessLogging: [{ providers: [{ name: envoy }] }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: ns, namespace: bookinfo }
spec:
  accessLogging: [{ providers: [{ name: splunk }] }]
`);
  assert.equal(hcm(g, 'inbound|9080')?.access_log, undefined);
  assert.deepEqual(g.warnings, ['access log provider "splunk" is not defined in the mesh config\'s extensionProviders; nothing is logged to it']);
});

test('only the first namespace-wide Telemetry of a namespace applies, as in Istio', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: first, namespace: bookinfo }
spec:
  accessLogging: [{ providers: [{ name: envoy }] }]
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: second, namespace: bookinfo }
spec:
  accessLogging: [{ disabled: true }]
`);
  assert.deepEqual(paths(hcm(g, 'inbound|9080')?.access_log), ['/dev/stdout']);
  assert.deepEqual(g.warnings, ['Telemetry bookinfo/second: namespace bookinfo already has Telemetry bookinfo/first without a selector; only that one applies']);
});

test('a filter in an entry that names no provider is not used (as in Istio), and the operator is told', () => {
  const g = generate(`
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: reviews, namespace: bookinfo }
spec:
  accessLogging:
  - filter: { expression: "response.code >= 500" }
`, 'defaultProviders: { accessLogging: [envoy] }\n');
  const logs = hcm(g, 'inbound|9080')?.access_log as Json[];
  assert.deepEqual(paths(logs), ['/dev/stdout']);
  assert.equal(logs[0].filter, undefined);
  assert.deepEqual(g.warnings, ['Telemetry bookinfo/reviews: spec.accessLogging[0].filter applies only to the providers the same entry names (as in Istio); it names none, so the filter is not used']);
});

test('a gateway logs its HTTP and TCP servers as the client side', () => {
  const gateway = sidecar({ gateway: true, labels: { istio: 'ingressgateway' }, workloadName: 'ingress', namespace: 'istio-system', inbound: [] });
  const g = generate(`
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: bookinfo, namespace: bookinfo }
spec:
  selector: { istio: ingressgateway }
  servers:
  - { port: { number: 8080, name: http, protocol: HTTP }, hosts: ["*"] }
  - { port: { number: 9090, name: tcp, protocol: TCP }, hosts: ["*"] }
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: mesh, namespace: istio-system }
spec:
  accessLogging:
  - match: { mode: CLIENT }
    providers: [{ name: envoy }]
`, '', gateway);
  assert.deepEqual(paths(hcm(g, '127.0.0.1_8080')?.access_log), ['/dev/stdout']);
  assert.deepEqual(paths(tcpProxy(g, '127.0.0.1_9090')?.access_log), ['/dev/stdout']);
});
