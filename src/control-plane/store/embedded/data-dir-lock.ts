// An exclusive lock on a data directory: a LOCK file holding the owner's PID.
// The file is written in full under a private name and then hard-linked to LOCK, so LOCK never
// exists half-written and link() fails atomically if it exists. A LOCK naming a dead process is
// taken over (a control plane killed with -9 leaves one behind).
import { link, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../../../common/log.ts';
import { StoreLockedError } from '../errors.ts';

export const LOCK_FILE = 'LOCK';
const PENDING_PREFIX = `${LOCK_FILE}.pending-`;

export interface DataDirLock { release(): Promise<void> }

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(lockPath: string): Promise<number | 'gone' | 'unknown'> {
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : 'unknown';
}

export async function lockDataDir(dir: string, logger: Logger): Promise<DataDirLock> {
  const lockPath = join(dir, LOCK_FILE);
  const pending = join(dir, `${PENDING_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  await writeFile(pending, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const linked = await link(pending, lockPath).then(() => true, (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        return false;
      });
      if (linked) {
        await removeDeadPending(dir).catch(() => {});
        return { release: () => releaseLock(lockPath) };
      }
      const holder = await readHolder(lockPath);
      if (holder === 'gone') continue;
      if (holder === 'unknown') {
        throw new StoreLockedError(dir, undefined, `${lockPath} does not name a process; remove it if no control plane uses this directory`);
      }
      if (isAlive(holder)) throw new StoreLockedError(dir, holder, `lock file ${lockPath}`);
      logger.warn('taking over the lock of a process that is gone', { dataDir: dir, pid: holder });
      await unlink(lockPath).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
    }
    throw new StoreLockedError(dir, undefined, `${lockPath} keeps changing under us`);
  } finally {
    await unlink(pending).catch(() => {});
  }
}

async function releaseLock(lockPath: string): Promise<void> {
  if ((await readHolder(lockPath)) === process.pid) await unlink(lockPath);
}

/** Pending files of processes killed between writing and linking them. */
async function removeDeadPending(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (!name.startsWith(PENDING_PREFIX)) continue;
    const pid = Number(name.slice(PENDING_PREFIX.length).split('-')[0]);
    if (pid !== process.pid && Number.isSafeInteger(pid) && !isAlive(pid)) await unlink(join(dir, name)).catch(() => {});
  }
}
