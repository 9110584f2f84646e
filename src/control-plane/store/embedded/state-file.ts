// The embedded store's state on disk: one file, replaced atomically on every commit.
//
// Format (two JSON lines):
//   {"format":"weft-embedded-store","version":1,"bodyBytes":<n>,"sha256":"<hex of the body bytes>"}
//   {"revision":<n>,"resources":[{"kind","namespace","name","resourceVersion","value"}, ...]}
// The body is everything after the first newline (including its own trailing newline).
// A write goes to a temp file in the same directory, is fsync'd, renamed over the state file, and
// the directory is fsync'd, so a crash at any moment leaves the old state or the new one.
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreCorruptError } from '../errors.ts';
import type { StoredResource } from '../store.ts';
import { deepFreeze, resourceKey } from './resource-key.ts';

export const STATE_FILE = 'state.jsonl';
const TEMP_PREFIX = `${STATE_FILE}.tmp-`;
const FORMAT = 'weft-embedded-store';
const VERSION = 1;

export interface PersistedState { revision: number; resources: StoredResource[] }

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export function encodeState(state: PersistedState): Buffer {
  const body = Buffer.from(JSON.stringify({
    revision: state.revision,
    resources: state.resources.map(({ kind, namespace, name, resourceVersion, value }) =>
      ({ kind, namespace, name, resourceVersion, value })),
  }) + '\n');
  const header = JSON.stringify({ format: FORMAT, version: VERSION, bodyBytes: body.length, sha256: sha256(body) });
  return Buffer.concat([Buffer.from(header + '\n'), body]);
}

/** Parses and verifies a state file's bytes; throws StoreCorruptError naming `file`. */
export function decodeState(bytes: Buffer, file: string): PersistedState {
  const corrupt = (reason: string, cause?: unknown) => new StoreCorruptError(file, reason, { cause });
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) throw corrupt('no header line (file truncated or not a Weft store)');
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(0, newline).toString('utf8'));
  } catch (err) {
    throw corrupt('the header line is not JSON', err);
  }
  if (header?.format !== FORMAT) throw corrupt(`not a Weft embedded store file (format ${JSON.stringify(header?.format)})`);
  if (header.version !== VERSION) throw corrupt(`unsupported format version ${JSON.stringify(header.version)} (this build reads version ${VERSION})`);
  const body = bytes.subarray(newline + 1);
  if (body.length !== header.bodyBytes) throw corrupt(`body is ${body.length} bytes, header says ${String(header.bodyBytes)} (truncated?)`);
  if (sha256(body) !== header.sha256) throw corrupt('sha256 checksum mismatch');
  let parsed: { revision?: unknown; resources?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw corrupt('the body is not JSON', err);
  }
  const { revision, resources } = parsed ?? {};
  if (!Number.isSafeInteger(revision) || (revision as number) < 0) throw corrupt('revision is not a non-negative integer');
  if (!Array.isArray(resources)) throw corrupt('resources is not an array');
  const seen = new Set<string>();
  const checked = resources.map((r: Partial<StoredResource> | null, i): StoredResource => {
    const ok = r !== null && typeof r === 'object' && typeof r.kind === 'string' && r.kind !== ''
      && typeof r.namespace === 'string' && typeof r.name === 'string' && r.name !== ''
      && Number.isSafeInteger(r.resourceVersion) && r.resourceVersion! >= 1 && r.resourceVersion! <= (revision as number)
      && r.value !== undefined;
    if (!ok) throw corrupt(`resource ${i} is malformed`);
    const key = resourceKey(r.kind!, r.namespace!, r.name!);
    if (seen.has(key)) throw corrupt(`resource ${i} (${r.kind} ${r.namespace}/${r.name}) appears twice`);
    seen.add(key);
    return Object.freeze({
      kind: r.kind!, namespace: r.namespace!, name: r.name!, resourceVersion: r.resourceVersion!, value: deepFreeze(r.value),
    });
  });
  return { revision: revision as number, resources: checked };
}

/** Reads the state file; undefined when there is none yet (a new data directory). */
export async function readStateFile(dir: string): Promise<PersistedState | undefined> {
  const file = join(dir, STATE_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreCorruptError(file, `it cannot be read (${(err as Error).message})`, { cause: err });
  }
  return decodeState(bytes, file);
}

/** Replaces the state file atomically and durably. */
export async function writeStateFile(dir: string, state: PersistedState): Promise<void> {
  const temp = join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(encodeState(state));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, join(dir, STATE_FILE));
  } catch (err) {
    await unlink(temp).catch(() => {});
    throw err;
  }
  await syncDirectory(dir);
}

/** Makes renames and new entries in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Removes temp files left by a write that never finished (call only while holding the lock). */
export async function removeTempFiles(dir: string): Promise<string[]> {
  const leftovers = (await readdir(dir)).filter((name) => name.startsWith(TEMP_PREFIX));
  for (const name of leftovers) await unlink(join(dir, name)).catch(() => {});
  return leftovers;
}
