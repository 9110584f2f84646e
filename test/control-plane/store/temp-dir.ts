// Temp data directories for store tests, removed in after().
import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore, type Store } from '../../../src/control-plane/store/index.ts';

/** Registers an after() hook in the calling test file that removes every directory handed out. */
export function tempDirs(): () => Promise<string> {
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });
  return async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weft-store-'));
    made.push(dir);
    return dir;
  };
}

/** Runs fn with a store in a fresh directory, closing the store afterwards. */
export function storeRunner(): (fn: (store: Store) => Promise<void>) => Promise<void> {
  const newDir = tempDirs();
  return async (fn) => {
    const store = await openEmbeddedStore({ dataDir: await newDir() });
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };
}
