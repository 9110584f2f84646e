import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreEvent } from '../../../src/control-plane/store/index.ts';
import { storeRunner } from './temp-dir.ts';

const withStore = storeRunner();

const put = (name: string, value: unknown) => ({ op: 'put' as const, kind: 'Gateway', namespace: 'istio-system', name, value });
const del = (name: string) => ({ op: 'delete' as const, kind: 'Gateway', namespace: 'istio-system', name });
const summary = (events: StoreEvent[]) => events.map((e) =>
  e.type === 'put'
    ? `put ${e.resource.name}@${e.resource.resourceVersion}=${JSON.stringify(e.resource.value)}` + (e.previous ? ` (was ${JSON.stringify(e.previous.value)}@${e.previous.resourceVersion})` : '')
    : `delete ${e.resource.name}@${e.resource.resourceVersion}=${JSON.stringify(e.resource.value)}`);

test('a watcher gets one call per committed batch, in commit order, with events in op order', () => withStore(async (store) => {
  const seen: [number, string[]][] = [];
  store.watch((events, revision) => seen.push([revision, summary(events)]));
  await store.commit([put('b', 1), put('a', 1)]);
  await store.commit([put('a', 2), del('b'), del('missing')]);
  await store.commit([put('c', 1)]);
  assert.deepEqual(seen, [
    [1, ['put b@1=1', 'put a@1=1']],
    [2, ['put a@2=2 (was 1@1)', 'delete b@1=1']],
    [3, ['put c@3=1']],
  ]);
}));

test('a watcher is called after the batch is visible, before commit resolves', () => withStore(async (store) => {
  const order: string[] = [];
  store.watch((_events, revision) => {
    assert.equal(store.revision, revision);
    assert.equal(store.get('Gateway', 'istio-system', 'a')?.value, 1);
    order.push('watch');
  });
  await store.commit([put('a', 1)]);
  order.push('resolved');
  assert.deepEqual(order, ['watch', 'resolved']);
}));

test('no-op batches and failed batches produce no watch call', () => withStore(async (store) => {
  await store.commit([put('a', 1)]);
  let calls = 0;
  store.watch(() => { calls++; });
  await store.commit([put('a', 1), del('missing')]);
  await store.commit([]);
  await assert.rejects(store.commit([{ ...put('a', 2), expectedVersion: 0 }]));
  assert.equal(calls, 0);
}));

test('after unsubscribe a watcher is not called again; other watchers still are', () => withStore(async (store) => {
  const first: number[] = [];
  const second: number[] = [];
  const stopFirst = store.watch((_e, revision) => first.push(revision));
  store.watch((_e, revision) => second.push(revision));
  await store.commit([put('a', 1)]);
  stopFirst();
  stopFirst();
  await store.commit([put('a', 2)]);
  assert.deepEqual(first, [1]);
  assert.deepEqual(second, [1, 2]);
}));

test('a watcher that throws does not fail the commit or starve other watchers', () => withStore(async (store) => {
  const seen: number[] = [];
  store.watch(() => { throw new Error('boom'); });
  store.watch((_e, revision) => seen.push(revision));
  assert.equal((await store.commit([put('a', 1)])).revision, 1);
  assert.deepEqual(seen, [1]);
}));

test('list then watch gives a consistent start: nothing missed, nothing twice', () => withStore(async (store) => {
  await store.commit([put('a', 1)]);
  const pending = store.commit([put('b', 1)]);
  const known = new Map(store.list().map((r) => [r.name, r.resourceVersion]));
  store.watch((events) => {
    for (const e of events) {
      assert.ok(!(e.type === 'put' && known.get(e.resource.name) === e.resource.resourceVersion), 'event already listed');
      if (e.type === 'put') known.set(e.resource.name, e.resource.resourceVersion);
    }
  });
  await pending;
  assert.deepEqual([...known].sort(), [['a', 1], ['b', 2]]);
}));
