import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEmbeddedStore, StoreInvalidOpError } from '../../../src/control-plane/store/index.ts';
import { storeRunner, tempDirs } from './temp-dir.ts';

const newDir = tempDirs();
const withStore = storeRunner();

const put = (kind: string, namespace: string, name: string, value: unknown) =>
  ({ op: 'put' as const, kind, namespace, name, value });
const del = (kind: string, namespace: string, name: string) => ({ op: 'delete' as const, kind, namespace, name });

test('a new store is empty at revision 0', () => withStore(async (store) => {
  assert.equal(store.revision, 0);
  assert.deepEqual(store.list(), []);
  assert.equal(store.get('ServiceEntry', 'default', 'nope'), undefined);
}));

test('a put is readable with get and carries the revision it was written at', () => withStore(async (store) => {
  const { revision, results } = await store.commit([put('ServiceEntry', 'default', 'httpbin', { hosts: ['httpbin.org'] })]);
  assert.equal(revision, 1);
  assert.equal(store.revision, 1);
  const stored = store.get('ServiceEntry', 'default', 'httpbin');
  assert.deepEqual(stored, { kind: 'ServiceEntry', namespace: 'default', name: 'httpbin', resourceVersion: 1, value: { hosts: ['httpbin.org'] } });
  assert.deepEqual(results, [stored]);
}));

test('one batch bumps the revision once, and every resource in it gets that version', () => withStore(async (store) => {
  await store.commit([put('A', 'ns', 'a', 1)]);
  const { revision } = await store.commit([put('A', 'ns', 'b', 2), put('A', 'ns', 'c', 3)]);
  assert.equal(revision, 2);
  assert.deepEqual(store.list().map((r) => [r.name, r.resourceVersion]), [['a', 1], ['b', 2], ['c', 2]]);
}));

test('an update changes the resource version; untouched resources keep theirs', () => withStore(async (store) => {
  await store.commit([put('A', 'ns', 'a', { v: 1 }), put('A', 'ns', 'b', { v: 1 })]);
  await store.commit([put('A', 'ns', 'a', { v: 2 })]);
  assert.equal(store.get('A', 'ns', 'a')?.resourceVersion, 2);
  assert.deepEqual(store.get('A', 'ns', 'a')?.value, { v: 2 });
  assert.equal(store.get('A', 'ns', 'b')?.resourceVersion, 1);
}));

test('putting a deep-equal value is a no-op: no version bump, no new revision', () => withStore(async (store) => {
  await store.commit([put('A', 'ns', 'a', { spec: { hosts: ['x'], port: 80 } })]);
  const { revision, results } = await store.commit([put('A', 'ns', 'a', { spec: { port: 80, hosts: ['x'] } })]);
  assert.equal(revision, 1);
  assert.equal(store.revision, 1);
  assert.equal(results[0]?.resourceVersion, 1);
}));

test('delete removes a resource; deleting a missing one is a no-op', () => withStore(async (store) => {
  await store.commit([put('A', 'ns', 'a', 1), put('A', 'ns', 'b', 1)]);
  assert.equal((await store.commit([del('A', 'ns', 'a')])).revision, 2);
  assert.equal(store.get('A', 'ns', 'a'), undefined);
  assert.equal((await store.commit([del('A', 'ns', 'missing')])).revision, 2);
  assert.equal(store.revision, 2);
}));

test('list is sorted by kind, namespace, name and filters by kind and namespace', () => withStore(async (store) => {
  await store.commit([
    put('VirtualService', 'b', 'z', 0), put('ServiceEntry', 'b', 'a', 0), put('VirtualService', 'a', 'y', 0),
    put('ServiceEntry', 'a', 'b', 0), put('ServiceEntry', 'a', 'a', 0),
  ]);
  const keys = (rs: { kind: string; namespace: string; name: string }[]) => rs.map((r) => `${r.kind}/${r.namespace}/${r.name}`);
  assert.deepEqual(keys(store.list()), [
    'ServiceEntry/a/a', 'ServiceEntry/a/b', 'ServiceEntry/b/a', 'VirtualService/a/y', 'VirtualService/b/z',
  ]);
  assert.deepEqual(keys(store.list({ kind: 'VirtualService' })), ['VirtualService/a/y', 'VirtualService/b/z']);
  assert.deepEqual(keys(store.list({ namespace: 'a' })), ['ServiceEntry/a/a', 'ServiceEntry/a/b', 'VirtualService/a/y']);
  assert.deepEqual(keys(store.list({ kind: 'ServiceEntry', namespace: 'b' })), ['ServiceEntry/b/a']);
}));

test('the store keeps its own frozen copy: changing the given object later changes nothing', () => withStore(async (store) => {
  const value = { hosts: ['a'] };
  const pending = store.commit([put('A', 'ns', 'a', value)]);
  value.hosts.push('b');
  await pending;
  const stored = store.get('A', 'ns', 'a')!;
  assert.deepEqual(stored.value, { hosts: ['a'] });
  assert.throws(() => { (stored.value as { hosts: string[] }).hosts.push('c'); }, TypeError);
}));

test('malformed ops reject with StoreInvalidOpError and change nothing', () => withStore(async (store) => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const bad: unknown[][] = [
    [put('', 'ns', 'a', 1)],
    [put('A', 'ns', '', 1)],
    [put('A', 'ns', 'a', undefined)],
    [put('A', 'ns', 'a', cyclic)],
    [put('A', 'ns', 'a', 1n)],
    [{ ...put('A', 'ns', 'a', 1), expectedVersion: -1 }],
    [put('A', 'ns', 'a', 1), del('A', 'ns', 'a')],
    [{ op: 'patch', kind: 'A', namespace: 'ns', name: 'a' }],
  ];
  for (const ops of bad) {
    await assert.rejects(store.commit(ops as never), StoreInvalidOpError, JSON.stringify(ops, (_k, v) => typeof v === 'bigint' ? 'bigint' : v === cyclic ? 'cyclic' : v));
  }
  assert.equal(store.revision, 0);
  assert.deepEqual(store.list(), []);
}));

test('concurrent commits are applied one after another, each with its own revision', () => withStore(async (store) => {
  const commits = Array.from({ length: 20 }, (_, i) => store.commit([put('Counter', 'ns', 'c', i)]));
  const revisions = (await Promise.all(commits)).map((c) => c.revision);
  assert.deepEqual(revisions, Array.from({ length: 20 }, (_, i) => i + 1));
  assert.equal(store.get('Counter', 'ns', 'c')?.value, 19);
}));

test('commits after close are rejected', async () => {
  const store = await openEmbeddedStore({ dataDir: await newDir() });
  await store.close();
  await assert.rejects(store.commit([put('A', 'ns', 'a', 1)]), { code: 'WEFT_E_STORE_CLOSED' });
});
