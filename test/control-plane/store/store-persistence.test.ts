import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openEmbeddedStore, StoreCorruptError } from '../../../src/control-plane/store/index.ts';
import { tempDirs } from './temp-dir.ts';

const newDir = tempDirs();
const put = (name: string, value: unknown) => ({ op: 'put' as const, kind: 'AuthorizationPolicy', namespace: 'prod', name, value });

async function dirWithState(): Promise<string> {
  const dir = await newDir();
  const store = await openEmbeddedStore({ dataDir: dir });
  await store.commit([put('allow-reviews', { action: 'ALLOW', rules: [{ from: [{ source: { principals: ['x'] } }] }] })]);
  await store.commit([put('deny-all', {}), put('unicode', { note: 'naïve ☃ line\nbreak' })]);
  await store.commit([{ op: 'delete', kind: 'AuthorizationPolicy', namespace: 'prod', name: 'deny-all' }]);
  await store.close();
  return dir;
}

test('reopening the data directory gives back the same resources, versions and revision', async () => {
  const dir = await newDir();
  const first = await openEmbeddedStore({ dataDir: dir });
  await first.commit([put('a', { n: 1 }), put('b', 'two')]);
  await first.commit([put('a', { n: 2 })]);
  await first.commit([{ op: 'delete', kind: 'AuthorizationPolicy', namespace: 'prod', name: 'b' }]);
  const before = first.list();
  await first.close();
  const second = await openEmbeddedStore({ dataDir: dir });
  assert.equal(second.revision, 3);
  assert.deepEqual(second.list(), before);
  assert.equal((await second.commit([put('c', 1)])).revision, 4);
  await second.close();
});

test('the data directory is created if it does not exist', async () => {
  const dir = join(await newDir(), 'nested', '.weft');
  const store = await openEmbeddedStore({ dataDir: dir });
  await store.commit([put('a', 1)]);
  await store.close();
  assert.ok((await readdir(dir)).includes('state.jsonl'));
});

test('the state file is a checksummed header line followed by the body', async () => {
  const dir = await dirWithState();
  const [header, body, rest] = (await readFile(join(dir, 'state.jsonl'), 'utf8')).split('\n');
  assert.equal(rest, '');
  const parsedHeader = JSON.parse(header!);
  assert.equal(parsedHeader.format, 'weft-embedded-store');
  assert.equal(parsedHeader.version, 1);
  assert.match(parsedHeader.sha256, /^[0-9a-f]{64}$/);
  const parsedBody = JSON.parse(body!);
  assert.equal(parsedBody.revision, 3);
  assert.deepEqual(parsedBody.resources.map((r: { name: string }) => r.name), ['allow-reviews', 'unicode']);
});

test('temp files left by an interrupted write are removed at open, and the state is the last committed one', async () => {
  const dir = await dirWithState();
  await writeFile(join(dir, 'state.jsonl.tmp-99999-abcd'), '{"format":"weft-embedded-store"');
  const store = await openEmbeddedStore({ dataDir: dir });
  assert.equal(store.revision, 3);
  await store.close();
  assert.deepEqual((await readdir(dir)).sort(), ['state.jsonl']);
});

const corruptions: [string, (text: string) => string, RegExp][] = [
  ['a flipped byte in the body', (t) => t.replace('allow-reviews', 'allow-reviewz'), /checksum mismatch/],
  ['a truncated file', (t) => t.slice(0, t.length - 20), /truncated/],
  ['a file cut inside the header', (t) => t.slice(0, 10), /no header line/],
  ['an empty file', () => '', /no header line/],
  ['a foreign file', () => 'hello world\n', /header line is not JSON/],
  ['a newer format version', (t) => t.replace('"version":1', '"version":2'), /unsupported format version 2/],
];
for (const [what, corrupt, reason] of corruptions) {
  test(`open rejects ${what}, naming the file, and leaves the file as it was`, async () => {
    const dir = await dirWithState();
    const file = join(dir, 'state.jsonl');
    const damaged = corrupt(await readFile(file, 'utf8'));
    await writeFile(file, damaged);
    await assert.rejects(openEmbeddedStore({ dataDir: dir }), (err: unknown) => {
      assert.ok(err instanceof StoreCorruptError);
      assert.equal(err.code, 'WEFT_E_STORE_CORRUPT');
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, reason);
      return true;
    });
    assert.equal(await readFile(file, 'utf8'), damaged);
    assert.ok(!(await readdir(dir)).includes('LOCK'), 'a failed open releases the lock');
  });
}
