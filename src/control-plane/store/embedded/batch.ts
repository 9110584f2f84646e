// One batch of store ops: validated, then applied to a copy of the state (pure, no I/O).
import { isDeepStrictEqual } from 'node:util';
import { StoreConflictError, StoreInvalidOpError } from '../errors.ts';
import type { StoredResource, StoreEvent, StoreOp } from '../store.ts';
import { deepFreeze, resourceKey } from './resource-key.ts';

export type ResourceMap = ReadonlyMap<string, StoredResource>;

export interface AppliedBatch {
  /** The state after the batch; the same object as the input when nothing changed. */
  next: ResourceMap;
  events: StoreEvent[];
  results: StoredResource[];
}

function describe(op: StoreOp, index: number): string {
  return `op ${index} (${op.op} ${String(op.kind)} ${String(op.namespace)}/${String(op.name)})`;
}

/** Checks the shape of every op and returns copies whose values are frozen JSON round trips. */
export function prepareOps(ops: readonly StoreOp[]): StoreOp[] {
  if (!Array.isArray(ops)) throw new StoreInvalidOpError('commit expects an array of ops');
  const seen = new Set<string>();
  return ops.map((op, i) => {
    if (op === null || typeof op !== 'object' || (op.op !== 'put' && op.op !== 'delete')) {
      throw new StoreInvalidOpError(`op ${i}: op must be 'put' or 'delete'`);
    }
    const where = describe(op, i);
    if (typeof op.kind !== 'string' || op.kind === '') throw new StoreInvalidOpError(`${where}: kind must be a non-empty string`);
    if (typeof op.namespace !== 'string') throw new StoreInvalidOpError(`${where}: namespace must be a string`);
    if (typeof op.name !== 'string' || op.name === '') throw new StoreInvalidOpError(`${where}: name must be a non-empty string`);
    if (op.expectedVersion !== undefined && !(Number.isSafeInteger(op.expectedVersion) && op.expectedVersion >= 0)) {
      throw new StoreInvalidOpError(`${where}: expectedVersion must be a non-negative integer`);
    }
    const key = resourceKey(op.kind, op.namespace, op.name);
    if (seen.has(key)) throw new StoreInvalidOpError(`${where}: the same resource appears twice in one batch`);
    seen.add(key);
    if (op.op === 'delete') return { ...op };
    return { ...op, value: toFrozenJson(op.value, where) };
  });
}

function toFrozenJson(value: unknown, where: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new StoreInvalidOpError(`${where}: value is not JSON-serialisable: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new StoreInvalidOpError(`${where}: value is not JSON-serialisable`);
  return deepFreeze(JSON.parse(text));
}

/**
 * Applies prepared ops at `revision`. Every expectedVersion is checked against the state before
 * the batch, and any failure throws StoreConflictError before anything changes.
 */
export function applyBatch(current: ResourceMap, ops: readonly StoreOp[], revision: number): AppliedBatch {
  for (const op of ops) {
    if (op.expectedVersion === undefined) continue;
    const actual = current.get(resourceKey(op.kind, op.namespace, op.name))?.resourceVersion ?? 0;
    if (actual !== op.expectedVersion) throw new StoreConflictError(op, op.expectedVersion, actual);
  }
  let next: Map<string, StoredResource> | undefined;
  const events: StoreEvent[] = [];
  const results: StoredResource[] = [];
  for (const op of ops) {
    const key = resourceKey(op.kind, op.namespace, op.name);
    const previous = current.get(key);
    if (op.op === 'delete') {
      if (previous === undefined) continue;
      next ??= new Map(current);
      next.delete(key);
      events.push(Object.freeze({ type: 'delete', resource: previous }));
      continue;
    }
    if (previous !== undefined && isDeepStrictEqual(previous.value, op.value)) {
      results.push(previous);
      continue;
    }
    const resource: StoredResource = Object.freeze({
      kind: op.kind, namespace: op.namespace, name: op.name, resourceVersion: revision, value: op.value,
    });
    next ??= new Map(current);
    next.set(key, resource);
    results.push(resource);
    events.push(Object.freeze(previous === undefined ? { type: 'put', resource } : { type: 'put', resource, previous }));
  }
  return { next: next ?? current, events: Object.freeze(events) as StoreEvent[], results };
}
