// The control plane's store: Istio resources as the user wrote them, with etcd-like versions and
// watches. Backends (embedded/, etcd/) are interchangeable behind this interface (DESIGN.md decision 6).
export {
  StoreError, StoreConflictError, StoreInvalidOpError, StoreCorruptError, StoreLockedError, StoreClosedError,
} from './errors.ts';

export interface StoredResource {
  kind: string;
  namespace: string;
  name: string;
  /** The store revision at which this resource last changed. */
  resourceVersion: number;
  /** The resource object as given, after a JSON round trip (the store keeps JSON only). Frozen. */
  value: unknown;
}

export type StoreEvent =
  | { type: 'put'; resource: StoredResource; previous?: StoredResource }
  | { type: 'delete'; resource: StoredResource /* last value */ };

export type StoreOp =
  | { op: 'put'; kind: string; namespace: string; name: string; value: unknown; expectedVersion?: number /* 0 = must not exist */ }
  | { op: 'delete'; kind: string; namespace: string; name: string; expectedVersion?: number };

export type StoreListener = (events: StoreEvent[], revision: number) => void;

export interface Store {
  /** Monotonically increasing; bumped once per committed batch that changed something. */
  readonly revision: number;
  get(kind: string, namespace: string, name: string): StoredResource | undefined;
  /** Sorted by kind, then namespace, then name. */
  list(filter?: { kind?: string; namespace?: string }): StoredResource[];
  /**
   * Applies ops atomically (all or nothing) and resolves once the batch is durable. A failed
   * expectedVersion check rejects with StoreConflictError and changes nothing. A key may appear
   * only once per batch (as in an etcd transaction). A put of a deep-equal value and a delete of a
   * missing key are no-ops; a batch of only no-ops keeps the revision and emits no event.
   * `results` holds, for each put op in op order, the resource as now stored.
   */
  commit(ops: StoreOp[]): Promise<{ revision: number; results: StoredResource[] }>;
  /**
   * Calls listener once per committed batch, after it is durable, with that batch's events in op
   * order. Only batches committed after the call are delivered: list() then watch() in the same
   * tick gives a consistent start. Returns unsubscribe.
   */
  watch(listener: StoreListener): () => void;
  /** Waits for queued commits, then releases the backend. Further commits reject. */
  close(): Promise<void>;
}
