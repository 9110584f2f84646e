// Snapshots by node id, and watchers told when a node's snapshot changes. The ADS streams read
// from here and know nothing about how snapshots are made (go-control-plane's cache seam).
import type { Snapshot } from './snapshot.ts';

export type SnapshotListener = (snapshot: Snapshot) => void;

export class SnapshotCache {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly listeners = new Map<string, Set<SnapshotListener>>();

  get(nodeId: string): Snapshot | undefined {
    return this.snapshots.get(nodeId);
  }

  /** Stores a node's snapshot; watchers hear of it only if some type's version changed. */
  set(nodeId: string, snapshot: Snapshot): boolean {
    const previous = this.snapshots.get(nodeId);
    this.snapshots.set(nodeId, snapshot);
    if (previous && sameVersions(previous, snapshot)) return false;
    for (const l of this.listeners.get(nodeId) ?? []) l(snapshot);
    return true;
  }

  delete(nodeId: string): void {
    this.snapshots.delete(nodeId);
  }

  watch(nodeId: string, listener: SnapshotListener): () => void {
    let set = this.listeners.get(nodeId);
    if (!set) this.listeners.set(nodeId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(nodeId);
    };
  }
}

function sameVersions(a: Snapshot, b: Snapshot): boolean {
  for (const t of Object.keys(a.types) as (keyof Snapshot['types'])[]) {
    if (a.types[t].version !== b.types[t]?.version) return false;
  }
  return true;
}
