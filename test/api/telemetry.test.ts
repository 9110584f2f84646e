// The Telemetry kind (telemetry.istio.io v1 and v1alpha1) and the mesh config fields for
// observability: valid resources load as written, each invalid field is an error naming the resource
// and the field, as Istio's validation reports them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { celSyntaxProblem, parseManifests, parseMeshConfig, validateResource } from '../../src/api/index.ts';
import { resolveKind } from '../../src/cli/kinds.ts';

const telemetry = (spec: unknown, apiVersion = 'telemetry.istio.io/v1') =>
  ({ apiVersion, kind: 'Telemetry', metadata: { name: 't', namespace: 'bookinfo' }, spec });
const errors = (spec: unknown) => validateResource(telemetry(spec)).errors.map((e) => e.text);

test('a Telemetry with tracing, metrics and access logging loads as written, in both API versions', () => {
  const text = `
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: reviews, namespace: bookinfo }
spec:
  selector: { matchLabels: { app: reviews } }
  tracing:
  - providers: [{ name: otel }]
    randomSamplingPercentage: 25.5
    disableSpanReporting: false
    customTags:
      team: { literal: { value: bookinfo } }
      pod: { environment: { name: POD_NAME, defaultValue: unknown } }
      user: { header: { name: x-user } }
  metrics:
  - providers: [{ name: prometheus }]
    reportingInterval: 10s
    overrides:
    - match: { metric: REQUEST_COUNT, mode: CLIENT }
      tagOverrides:
        response_flags: { operation: REMOVE }
        request_host: { value: request.host }
    - match: { customMetric: my_metric }
      disabled: true
  accessLogging:
  - match: { mode: SERVER }
    providers: [{ name: envoy }]
    filter: { expression: "response.code >= 400 || request.headers['x-debug'] == 'true'" }
---
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata: { name: mesh-default, namespace: istio-system }
spec:
  accessLogging: [{ providers: [{ name: envoy }] }]
`;
  const { resources, errors: errs } = parseManifests(text);
  assert.deepEqual(errs.map((e) => e.text), []);
  assert.equal(resources.length, 2);
  const spec = resources[0].spec as { tracing: { customTags: Record<string, unknown>; randomSamplingPercentage: number }[] };
  assert.equal(spec.tracing[0].randomSamplingPercentage, 25.5);
  assert.deepEqual(Object.keys(spec.tracing[0].customTags), ['team', 'pod', 'user']);
  assert.equal(resources[1].apiVersion, 'telemetry.istio.io/v1alpha1');
});

test('a Telemetry without a spec is accepted (it changes nothing), and the CLI knows it as telemetry', () => {
  const { errors: errs, resource } = validateResource({ apiVersion: 'telemetry.istio.io/v1', kind: 'Telemetry', metadata: { name: 'empty' } });
  assert.deepEqual(errs, []);
  assert.deepEqual(resource?.spec, {});
  assert.equal(resolveKind('telemetry'), 'Telemetry');
  assert.equal(resolveKind('telemetries'), 'Telemetry');
  assert.match(validateResource(telemetry({}, 'telemetry.istio.io/v2')).errors[0].text, /telemetry\.istio\.io\/v2 is not served for Telemetry/);
});

const rows: [what: string, spec: unknown, error: string][] = [
  ['a sampling percentage over 100', { tracing: [{ randomSamplingPercentage: 101 }] }, 'spec.tracing[0].randomSamplingPercentage: must be a number 0..100'],
  ['an empty provider name', { accessLogging: [{ providers: [{ name: '' }] }] }, 'spec.accessLogging[0].providers[0].name: a provider name may not be empty'],
  ['a provider without a name', { metrics: [{ providers: [{}] }] }, 'spec.metrics[0].providers[0].name: is required'],
  ['an UPSERT without a value', { metrics: [{ overrides: [{ tagOverrides: { source_app: { operation: 'UPSERT' } } }] }] },
    'spec.metrics[0].overrides[0].tagOverrides.source_app.value: must be set when operation is UPSERT'],
  ['a tag override with neither operation nor value (UPSERT by default)', { metrics: [{ overrides: [{ tagOverrides: { source_app: {} } }] }] },
    'spec.metrics[0].overrides[0].tagOverrides.source_app.value: must be set when operation is UPSERT'],
  ['a REMOVE with a value', { metrics: [{ overrides: [{ tagOverrides: { source_app: { operation: 'REMOVE', value: 'x' } } }] }] },
    'spec.metrics[0].overrides[0].tagOverrides.source_app.value: may only be set when operation is UPSERT'],
  ['an unknown metric', { metrics: [{ overrides: [{ match: { metric: 'REQUEST_TOTAL' } }] }] },
    'spec.metrics[0].overrides[0].match.metric: must be one of ALL_METRICS, REQUEST_COUNT, REQUEST_DURATION, REQUEST_SIZE, RESPONSE_SIZE, TCP_OPENED_CONNECTIONS, TCP_CLOSED_CONNECTIONS, TCP_SENT_BYTES, TCP_RECEIVED_BYTES, GRPC_REQUEST_MESSAGES, GRPC_RESPONSE_MESSAGES (got "REQUEST_TOTAL")'],
  ['both metric and customMetric', { metrics: [{ overrides: [{ match: { metric: 'REQUEST_COUNT', customMetric: 'x' } }] }] },
    'spec.metrics[0].overrides[0].match: only one of metric, customMetric may be set (found metric and customMetric)'],
  ['an empty customMetric', { metrics: [{ overrides: [{ match: { customMetric: '' } }] }] }, 'spec.metrics[0].overrides[0].match.customMetric: customMetric may not be empty'],
  ['an unknown workload mode', { accessLogging: [{ match: { mode: 'BOTH' } }] }, 'spec.accessLogging[0].match.mode: must be one of CLIENT_AND_SERVER, CLIENT, SERVER (got "BOTH")'],
  ['a filter that is not CEL', { accessLogging: [{ filter: { expression: 'response.code >=' } }] },
    'spec.accessLogging[0].filter.expression: must be a valid CEL expression: expected a value at the end of the expression'],
  ['an empty literal tag', { tracing: [{ customTags: { team: { literal: { value: '' } } } }] }, 'spec.tracing[0].customTags.team.literal.value: a literal tag value may not be empty'],
  ['a custom tag of two kinds', { tracing: [{ customTags: { t: { literal: { value: 'a' }, header: { name: 'x' } } } }] },
    'spec.tracing[0].customTags.t: only one of literal, environment, header, formatter may be set (found literal and header)'],
  ['a custom tag of no kind', { tracing: [{ customTags: { t: {} } }] }, 'spec.tracing[0].customTags.t: a custom tag must set one of literal, environment, header, formatter'],
  ['a reporting interval under 1ms', { metrics: [{ reportingInterval: '0s' }] }, 'spec.metrics[0].reportingInterval: must be at least 1ms'],
  ['a selector and a targetRef', { selector: { matchLabels: { app: 'a' } }, targetRef: { kind: 'Gateway', group: 'gateway.networking.k8s.io', name: 'gw' } },
    'spec: only one of selector, targetRef, targetRefs may be set (found selector and targetRef)'],
  ['a snake_case field', { access_logging: [] }, 'spec.access_logging: unknown field'],
];

for (const [what, spec, error] of rows) {
  test(`Telemetry validation: ${what} is an error naming the field`, () => {
    assert.deepEqual(errors(spec), [`Telemetry bookinfo/t: ${error}`]);
  });
}

test('access log filters are checked as CEL: the expressions of Istio\'s docs pass, broken ones are explained', () => {
  for (const ok of ['response.code >= 400', "response.code != 200 && request.headers['x-debug'] == 'true'", 'connection.mtls',
    '!(response.code < 500) || response.code in [401, 403]', "request.url_path.startsWith('/api') ? true : false"]) {
    assert.equal(celSyntaxProblem(ok), undefined, ok);
  }
  assert.equal(celSyntaxProblem(''), 'must be a CEL expression (it is empty)');
  assert.equal(celSyntaxProblem('(response.code'), 'must be a valid CEL expression: expected ")" at the end of the expression');
  assert.equal(celSyntaxProblem("request.headers['x"), 'must be a valid CEL expression: unterminated string starting at offset 16');
  assert.equal(celSyntaxProblem('response.code 400'), 'must be a valid CEL expression: unexpected "400" at offset 14');
  assert.equal(celSyntaxProblem('a # b'), 'must be a valid CEL expression: unexpected character "#" at offset 2');
});

test('the mesh config\'s observability fields are read (not reported as unused) and providers are typed', () => {
  const { config, errors: errs, warnings } = parseMeshConfig(`
accessLogFile: /dev/stdout
accessLogEncoding: JSON
accessLogFormat: '{"code": "%RESPONSE_CODE%"}'
enableTracing: true
defaultConfig:
  discoveryAddress: istiod.istio-system.svc:15012
  tracing: { sampling: 10, zipkin: { address: "zipkin.istio-system:9411" } }
defaultProviders: { tracing: [otel], metrics: [prometheus], accessLogging: [envoy] }
extensionProviders:
- name: otel
  opentelemetry: { service: otel.observability.svc.cluster.local, port: "4318", http: { path: /v1/traces, timeout: 2s } }
- name: zipkin
  zipkin: { service: zipkin.istio-system.svc.cluster.local, port: 9411, maxTagLength: 256 }
- name: file
  envoyFileAccessLog: { path: /var/log/access.log, logFormat: { labels: { code: "%RESPONSE_CODE%" } } }
- name: prometheus
  prometheus: {}
`, 'mesh.yaml');
  assert.deepEqual(errs.map(String), []);
  assert.deepEqual(warnings, ['defaultConfig.discoveryAddress: not used by Weft']);
  assert.equal(config.accessLogFile, '/dev/stdout');
  assert.equal(config.accessLogEncoding, 'JSON');
  assert.equal(config.accessLogFormat, '{"code": "%RESPONSE_CODE%"}');
  assert.equal(config.enableTracing, true);
  assert.deepEqual(config.tracing, { sampling: 10, zipkinAddress: 'zipkin.istio-system:9411' });
  assert.deepEqual(config.defaultProviders, { tracing: ['otel'], metrics: ['prometheus'], accessLogging: ['envoy'] });
  assert.equal(config.extensionProviders?.[0].opentelemetry?.port, 4318, 'a quoted port is read as a number');
  assert.equal(config.ignored, undefined);
});

test('mesh config observability errors name the field; a JSON format that does not parse falls back with a warning', () => {
  const { errors: errs } = parseMeshConfig(`
accessLogEncoding: XML
defaultConfig: { tracing: { sampling: -1, zipkin: { address: zipkin } } }
defaultProviders: { tracing: [""], logging: [envoy] }
extensionProviders:
- { name: z, zipkin: { port: 9411 } }
- { name: o, opentelemetry: { service: o.obs.svc.cluster.local, port: 4317, http: {}, grpc: {} } }
- { name: f, envoyFileAccessLog: { logFormat: { text: "%START_TIME%", labels: { a: b } } } }
`, 'mesh.yaml');
  assert.deepEqual(errs.map(String), [
    'mesh.yaml: MeshConfig: accessLogEncoding: must be one of TEXT, JSON (got "XML")',
    'mesh.yaml: MeshConfig: defaultConfig.tracing.sampling: must be a number >= 0',
    'mesh.yaml: MeshConfig: defaultConfig.tracing.zipkin.address: "zipkin" must be host:port with a port 1..65535',
    'mesh.yaml: MeshConfig: defaultProviders.tracing[0]: must not be empty',
    'mesh.yaml: MeshConfig: defaultProviders.logging: unknown field',
    'mesh.yaml: MeshConfig: extensionProviders[0].zipkin.service: is required',
    'mesh.yaml: MeshConfig: extensionProviders[1].opentelemetry: cannot specify both grpc and http',
    'mesh.yaml: MeshConfig: extensionProviders[2].envoyFileAccessLog.logFormat: only one of text, labels may be set (found text and labels)',
  ]);
  const fallback = parseMeshConfig('accessLogEncoding: JSON\naccessLogFormat: "%RESPONSE_CODE%"\n', 'mesh.yaml');
  assert.deepEqual(fallback.errors, []);
  assert.equal(fallback.config.accessLogFormat, undefined);
  assert.match(fallback.warnings[0], /^accessLogFormat: with accessLogEncoding JSON, must be a JSON object of format strings .*; the default JSON format is used$/);
});
