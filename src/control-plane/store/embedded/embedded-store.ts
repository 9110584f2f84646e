// The embedded store: the whole state in memory, persisted to one file in a data directory
// (state-file.ts), commits applied one at a time in order, the directory locked against a second
// control plane (data-dir-lock.ts).
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { silentLogger, type Logger } from '../../../common/log.ts';
import { StoreClosedError } from '../errors.ts';
import type { Store, StoredResource, StoreListener, StoreOp } from '../store.ts';
import { applyBatch, prepareOps, type ResourceMap } from './batch.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { resourceKey, sortedResources } from './resource-key.ts';
import { readStateFile, removeTempFiles, syncDirectory, writeStateFile } from './state-file.ts';

export async function openEmbeddedStore(options: { dataDir: string; logger?: Logger }): Promise<Store> {
  const dataDir = resolve(options.dataDir);
  const logger = (options.logger ?? silentLogger).child({ component: 'store', backend: 'embedded' });
  const created = await mkdir(dataDir, { recursive: true });
  if (created !== undefined) { // make the new directory entries durable, innermost first
    for (let dir = dataDir; dir !== dirname(created); dir = dirname(dir)) await syncDirectory(dirname(dir));
  }
  const lock = await lockDataDir(dataDir, logger);
  try {
    const leftovers = await removeTempFiles(dataDir);
    if (leftovers.length > 0) logger.info('removed temp files of an unfinished write', { dataDir, files: leftovers });
    const state = await readStateFile(dataDir) ?? { revision: 0, resources: [] };
    const resources = new Map(state.resources.map((r) => [resourceKey(r.kind, r.namespace, r.name), r]));
    logger.info('embedded store opened', { dataDir, revision: state.revision, resources: resources.size });
    return new EmbeddedStore(dataDir, logger, lock, state.revision, resources);
  } catch (err) {
    await lock.release().catch(() => {});
    throw err;
  }
}

type CommitResult = { revision: number; results: StoredResource[] };

class EmbeddedStore implements Store {
  readonly #dataDir: string;
  readonly #logger: Logger;
  readonly #lock: DataDirLock;
  #revision: number;
  #resources: ResourceMap;
  readonly #listeners = new Set<StoreListener>();
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined = undefined;
  #failure: Error | undefined = undefined;

  constructor(dataDir: string, logger: Logger, lock: DataDirLock, revision: number, resources: ResourceMap) {
    this.#dataDir = dataDir;
    this.#logger = logger;
    this.#lock = lock;
    this.#revision = revision;
    this.#resources = resources;
  }

  get revision(): number {
    return this.#revision;
  }

  get(kind: string, namespace: string, name: string): StoredResource | undefined {
    return this.#resources.get(resourceKey(kind, namespace, name));
  }

  list(filter: { kind?: string; namespace?: string } = {}): StoredResource[] {
    const matching = [...this.#resources.values()].filter((r) =>
      (filter.kind === undefined || r.kind === filter.kind) && (filter.namespace === undefined || r.namespace === filter.namespace));
    return sortedResources(matching);
  }

  commit(ops: StoreOp[]): Promise<CommitResult> {
    if (this.#closing) return Promise.reject(new StoreClosedError());
    let prepared: StoreOp[];
    try {
      prepared = prepareOps(ops);
    } catch (err) {
      return Promise.reject(err);
    }
    const run = this.#queue.then(() => this.#commitNow(prepared));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #commitNow(ops: StoreOp[]): Promise<CommitResult> {
    if (this.#failure) throw new StoreClosedError('the store stopped accepting writes after a failed write; restart it', { cause: this.#failure });
    const revision = this.#revision + 1;
    const batch = applyBatch(this.#resources, ops, revision);
    if (batch.events.length === 0) return { revision: this.#revision, results: batch.results };
    try {
      await writeStateFile(this.#dataDir, { revision, resources: sortedResources(batch.next.values()) });
    } catch (err) {
      // The file on disk may now hold either revision; refuse further writes rather than guess.
      this.#failure = err as Error;
      this.#logger.error('writing the store state failed; no further writes are accepted', { dataDir: this.#dataDir, error: String(err) });
      throw err;
    }
    this.#resources = batch.next;
    this.#revision = revision;
    for (const listener of [...this.#listeners]) {
      if (!this.#listeners.has(listener)) continue; // unsubscribed by an earlier listener
      try {
        listener(batch.events, revision);
      } catch (err) {
        this.#logger.error('a store watcher threw', { revision, error: String(err) });
      }
    }
    return { revision, results: batch.results };
  }

  watch(listener: StoreListener): () => void {
    const subscription: StoreListener = (events, revision) => listener(events, revision);
    this.#listeners.add(subscription);
    return () => { this.#listeners.delete(subscription); };
  }

  close(): Promise<void> {
    this.#closing ??= this.#queue.then(async () => {
      this.#listeners.clear();
      await this.#lock.release();
      this.#logger.info('embedded store closed', { dataDir: this.#dataDir, revision: this.#revision });
    });
    return this.#closing;
  }
}
