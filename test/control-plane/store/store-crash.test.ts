// Crash safety with a real kill -9: a child commits batches in a loop, each writing one counter
// into several resources; we kill it at random moments and check the state on disk each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { openEmbeddedStore } from '../../../src/control-plane/store/index.ts';
import { startFixture, stopFixture } from './child.ts';
import { tempDirs } from './temp-dir.ts';

const newDir = tempDirs();
const ROUNDS = 15;
const RESOURCES = 8;

test('kill -9 at random moments never leaves a torn or older state than the child saw committed', { timeout: 20_000 }, async (t) => {
  const dir = await newDir();
  let committed = 0; // the highest counter any child reported as committed
  let killedMidWrite = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const writer = startFixture('crash-writer.ts', [dir, String(RESOURCES)]);
    try {
      const first = await writer.waitForLine(() => true);
      assert.ok(first !== undefined, `round ${round}: the writer exited before committing anything`);
      await sleep(Math.floor(Math.random() * 40));
    } finally {
      await stopFixture(writer, 'SIGKILL');
    }
    assert.equal(writer.child.signalCode, 'SIGKILL', `round ${round}: the writer died on its own`);
    const reported = Math.max(...writer.lines.map(Number));
    assert.ok(reported > committed, `round ${round}: the writer made no progress`);
    committed = reported;
    if ((await readdir(dir)).some((name) => name.includes('.tmp-'))) killedMidWrite++;

    const store = await openEmbeddedStore({ dataDir: dir });
    try {
      const counters = store.list({ kind: 'Counter' }).map((r) => (r.value as { counter: number }).counter);
      assert.equal(counters.length, RESOURCES, `round ${round}: resources missing`);
      assert.ok(counters.every((c) => c === counters[0]), `round ${round}: torn state, counters ${counters.join(',')}`);
      const onDisk = counters[0]!;
      assert.ok(onDisk >= committed, `round ${round}: state went back to ${onDisk}, but ${committed} was reported committed`);
      assert.ok(onDisk <= committed + 1, `round ${round}: state ${onDisk} is ahead of the one batch that could be in flight`);
      assert.equal(store.revision, onDisk, `round ${round}: one revision per batch`);
      committed = onDisk;
    } finally {
      await store.close();
    }
  }
  t.diagnostic(`${ROUNDS} kills, ${killedMidWrite} during a write (temp file present), last counter ${committed}`);
});
