// Temp data directories for store tests, removed in after().
import { after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
