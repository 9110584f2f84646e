import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  array, boolean, duration, enumOf, integer, map, number, object, string, type Context, type Schema,
} from '../../src/api/schema.ts';

function issues<T>(schema: Schema<T>, value: unknown): string[] {
  const ctx: Context = { issues: [], namespace: 'default' };
  schema.validate(value, 'x', ctx);
  return ctx.issues.map((i) => `${i.code} ${i.path}: ${i.message}`);
}

test('scalars report wrong types with what they expected', () => {
  assert.deepEqual(issues(string(), 1), ['WEFT_E_WRONG_TYPE x: must be a string']);
  assert.deepEqual(issues(boolean(), 'true'), ['WEFT_E_WRONG_TYPE x: must be a boolean (true or false)']);
  assert.deepEqual(issues(number({ min: 0, max: 100 }), 'NaN'), ['WEFT_E_WRONG_TYPE x: must be a number 0..100']);
  assert.deepEqual(issues(integer({ min: 1 }), 0), ['WEFT_E_OUT_OF_RANGE x: must be an integer >= 1']);
  assert.deepEqual(issues(integer(), 1.5), ['WEFT_E_WRONG_TYPE x: must be an integer']);
  assert.deepEqual(issues(enumOf(['A', 'B']), 'C'), ['WEFT_E_INVALID_VALUE x: must be one of A, B (got "C")']);
  assert.deepEqual(issues(string({ check: (s) => (s === 'no' ? 'must not be no' : undefined) }), 'no'), ['WEFT_E_INVALID_VALUE x: must not be no']);
});

test('durations are Istio duration strings of at least 1ms', () => {
  assert.deepEqual(issues(duration(), '1s'), []);
  assert.deepEqual(issues(duration(), '1.5h'), []);
  assert.deepEqual(issues(duration(), 5), ['WEFT_E_WRONG_TYPE x: must be a duration like 1s, 0.5s, 100ms, 1m or 1h']);
  assert.deepEqual(issues(duration(), '5 s'), ['WEFT_E_INVALID_DURATION x: must be a duration like 1s, 0.5s, 100ms, 1m or 1h (got "5 s")']);
  assert.deepEqual(issues(duration(), '999us'), ['WEFT_E_INVALID_DURATION x: must be at least 1ms']);
  assert.deepEqual(issues(duration({ allowZero: true }), '0s'), []);
  assert.deepEqual(issues(duration({ allowZero: true }), '10us'), ['WEFT_E_INVALID_DURATION x: must be 0 or at least 1ms']);
});

test('arrays and maps name the element that is wrong', () => {
  assert.deepEqual(issues(array(string()), 'a'), ['WEFT_E_WRONG_TYPE x: must be an array of strings']);
  assert.deepEqual(issues(array(integer({ min: 0, max: 9 }), { minItems: 1 }), []), ['WEFT_E_INVALID_VALUE x: must not be empty']);
  assert.deepEqual(issues(array(string(), { maxItems: 1 }), ['a', 2]), [
    'WEFT_E_INVALID_VALUE x: must have at most 1 items',
    'WEFT_E_WRONG_TYPE x[1]: must be a string',
  ]);
  assert.deepEqual(issues(map(string(), { key: (k) => (k === 'bad' ? 'bad key' : undefined) }), { ok: 'v', 'a.b/c': 1, bad: 'v' }), [
    'WEFT_E_WRONG_TYPE x["a.b/c"]: must be a string',
    'WEFT_E_INVALID_VALUE x.bad: bad key',
  ]);
  assert.deepEqual(issues(map(string()), ['a']), ['WEFT_E_WRONG_TYPE x: must be a map of strings']);
});

interface Pair { a?: string; b?: number; c: boolean }

test('objects reject unknown fields, require fields and enforce oneOf groups', () => {
  const pair = object<Pair>({ a: string(), b: integer(), c: boolean() }, { required: ['c'], oneOf: [['a', 'b']] });
  assert.deepEqual(issues(pair, { c: true, a: 'x' }), []);
  assert.deepEqual(issues(pair, { a: 'x', b: 1, d: 0 }), [
    'WEFT_E_UNKNOWN_FIELD x.d: unknown field',
    'WEFT_E_MISSING_FIELD x.c: is required',
    'WEFT_E_CONFLICTING_FIELDS x: only one of a, b may be set (found a and b)',
  ]);
  assert.deepEqual(issues(pair, { c: null, a: null }), ['WEFT_E_MISSING_FIELD x.c: is required']);
  assert.deepEqual(issues(pair, [1]), ['WEFT_E_WRONG_TYPE x: must be an object']);
});

test('custom checks run only on well-shaped objects, after value errors are reported', () => {
  let calls = 0;
  const checked = object<Pair>({ a: string(), b: integer({ min: 0, max: 5 }), c: boolean() }, {
    check: () => { calls++; },
  });
  issues(checked, { c: 'yes' });
  assert.equal(calls, 0);
  issues(checked, { c: true, b: 9 });
  assert.equal(calls, 1);
  issues(checked, { c: true, typo: 1 });
  assert.equal(calls, 1);
});
