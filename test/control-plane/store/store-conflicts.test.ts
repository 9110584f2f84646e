import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreConflictError, type StoreOp } from '../../../src/control-plane/store/index.ts';
import { storeRunner } from './temp-dir.ts';

const withStore = storeRunner();

const put = (name: string, value: unknown, expectedVersion?: number): StoreOp =>
  ({ op: 'put', kind: 'DestinationRule', namespace: 'prod', name, value, expectedVersion });
const del = (name: string, expectedVersion?: number): StoreOp =>
  ({ op: 'delete', kind: 'DestinationRule', namespace: 'prod', name, expectedVersion });

test('expectedVersion 0 creates a resource only if it does not exist', () => withStore(async (store) => {
  await store.commit([put('reviews', 1, 0)]);
  await assert.rejects(store.commit([put('reviews', 2, 0)]), (err: unknown) => {
    assert.ok(err instanceof StoreConflictError);
    assert.equal(err.code, 'WEFT_E_STORE_CONFLICT');
    assert.match(err.message, /DestinationRule prod\/reviews/);
    assert.match(err.message, /expected it not to exist, but found version 1/);
    assert.equal(err.actualVersion, 1);
    return true;
  });
  assert.equal(store.get('DestinationRule', 'prod', 'reviews')?.value, 1);
}));

test('a put with the current version succeeds; with a stale one it conflicts', () => withStore(async (store) => {
  await store.commit([put('reviews', 1)]);
  await store.commit([put('reviews', 2, 1)]);
  await assert.rejects(store.commit([put('reviews', 3, 1)]), /expected version 1, but found version 2/);
  assert.equal(store.get('DestinationRule', 'prod', 'reviews')?.value, 2);
}));

test('a delete with a version checks it, and a delete of a missing key with a version conflicts', () => withStore(async (store) => {
  await store.commit([put('reviews', 1)]);
  await assert.rejects(store.commit([del('reviews', 7)]), StoreConflictError);
  await assert.rejects(store.commit([del('ratings', 1)]), /expected version 1, but it does not exist/);
  await store.commit([del('reviews', 1)]);
  assert.equal(store.get('DestinationRule', 'prod', 'reviews'), undefined);
}));

test('one failed check leaves the whole batch unapplied and the revision unchanged', () => withStore(async (store) => {
  await store.commit([put('a', 1), put('b', 1), put('c', 1)]);
  const before = store.list();
  let events = 0;
  store.watch(() => { events++; });
  await assert.rejects(store.commit([put('a', 2), del('b'), put('new', 1), put('c', 2, 99)]), /DestinationRule prod\/c/);
  assert.equal(store.revision, 1);
  assert.deepEqual(store.list(), before);
  assert.equal(events, 0);
}));

test('a no-op put still checks its expectedVersion', () => withStore(async (store) => {
  await store.commit([put('a', 1), put('b', 1)]);
  await store.commit([put('b', 2)]);
  await assert.rejects(store.commit([put('a', 1, 2)]), StoreConflictError);
  const { revision } = await store.commit([put('a', 1, 1)]);
  assert.equal(revision, 2);
}));

test('a conflicting commit does not block the commits queued after it', () => withStore(async (store) => {
  const first = store.commit([put('a', 1, 5)]);
  const second = store.commit([put('a', 1, 0)]);
  await assert.rejects(first, StoreConflictError);
  assert.equal((await second).revision, 1);
}));
