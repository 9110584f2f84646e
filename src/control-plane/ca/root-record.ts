// The self-signed CA's roots, kept in the store so that a restart and every replica sharing the
// store sign with the same root. One record holds every trusted root, oldest first; the last one
// signs. Only the signing root keeps its private key: a root that was rotated out never signs again.
import { StoreConflictError, type Store } from '../store/index.ts';
import { CaError } from './errors.ts';

export const caKind = 'weft.io/CertificateAuthority';
export const caNamespace = '';
export const caName = 'roots';

export interface StoredRoot { certPem: string; keyPem?: string }
export interface RootsRecord { roots: StoredRoot[] }
export interface VersionedRoots { record: RootsRecord; version: number }

export function readRoots(store: Store): VersionedRoots | undefined {
  const stored = store.get(caKind, caNamespace, caName);
  if (!stored) return undefined;
  return { record: checkRecord(stored.value), version: stored.resourceVersion };
}

function checkRecord(value: unknown): RootsRecord {
  const roots = (value as Partial<RootsRecord> | null)?.roots;
  const valid = Array.isArray(roots) && roots.length > 0 &&
    roots.every((r) => typeof r?.certPem === 'string' && (r.keyPem === undefined || typeof r.keyPem === 'string')) &&
    typeof roots[roots.length - 1].keyPem === 'string';
  if (!valid) {
    throw new CaError('WEFT_E_CA_CORRUPT',
      `the store's ${caKind} ${caName} is not a list of roots whose last one has a key; ` +
      'restore it from a backup, or delete it to start a new root (every workload certificate will then change)');
  }
  return value as RootsRecord;
}

/**
 * Returns the stored roots, creating the first one if there is none. Race-safe between replicas:
 * the create only succeeds if nothing exists, and the loser of a race adopts the winner's root.
 */
export async function ensureRoots(store: Store, createRoot: () => Promise<StoredRoot>): Promise<VersionedRoots> {
  const existing = readRoots(store);
  if (existing) return existing;
  const root = await createRoot();
  try {
    const { results } = await store.commit([
      { op: 'put', kind: caKind, namespace: caNamespace, name: caName, value: { roots: [root] }, expectedVersion: 0 },
    ]);
    return { record: checkRecord(results[0].value), version: results[0].resourceVersion };
  } catch (err) {
    const winner = err instanceof StoreConflictError ? readRoots(store) : undefined;
    if (winner) return winner;
    throw err;
  }
}

/**
 * Applies change to the current roots with an optimistic check, re-reading and trying again when
 * another replica changed them in between. change returns undefined when there is nothing to do.
 */
export async function updateRoots(
  store: Store, change: (current: RootsRecord) => Promise<RootsRecord | undefined>,
): Promise<VersionedRoots> {
  for (let attempt = 1; ; attempt++) {
    const current = readRoots(store);
    if (!current) throw new CaError('WEFT_E_CA_CORRUPT', `the store's ${caKind} ${caName} disappeared`);
    const next = await change(current.record);
    if (!next) return current;
    try {
      const { results } = await store.commit([{
        op: 'put', kind: caKind, namespace: caNamespace, name: caName, value: next, expectedVersion: current.version,
      }]);
      return { record: checkRecord(results[0].value), version: results[0].resourceVersion };
    } catch (err) {
      if (!(err instanceof StoreConflictError) || attempt >= 5) throw err;
    }
  }
}
