import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openEmbeddedStore, StoreLockedError } from '../../../src/control-plane/store/index.ts';
import { startFixture, stopFixture } from './child.ts';
import { tempDirs } from './temp-dir.ts';

const newDir = tempDirs();
const isReady = (line: string) => line.startsWith('{');

test('a second control plane in another process cannot open a data directory in use', async () => {
  const dir = await newDir();
  const holder = startFixture('hold-store.ts', [dir]);
  try {
    assert.deepEqual(JSON.parse((await holder.waitForLine(isReady))!), { ready: true, pid: holder.pid });
    assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(holder.pid));
    await assert.rejects(openEmbeddedStore({ dataDir: dir }), (err: unknown) => {
      assert.ok(err instanceof StoreLockedError);
      assert.equal(err.code, 'WEFT_E_STORE_LOCKED');
      assert.ok(err.message.includes(dir), err.message);
      assert.ok(err.message.includes(`PID ${holder.pid}`), err.message);
      return true;
    });
  } finally {
    await stopFixture(holder, 'SIGTERM');
  }
  assert.equal(holder.child.exitCode, 0);
  const store = await openEmbeddedStore({ dataDir: dir });
  await store.close();
});

test('another process cannot open a data directory this process holds', async () => {
  const dir = await newDir();
  const store = await openEmbeddedStore({ dataDir: dir });
  try {
    const other = startFixture('hold-store.ts', [dir]);
    const reply = JSON.parse((await other.waitForLine(isReady))!);
    await other.exited;
    assert.equal(reply.code, 'WEFT_E_STORE_LOCKED');
    assert.ok(reply.error.includes(dir), reply.error);
    assert.ok(reply.error.includes(`PID ${process.pid}`), reply.error);
    assert.equal(other.child.exitCode, 2);
  } finally {
    await store.close();
  }
});

test('the same process cannot open one data directory twice', async () => {
  const dir = await newDir();
  const store = await openEmbeddedStore({ dataDir: dir });
  try {
    await assert.rejects(openEmbeddedStore({ dataDir: dir }), /this process/);
  } finally {
    await store.close();
  }
});

test('a lock left by a process that is gone is taken over', async () => {
  const dir = await newDir();
  const holder = startFixture('hold-store.ts', [dir]);
  await holder.waitForLine(isReady);
  await stopFixture(holder, 'SIGKILL');
  assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(holder.pid), 'kill -9 leaves the lock behind');
  const store = await openEmbeddedStore({ dataDir: dir });
  assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
  await store.close();
});

test('a LOCK file that names no process is not taken over', async () => {
  const dir = await newDir();
  await writeFile(join(dir, 'LOCK'), 'garbage');
  await assert.rejects(openEmbeddedStore({ dataDir: dir }), /does not name a process/);
});
