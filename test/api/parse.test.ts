import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifests, resourceKey, validateResource, type VirtualService } from '../../src/api/index.ts';

const vsYaml = (name: string, extra = '') => `apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: ${name}${extra}
spec:
  hosts: [${name}]
  http:
  - route:
    - destination: {host: ${name}}
`;

test('a multi-document stream yields every resource in order; empty documents are skipped', () => {
  const text = `---\n${vsYaml('reviews')}---\n# only a comment\n---\n${vsYaml('ratings', '\n  namespace: prod')}---\n`;
  const { resources, errors } = parseManifests(text);
  assert.deepEqual(errors, []);
  assert.deepEqual(resources.map(resourceKey), ['VirtualService/default/reviews', 'VirtualService/prod/ratings']);
});

test('an empty stream is fine', () => {
  assert.deepEqual(parseManifests(''), { resources: [], errors: [] });
  assert.deepEqual(parseManifests('---\n---\n'), { resources: [], errors: [] });
});

test('resources are normalised copies: namespace filled in, apiVersion and spec as written', () => {
  const text = `${vsYaml('reviews', '\n  labels: {app: reviews}\n  annotations: {note: "x"}\n  resourceVersion: "42"\n  uid: abc\n  creationTimestamp: "2024-01-01T00:00:00Z"\n  generation: 3\n  managedFields: []')}status:\n  observedGeneration: 3\n`;
  const { resources, errors } = parseManifests(text, { defaultNamespace: 'bookinfo' });
  assert.deepEqual(errors, []);
  const vs = resources[0] as VirtualService;
  assert.deepEqual(vs, {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'VirtualService',
    metadata: { name: 'reviews', namespace: 'bookinfo', labels: { app: 'reviews' }, annotations: { note: 'x' } },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' } }] }] },
  });
});

test('fields set to null count as unset and are dropped', () => {
  const { resources, errors } = parseManifests(`${vsYaml('reviews')}  tcp:\n  exportTo: ~\n`);
  assert.deepEqual(errors, []);
  assert.deepEqual(Object.keys(resources[0].spec as object), ['hosts', 'http']);
});

test('a kind: List document is expanded into its items', () => {
  const text = `apiVersion: v1
kind: List
metadata: {resourceVersion: ""}
items:
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: reviews}
  spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata: {name: ratings}
  spec: {subsets: []}
`;
  const { resources, errors } = parseManifests(text, { source: 'list.yaml' });
  assert.deepEqual(resources.map(resourceKey), ['DestinationRule/default/reviews']);
  assert.deepEqual(errors.map(String), ['list.yaml document 1 items[1]: DestinationRule default/ratings: spec.host: is required']);
});

test('JSON input parses too', () => {
  const json = JSON.stringify({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'WorkloadEntry', metadata: { name: 'vm1', namespace: 'vms' }, spec: { address: '10.0.0.1' } });
  assert.deepEqual(parseManifests(json).resources.map(resourceKey), ['WorkloadEntry/vms/vm1']);
});

test('malformed YAML is reported with its document, line and column, and other documents still parse', () => {
  const text = `${vsYaml('reviews')}---\nkind: VirtualService\nmetadata: {name: [oops}\n---\n${vsYaml('ratings')}`;
  const { resources, errors } = parseManifests(text, { source: 'routes.yaml' });
  assert.deepEqual(resources.map(resourceKey), ['VirtualService/default/reviews', 'VirtualService/default/ratings']);
  assert.deepEqual(errors.map((e) => [e.code, e.document, e.line, e.column]), [['WEFT_E_YAML_SYNTAX', 2, 12, 23]]);
  assert.equal(errors[0].text,
    'routes.yaml document 2: YAML syntax error at line 12, column 23: Flow sequence in block collection must be sufficiently indented and end with a ]');
});

test('duplicate keys are a YAML error', () => {
  const { errors } = parseManifests('kind: VirtualService\nkind: DestinationRule\n');
  assert.deepEqual(errors.map(String), ['document 1: YAML syntax error at line 2, column 1: Map keys must be unique']);
});

test('an unsupported kind is named with its document number', () => {
  const text = `${vsYaml('reviews')}---\napiVersion: example.com/v1\nkind: Foo\nmetadata: {name: x}\nspec: {}\n`;
  const { errors } = parseManifests(text);
  assert.deepEqual(errors.map(String), ['document 2: kind Foo is not a supported Istio kind']);
  assert.equal(errors[0].code, 'WEFT_E_UNKNOWN_KIND');
});

test('documents that are not resources are reported', () => {
  const { errors } = parseManifests('- just\n- a list\n---\nhello\n---\nmetadata: {name: x}\n---\nkind: 7\n');
  assert.deepEqual(errors.map((e) => [e.code, e.text]), [
    ['WEFT_E_NOT_AN_OBJECT', 'document 1: must be an object with apiVersion, kind, metadata and spec'],
    ['WEFT_E_NOT_AN_OBJECT', 'document 2: must be an object with apiVersion, kind, metadata and spec'],
    ['WEFT_E_MISSING_FIELD', 'document 3: kind: is required'],
    ['WEFT_E_WRONG_TYPE', 'document 4: kind: must be a string'],
  ]);
});

test('all three networking apiVersions are accepted; others are not', () => {
  for (const v of ['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3']) {
    assert.deepEqual(parseManifests(vsYaml('a').replace('networking.istio.io/v1beta1', v)).errors, []);
  }
  const { errors } = parseManifests(vsYaml('a').replace('networking.istio.io/v1beta1', 'networking.istio.io/v2'));
  assert.deepEqual(errors.map((e) => [e.code, e.text]), [[
    'WEFT_E_UNSUPPORTED_API_VERSION',
    'document 1: VirtualService default/a: apiVersion: networking.istio.io/v2 is not served for VirtualService; use one of networking.istio.io/v1, networking.istio.io/v1beta1, networking.istio.io/v1alpha3',
  ]]);
});

test('metadata needs a valid name; other top-level keys are errors', () => {
  const base = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', spec: { address: '10.0.0.1' } };
  const texts = (obj: unknown) => validateResource(obj).errors.map(String);
  assert.deepEqual(texts({ ...base, metadata: { namespace: 'prod' } }), ['WorkloadEntry: metadata.name: is required']);
  assert.deepEqual(texts({ ...base }), ['WorkloadEntry: metadata: is required']);
  assert.deepEqual(texts({ ...base, metadata: { name: 'VM_1', namespace: 'Prod', lables: {} } }), [
    'WorkloadEntry Prod/VM_1: metadata.name: must be a DNS-1123 subdomain (lower case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters)',
    'WorkloadEntry Prod/VM_1: metadata.namespace: must be a DNS-1123 label (lower case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters)',
    'WorkloadEntry Prod/VM_1: metadata.lables: unknown field',
  ]);
  assert.deepEqual(texts({ ...base, metadata: { name: 'vm1', labels: { tier: 1 } }, extra: true }), [
    'WorkloadEntry default/vm1: extra: unknown field',
    'WorkloadEntry default/vm1: metadata.labels.tier: must be a string',
  ]);
  assert.deepEqual(texts({ kind: 'WorkloadEntry', metadata: { name: 'vm1' } }), [
    'WorkloadEntry default/vm1: apiVersion: is required',
    'WorkloadEntry default/vm1: spec: is required',
  ]);
});

test('validateResource takes a parsed object, uses the caller\'s default namespace and location, and does not mutate it', () => {
  const obj = { apiVersion: 'networking.istio.io/v1', kind: 'WorkloadEntry', metadata: { name: 'vm1' }, spec: { address: '10.0.0.1', labels: null } };
  const frozen = structuredClone(obj);
  const ok = validateResource(obj, { defaultNamespace: 'vms' });
  assert.deepEqual(ok.errors, []);
  assert.deepEqual(ok.resource?.metadata, { name: 'vm1', namespace: 'vms' });
  assert.deepEqual(ok.resource?.spec, { address: '10.0.0.1' });
  assert.deepEqual(obj, frozen);
  assert.notEqual(ok.resource?.spec, obj.spec);

  const bad = validateResource({ ...obj, spec: {} }, { document: 3, source: 'vm.yaml' });
  assert.equal(bad.resource, undefined);
  assert.deepEqual(bad.errors.map(String), ['vm.yaml document 3: WorkloadEntry default/vm1: spec.address: is required (unless network is set)']);
});
