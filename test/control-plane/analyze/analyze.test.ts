// analyze(): every analyzer runs; findings are sorted as istioctl sorts them, deduplicated and
// filtered by namespace; invalid resources given for analysis are reported as IST0106.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analysisInput, analyze, ANALYZERS, MESSAGE_TYPES } from '../../../src/control-plane/analyze/index.ts';
import { formatMessage } from '../../../src/control-plane/analyze/messages.ts';
import { defaultMeshConfig } from '../../../src/control-plane/registry/model.ts';
import { destinationRule, findings, resources, serviceEntry, virtualService } from './support.ts';

const MESH = serviceEntry('reviews', 'reviews.default.svc.cluster.local', { endpoints: [{ version: 'v1' }] })
  + destinationRule('reviews', 'host: reviews\nsubsets: [{ name: v1, labels: { version: v1 } }]')
  + virtualService('reviews', 'hosts: [reviews]\nhttp: [{ route: [{ destination: { host: reviews, subset: v1 } }] }]');

test('a consistent configuration has no findings', () => {
  assert.deepEqual(findings(MESH), []);
});

test('findings come errors first, then warnings, then information, each by code and resource', () => {
  const yaml = MESH
    + virtualService('zeta', 'hosts: [zeta]\nhttp: [{ route: [{ destination: { host: zeta } }] }]')
    + virtualService('alpha', 'hosts: [alpha]\nhttp: [{ route: [{ destination: { host: reviews, subset: v7 } }] }]')
    + destinationRule('ratings', 'host: ratings\ntrafficPolicy: { loadBalancer: { simple: RANDOM } }')
    + virtualService('routes', 'http: [{ route: [{ destination: { host: reviews } }] }]')
    + virtualService('a', 'hosts: [a]\nhttp: [{ delegate: { name: routes } }]')
    + virtualService('b', 'hosts: [b]\nhttp: [{ delegate: { name: routes } }]');
  assert.deepEqual(findings(yaml).map((l) => l.replace(/\) .*/, ')')), [
    'Error [IST0101] (VirtualService default/alpha)',
    'Error [IST0101] (VirtualService default/zeta)',
    'Warning [IST0174] (DestinationRule default/ratings)',
    'Info [WEFT0004] (VirtualService default/routes)',
  ]);
});

test('only findings about the chosen namespace are reported, though every namespace is analyzed', () => {
  const yaml = MESH + virtualService('r', 'hosts: [r.example.com]\nhttp: [{ route: [{ destination: { host: reviews.default.svc.cluster.local, subset: v9 } }] }]', 'prod')
    + virtualService('broken', 'hosts: [broken]\nhttp: [{ route: [{ destination: { host: nowhere } }] }]');
  assert.deepEqual(findings(yaml, { namespace: 'prod' }), [
    'Error [IST0101] (VirtualService prod/r) Referenced host+subset in destinationrule not found: "reviews.default.svc.cluster.local+v9"',
  ]);
  assert.equal(findings(yaml, { namespace: 'default' }).length, 1);
  assert.equal(findings(yaml).length, 2);
});

test('invalid resources given for analysis are IST0106, with the file they came from', () => {
  const input = analysisInput({
    resources: resources(MESH),
    config: defaultMeshConfig,
    sources: new Map([['VirtualService/default/broken', 'broken.yaml']]),
    schemaErrors: [{ kind: 'VirtualService', namespace: 'default', name: 'broken', path: 'spec.hosts[0]', message: 'must not be empty' }],
  });
  assert.deepEqual(analyze(input).map((f) => [f.level, f.code, f.origin, f.reference, f.message, f.documentationUrl]), [
    ['Error', 'IST0106', 'VirtualService default/broken', 'broken.yaml', 'Schema validation error: spec.hosts[0]: must not be empty',
      'https://istio.io/latest/docs/reference/config/analysis/ist0106/'],
  ]);
});

test('the same finding reported twice is printed once', () => {
  const yaml = virtualService('r', 'hosts: [r]\nhttp: [{ route: [{ destination: { host: gone } }] }, { route: [{ destination: { host: gone } }] }]');
  assert.deepEqual(findings(yaml), ['Error [IST0101] (VirtualService default/r) Referenced host not found: "gone"']);
});

test('messages fill Go-style verbs; codes are unique; every analyzer is named', () => {
  assert.equal(formatMessage('%s %q %v %d', ['a', 'b"c', ['x', 1], 7]), 'a "b\\"c" [x 1] 7');
  assert.equal(new Set(MESSAGE_TYPES.map((m) => m.code)).size, MESSAGE_TYPES.length);
  assert.ok(MESSAGE_TYPES.every((m) => /^(IST|WEFT)\d{4}$/.test(m.code)));
  assert.equal(new Set(ANALYZERS.map((a) => a.name)).size, ANALYZERS.length);
});
