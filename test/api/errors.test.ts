import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CATALOG, formatApiError, parseManifests } from '../../src/api/index.ts';
import { apiError } from '../../src/api/errors.ts';

const base = { code: 'WEFT_E_INVALID_VALUE', kind: 'VirtualService', namespace: 'default', name: 'reviews', path: 'spec.http[0].route[1].weight', message: 'must be an integer 0..100' } as const;

test('an error names the resource, the field path and the reason', () => {
  assert.equal(formatApiError(base), 'VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0..100');
});

test('errors from a stream are prefixed with the source and document number', () => {
  assert.equal(formatApiError({ ...base, source: 'routes.yaml', document: 2 }),
    'routes.yaml document 2: VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0..100');
  assert.equal(formatApiError({ ...base, document: 1, item: 4 }),
    'document 1 items[4]: VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0..100');
  assert.equal(formatApiError({ ...base, source: 'x.yaml' }), 'x.yaml: VirtualService default/reviews: spec.http[0].route[1].weight: must be an integer 0..100');
});

test('an error without a name, kind or path leaves those parts out', () => {
  assert.equal(formatApiError({ ...base, name: '', path: 'metadata.name', message: 'is required' }), 'VirtualService: metadata.name: is required');
  assert.equal(formatApiError({ ...base, kind: '', name: '', namespace: '', path: '', message: 'kind Foo is not a supported Istio kind', document: 2 }),
    'document 2: kind Foo is not a supported Istio kind');
});

test('an error is a plain value: text, toString() and JSON agree', () => {
  const e = apiError({ ...base, document: 1 });
  assert.equal(String(e), e.text);
  assert.equal(`${e}`, e.text);
  assert.deepEqual(JSON.parse(JSON.stringify(e)), { ...base, document: 1, text: e.text });
  assert.equal('source' in e, false);
});

test('every error code is a stable WEFT_E_ name with one documentation line', () => {
  for (const [code, doc] of Object.entries(ERROR_CATALOG)) {
    assert.match(code, /^WEFT_E_[A-Z_]+$/);
    assert.ok(doc.length > 20 && !doc.includes('\n'), code);
  }
  for (const code of ['WEFT_E_YAML_SYNTAX', 'WEFT_E_UNKNOWN_KIND', 'WEFT_E_UNKNOWN_FIELD', 'WEFT_E_WRONG_TYPE', 'WEFT_E_INVALID_VALUE',
    'WEFT_E_MISSING_FIELD', 'WEFT_E_WEIGHT_SUM', 'WEFT_E_INVALID_REGEX']) {
    assert.ok(code in ERROR_CATALOG, code);
  }
});

test('every error returned by parsing carries a catalogued code and is never thrown', () => {
  const inputs = ['{', 'kind: [', '- 1', 'kind: VirtualService\nspec: 7', 'kind: ServiceEntry\nmetadata: {name: x}\nspec: {hosts: [1], ports: {}}', 'a: *missing'];
  for (const text of inputs) {
    const { errors } = parseManifests(text);
    assert.ok(errors.length > 0, text);
    for (const e of errors) assert.ok(e.code in ERROR_CATALOG, `${text}: ${e.code}`);
  }
});
