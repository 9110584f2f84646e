// How the embedded store identifies and orders resources.
import type { StoredResource } from '../store.ts';

export interface ResourceKey { kind: string; namespace: string; name: string }

/** An unambiguous map key for (kind, namespace, name), whatever characters they hold. */
export function resourceKey(kind: string, namespace: string, name: string): string {
  return JSON.stringify([kind, namespace, name]);
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Orders by kind, then namespace, then name (code-unit order, independent of locale). */
export function compareResources(a: ResourceKey, b: ResourceKey): number {
  return byCodeUnit(a.kind, b.kind) || byCodeUnit(a.namespace, b.namespace) || byCodeUnit(a.name, b.name);
}

export function sortedResources(resources: Iterable<StoredResource>): StoredResource[] {
  return [...resources].sort(compareResources);
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
