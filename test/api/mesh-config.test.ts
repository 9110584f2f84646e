// The mesh config (Istio's MeshConfig): the fields Weft acts on are read and validated, the other
// MeshConfig fields load with a "not used by Weft" warning, and anything else is an error naming
// its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_ROOT_NAMESPACE, DEFAULT_TRUST_DOMAIN, parseMeshConfig } from '../../src/api/index.ts';

const errorTexts = (text: string) => parseMeshConfig(text, 'mesh.yaml').errors.map((e) => e.text);

// The meshConfig of Istio's demo profile (manifests/helm-profiles/demo.yaml), as written there.
const ISTIO_DEMO_MESH = `
accessLogFile: /dev/stdout
extensionProviders:
  - name: otel
    envoyOtelAls:
      service: opentelemetry-collector.observability.svc.cluster.local
      port: 4317
  - name: skywalking
    skywalking:
      service: tracing.istio-system.svc.cluster.local
      port: 11800
  - name: otel-tracing
    opentelemetry:
      port: 4317
      service: opentelemetry-collector.observability.svc.cluster.local
  - name: jaeger
    opentelemetry:
      port: 4317
      service: jaeger-collector.istio-system.svc.cluster.local
`;

// An external authorizer as Istio's ext-authz task configures it (the port quoted, as its docs write it).
const EXT_AUTHZ_MESH = `
trustDomain: example.org
trustDomainAliases: [old.example.org, cluster.local]
rootNamespace: mesh-root
pathNormalization:
  normalization: MERGE_SLASHES
extensionProviders:
- name: "sample-ext-authz-http"
  envoyExtAuthzHttp:
    service: "ext-authz.foo.svc.cluster.local"
    port: "8000"
    timeout: 250ms
    pathPrefix: /check
    failOpen: false
    statusOnError: "503"
    includeRequestHeadersInCheck: ["x-ext-authz"]
    includeAdditionalHeadersInCheck:
      x-ext-authz-additional-header-new: additional-header-new-value
    headersToUpstreamOnAllow: ["x-ext-authz-*"]
    headersToDownstreamOnDeny: ["x-ext-authz-*"]
    headersToDownstreamOnAllow: ["set-cookie"]
    includeRequestBodyInCheck: { maxRequestBytes: 4096, allowPartialMessage: true }
`;

test('Istio\'s demo profile mesh config loads: its providers and access log file are kept', () => {
  const { config, errors, warnings } = parseMeshConfig(ISTIO_DEMO_MESH, 'demo.yaml');
  assert.deepEqual(errors.map(String), []);
  assert.deepEqual(config.extensionProviders?.map((p) => p.name), ['otel', 'skywalking', 'otel-tracing', 'jaeger']);
  assert.deepEqual(config.extensionProviders?.[2].opentelemetry, { port: 4317, service: 'opentelemetry-collector.observability.svc.cluster.local' });
  assert.equal(config.accessLogFile, '/dev/stdout');
  assert.equal(config.ignored, undefined);
  assert.deepEqual(warnings, []);
});

test('an external authorizer over HTTP is read with the types of Istio\'s API', () => {
  const { config, errors, warnings } = parseMeshConfig(EXT_AUTHZ_MESH, 'mesh.yaml');
  assert.deepEqual(errors.map(String), []);
  assert.deepEqual(warnings, []);
  assert.equal(config.trustDomain, 'example.org');
  assert.deepEqual(config.trustDomainAliases, ['old.example.org', 'cluster.local']);
  assert.equal(config.rootNamespace, 'mesh-root');
  assert.equal(config.pathNormalization, 'MERGE_SLASHES');
  const [provider] = config.extensionProviders ?? [];
  assert.equal(provider.name, 'sample-ext-authz-http');
  assert.equal(provider.envoyExtAuthzHttp?.port, 8000);
  assert.equal(provider.envoyExtAuthzHttp?.statusOnError, '503');
  assert.equal(provider.envoyExtAuthzHttp?.timeout, '250ms');
  assert.deepEqual(provider.envoyExtAuthzHttp?.includeRequestBodyInCheck, { maxRequestBytes: 4096, allowPartialMessage: true });
});

test('an unquoted statusOnError is read as the string Istio\'s API has', () => {
  const { config, errors } = parseMeshConfig('extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b.svc.cluster.local, port: 80, statusOnError: 403 } }]', 'm');
  assert.deepEqual(errors, []);
  assert.equal(config.extensionProviders?.[0].envoyExtAuthzHttp?.statusOnError, '403');
});

test('an empty mesh config is valid and leaves Istio\'s defaults to the reader', () => {
  assert.deepEqual(parseMeshConfig('', 'mesh.yaml'), { config: {}, errors: [], warnings: [] });
  assert.deepEqual(parseMeshConfig('# nothing here\n', 'mesh.yaml'), { config: {}, errors: [], warnings: [] });
  assert.equal(DEFAULT_TRUST_DOMAIN, 'cluster.local');
  assert.equal(DEFAULT_ROOT_NAMESPACE, 'istio-system');
});

test('Istio\'s DEFAULT path normalization is read as BASE, which is what it means', () => {
  assert.equal(parseMeshConfig('pathNormalization: { normalization: DEFAULT }', 'm').config.pathNormalization, 'BASE');
  assert.equal(parseMeshConfig('pathNormalization: {}', 'm').config.pathNormalization, 'BASE');
  assert.equal(parseMeshConfig('pathNormalization: { normalization: NONE }', 'm').config.pathNormalization, 'NONE');
});

test('the istio ConfigMap itself is accepted: its mesh key is read', () => {
  const configMap = `
apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
    trustDomain: corp.example
    enableTracing: true
    defaultConfig:
      discoveryAddress: istiod.istio-system.svc:15012
`;
  const { config, errors, warnings } = parseMeshConfig(configMap, 'istio-cm.yaml');
  assert.deepEqual(errors, []);
  assert.equal(config.trustDomain, 'corp.example');
  assert.deepEqual(warnings, ['defaultConfig.discoveryAddress: not used by Weft']);
  assert.deepEqual(parseMeshConfig('apiVersion: v1\nkind: ConfigMap\ndata: {}\n', 'cm.yaml').errors.map(String), [
    'cm.yaml: MeshConfig: data.mesh: is required (the mesh config as YAML text)',
  ]);
});

test('every known MeshConfig field loads with a warning, and an unknown one is an error naming it', () => {
  const { errors, warnings } = parseMeshConfig(`
enableAutoMtls: true
outboundTrafficPolicy: { mode: REGISTRY_ONLY }
defaultProviders: { tracing: [jaeger] }
discoverySelectors: [{ matchLabels: { env: prod } }]
protocolDetectionTimeout: 0s
trustDomian: typo.example
`, 'mesh.yaml');
  assert.deepEqual(errors.map(String), ['mesh.yaml: MeshConfig: trustDomian: unknown field']);
  assert.deepEqual(warnings, [
    'enableAutoMtls: not used by Weft', 'outboundTrafficPolicy: not used by Weft',
    'discoverySelectors: not used by Weft', 'protocolDetectionTimeout: not used by Weft',
  ]);
});

// Field by field: a bad value and the exact error.
const rows: [field: string, yaml: string, error: string][] = [
  ['trustDomain', 'trustDomain: "corp_example"', 'trustDomain: "corp_example" is not a valid trust domain (label "corp_example" is invalid)'],
  ['trustDomain', 'trustDomain: ""', 'trustDomain: must not be empty'],
  ['trustDomainAliases', 'trustDomainAliases: ["a..b"]', 'trustDomainAliases[0]: "a..b" is not a valid trust domain (label "" is invalid)'],
  ['trustDomainAliases', 'trustDomainAliases: old.example', 'trustDomainAliases: must be an array of strings'],
  ['rootNamespace', 'rootNamespace: Istio-System', 'rootNamespace: must be a DNS-1123 label (lower case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)'],
  ['pathNormalization', 'pathNormalization: BASE', 'pathNormalization: must be an object'],
  ['pathNormalization.normalization', 'pathNormalization: { normalization: MERGE }', 'pathNormalization.normalization: must be one of DEFAULT, NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES (got "MERGE")'],
  ['extensionProviders', 'extensionProviders: { name: a }', 'extensionProviders: must be an array of objects'],
  ['extensionProviders.name', 'extensionProviders: [{ envoyExtAuthzHttp: { service: a.b, port: 80 } }]', 'extensionProviders[0].name: is required'],
  ['extensionProviders.name', 'extensionProviders: [{ name: "", prometheus: {} }]', 'extensionProviders[0].name: must not be empty'],
  ['extensionProviders.name', 'extensionProviders: [{ name: a, prometheus: {} }, { name: a, zipkin: { service: z.b, port: 9411 } }]', 'extensionProviders[1].name: duplicate extension provider name "a"'],
  ['extensionProviders', 'extensionProviders: [{ name: a }]', 'extensionProviders[0]: extension provider "a" must set one provider kind (envoyExtAuthzHttp, envoyExtAuthzGrpc, zipkin, lightstep, datadog, stackdriver, opencensus, skywalking, opentelemetry, prometheus, envoyFileAccessLog, envoyHttpAls, envoyTcpAls, envoyOtelAls, sds)'],
  ['extensionProviders', 'extensionProviders: [{ name: a, prometheus: {}, lightstep: {} }]', 'extensionProviders[0]: only one of envoyExtAuthzHttp, envoyExtAuthzGrpc, zipkin, lightstep, datadog, stackdriver, opencensus, skywalking, opentelemetry, prometheus, envoyFileAccessLog, envoyHttpAls, envoyTcpAls, envoyOtelAls, sds may be set (found lightstep and prometheus)'],
  ['extensionProviders', 'extensionProviders: [{ name: a, envoyExtAuthz: {} }]', 'extensionProviders[0].envoyExtAuthz: unknown field'],
  ['extensionProviders.zipkin', 'extensionProviders: [{ name: a, zipkin: "z.b:9411" }]', 'extensionProviders[0].zipkin: must be an object'],
  ['envoyExtAuthzHttp.service', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { port: 80 } }]', 'extensionProviders[0].envoyExtAuthzHttp.service: is required'],
  ['envoyExtAuthzHttp.service', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: "ext authz", port: 80 } }]', 'extensionProviders[0].envoyExtAuthzHttp.service: "ext authz" is not a valid host name or IP address'],
  ['envoyExtAuthzHttp.service', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: "foo/ext-authz", port: 80 } }]', 'extensionProviders[0].envoyExtAuthzHttp.service: "foo/ext-authz": the host after the namespace must be a fully qualified name'],
  ['envoyExtAuthzHttp.port', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b } }]', 'extensionProviders[0].envoyExtAuthzHttp.port: is required'],
  ['envoyExtAuthzHttp.port', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 0 } }]', 'extensionProviders[0].envoyExtAuthzHttp.port: must be a port number 1..65535'],
  ['envoyExtAuthzHttp.port', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: http } }]', 'extensionProviders[0].envoyExtAuthzHttp.port: must be a port number 1..65535'],
  ['envoyExtAuthzHttp.timeout', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, timeout: 5 } }]', 'extensionProviders[0].envoyExtAuthzHttp.timeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h'],
  ['envoyExtAuthzHttp.timeout', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, timeout: soon } }]', 'extensionProviders[0].envoyExtAuthzHttp.timeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "soon")'],
  ['envoyExtAuthzHttp.pathPrefix', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, pathPrefix: check } }]', 'extensionProviders[0].envoyExtAuthzHttp.pathPrefix: must begin with "/" (got "check")'],
  ['envoyExtAuthzHttp.failOpen', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, failOpen: "yes" } }]', 'extensionProviders[0].envoyExtAuthzHttp.failOpen: must be a boolean (true or false)'],
  ['envoyExtAuthzHttp.statusOnError', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, statusOnError: "999" } }]', 'extensionProviders[0].envoyExtAuthzHttp.statusOnError: "999" is not an HTTP status code Envoy supports (e.g. "403", "503")'],
  ['envoyExtAuthzHttp.statusOnError', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, statusOnError: Forbidden } }]', 'extensionProviders[0].envoyExtAuthzHttp.statusOnError: "Forbidden" is not an HTTP status code Envoy supports (e.g. "403", "503")'],
  ['envoyExtAuthzHttp.clearRouteCache', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, clearRouteCache: 1 } }]', 'extensionProviders[0].envoyExtAuthzHttp.clearRouteCache: must be a boolean (true or false)'],
  ['envoyExtAuthzHttp.includeRequestHeadersInCheck', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, includeRequestHeadersInCheck: [""] } }]', 'extensionProviders[0].envoyExtAuthzHttp.includeRequestHeadersInCheck[0]: must not be empty'],
  ['envoyExtAuthzHttp.includeHeadersInCheck', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, includeHeadersInCheck: x } }]', 'extensionProviders[0].envoyExtAuthzHttp.includeHeadersInCheck: must be an array of strings'],
  ['envoyExtAuthzHttp.includeAdditionalHeadersInCheck', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, includeAdditionalHeadersInCheck: { x-a: 1 } } }]', 'extensionProviders[0].envoyExtAuthzHttp.includeAdditionalHeadersInCheck.x-a: must be a string'],
  ['envoyExtAuthzHttp.headersToUpstreamOnAllow', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, headersToUpstreamOnAllow: [""] } }]', 'extensionProviders[0].envoyExtAuthzHttp.headersToUpstreamOnAllow[0]: must not be empty'],
  ['envoyExtAuthzHttp.headersToDownstreamOnDeny', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, headersToDownstreamOnDeny: [""] } }]', 'extensionProviders[0].envoyExtAuthzHttp.headersToDownstreamOnDeny[0]: must not be empty'],
  ['envoyExtAuthzHttp.headersToDownstreamOnAllow', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, headersToDownstreamOnAllow: [""] } }]', 'extensionProviders[0].envoyExtAuthzHttp.headersToDownstreamOnAllow[0]: must not be empty'],
  ['envoyExtAuthzHttp.includeRequestBodyInCheck', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, includeRequestBodyInCheck: { maxRequestBytes: -1 } } }]', 'extensionProviders[0].envoyExtAuthzHttp.includeRequestBodyInCheck.maxRequestBytes: must be an integer 0..4294967295'],
  ['envoyExtAuthzHttp', 'extensionProviders: [{ name: a, envoyExtAuthzHttp: { service: a.b, port: 80, path_prefix: /x } }]', 'extensionProviders[0].envoyExtAuthzHttp.path_prefix: unknown field'],
  ['enableTracing', 'enableTracing: "yes"', 'enableTracing: must be a boolean (true or false)'],
  ['accessLogEncoding', 'accessLogEncoding: XML', 'accessLogEncoding: must be one of TEXT, JSON (got "XML")'],
  ['connectTimeout', 'connectTimeout: 10', 'connectTimeout: must be a duration like 1s, 0.5s, 100ms, 1m or 1h'],
  ['(removed field)', 'mixerCheckServer: istio-policy:15004', 'mixerCheckServer: unknown field'],
];

for (const [field, yaml, error] of rows) {
  test(`mesh config ${field}: rejects ${yaml}`, () => {
    assert.deepEqual(errorTexts(yaml), [`mesh.yaml: MeshConfig: ${error}`]);
  });
}

test('a field with an error is left out of the config; the valid ones are still read', () => {
  const { config, errors } = parseMeshConfig('trustDomain: "bad domain"\nrootNamespace: mesh-root\n', 'm');
  assert.equal(errors.length, 1);
  assert.deepEqual(config, { rootNamespace: 'mesh-root' });
});

test('providers Weft does not act on are checked loosely: a missing service is a warning, not an error', () => {
  const { config, errors, warnings } = parseMeshConfig('extensionProviders: [{ name: z, skywalking: { port: 11800 } }, { name: p, prometheus: {} }]', 'm');
  assert.deepEqual(errors, []);
  assert.equal(config.extensionProviders?.length, 2);
  assert.deepEqual(warnings, ['extensionProviders[0].skywalking.service: is required (extension provider "z" cannot be used)']);
});

test('a YAML syntax error is reported with its line and column', () => {
  const [error] = parseMeshConfig('trustDomain: a\nrootNamespace: [unclosed\n', 'mesh.yaml').errors;
  assert.equal(error.code, 'WEFT_E_YAML_SYNTAX');
  assert.equal(typeof error.line, 'number');
  assert.match(error.text, /^mesh\.yaml: MeshConfig: YAML syntax error at line \d+, column \d+: /);
});

test('a mesh config is one mapping', () => {
  assert.deepEqual(errorTexts('- trustDomain: a'), ['mesh.yaml: MeshConfig: a mesh config must be a mapping of MeshConfig fields']);
  assert.deepEqual(errorTexts('trustDomain: a\n---\ntrustDomain: b\n'), ['mesh.yaml: MeshConfig: a mesh config is a single YAML document']);
});
