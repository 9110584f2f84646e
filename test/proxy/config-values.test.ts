// Reading Envoy values as the xDS client decodes them (and as hand-written JSON writes them).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigRejectedError, FieldPath, boolWrapper, checkFields, durationMs, uintWrapper } from '../../src/proxy/upstream/envoy-config.ts';

const at = new FieldPath('Cluster c', 'connect_timeout');

describe('Envoy values', () => {
  it('reads Durations with string or number seconds, either field absent, or the JSON form', () => {
    assert.equal(durationMs(at, { seconds: '1', nanos: 0 }), 1000);
    assert.equal(durationMs(at, { seconds: 2 }), 2000);
    assert.equal(durationMs(at, { nanos: 250_000_000 }), 250);
    assert.equal(durationMs(at, {}), 0);
    assert.equal(durationMs(at, '1.5s'), 1500);
    assert.equal(durationMs(at, undefined), undefined);
    assert.throws(() => durationMs(at, { seconds: '-1' }), /Cluster c: connect_timeout must not be negative/);
  });

  it('reads wrappers, where an empty wrapper holds the default value', () => {
    assert.equal(uintWrapper(at, { value: 7 }), 7);
    assert.equal(uintWrapper(at, {}), 0);
    assert.equal(uintWrapper(at, 3), 3);
    assert.equal(boolWrapper(at, { value: true }), true);
    assert.equal(boolWrapper(at, {}), false);
    assert.equal(boolWrapper(at, false), false);
  });

  it('rejects present fields it does not know, naming resource and field path', () => {
    const root = new FieldPath('Listener l');
    assert.doesNotThrow(() => checkFields(root, { name: 'l', unknown: undefined }, new Set(['name'])));
    assert.throws(() => checkFields(root.field('filter_chains').item(0), { use_proxy_proto: { value: true } }, new Set()),
      (e: unknown) => e instanceof ConfigRejectedError && e.message === 'Listener l: filter_chains[0].use_proxy_proto is not supported');
  });
});
