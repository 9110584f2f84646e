// MAGLEV (Google's Maglev consistent hashing, as Envoy builds it): a lookup table of table_size
// entries (a prime, 65537 by default) filled by letting every endpoint claim slots in turn along its
// own permutation of the table (offset = XXH64(address) % M, skip = XXH64(address, seed 1) % (M - 1) + 1),
// heavier endpoints claiming more often. A request goes to table[hash % M]. Lookups are O(1); when an
// endpoint leaves, slightly more than its share of keys move (Maglev trades some stability for even
// spread and speed).
import { FieldPath, checkFields, uintWrapper, type Message } from '../../envoy-config.ts';
import type { Host } from '../../host.ts';
import { combineHashes, hashString } from '../hash.ts';
import { emptyLoadBalancer, registerLoadBalancer, type CompiledLoadBalancer, type LoadBalancer } from '../registry.ts';

const two53 = 2 ** 53;
export const defaultTableSize = 65537;
/** Envoy's upper bound for table_size. */
const maxTableSize = 5000011;

export class MaglevTable implements LoadBalancer {
  readonly hosts: readonly Host[];
  /** table[slot]: index into hosts. */
  readonly table: Uint32Array;

  constructor(hosts: readonly Host[], weights: Float64Array, tableSize: number) {
    this.hosts = hosts;
    const m = tableSize;
    const n = hosts.length;
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const target = new Float64Array(n);
    let maxWeight = 0;
    for (let i = 0; i < n; i++) {
      offset[i] = hashString(hosts[i].key) % m;
      skip[i] = (hashString(hosts[i].key, 1) % (m - 1)) + 1;
      if (weights[i] > maxWeight) maxWeight = weights[i];
    }
    const table = new Uint32Array(m);
    const filled = new Uint8Array(m);
    let count = 0;
    for (let iteration = 1; count < m; iteration++) {
      for (let i = 0; i < n && count < m; i++) {
        // A host of the largest weight claims a slot every iteration; one of a third of it, every third.
        if (iteration * weights[i] < target[i]) continue;
        target[i] += maxWeight;
        let slot = (offset[i] + skip[i] * next[i]) % m;
        while (filled[slot] === 1) {
          next[i]++;
          slot = (offset[i] + skip[i] * next[i]) % m;
        }
        filled[slot] = 1;
        table[slot] = i;
        next[i]++;
        count++;
      }
    }
    this.table = table;
  }

  pick(hash?: number, attempt = 0): Host | null {
    let h = hash ?? Math.floor(Math.random() * two53);
    // As Envoy: a host selection retry rehashes the key with the attempt number.
    if (attempt > 0) h = combineHashes(h, hashString(`attempt_${attempt}`));
    return this.hosts[this.table[h % this.table.length]];
  }
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

const maglevFields = new Set(['table_size']);

export function compileTableSize(at: FieldPath, config: Message | undefined): number {
  if (!config) return defaultTableSize;
  checkFields(at, config, maglevFields);
  const size = uintWrapper(at.field('table_size'), config.table_size) ?? defaultTableSize;
  if (size > maxTableSize) at.field('table_size').reject(`must be at most ${maxTableSize}`);
  if (!isPrime(size)) at.field('table_size').reject(`${size} is not a prime number`);
  return size;
}

function compile(at: FieldPath, config: Message | undefined): CompiledLoadBalancer {
  const tableSize = compileTableSize(at, config);
  return {
    factory: (hosts, weights) => (hosts.length === 0 ? emptyLoadBalancer : new MaglevTable(hosts, weights, tableSize)),
    hashBased: true, slowStart: null,
  };
}

export function register(): void {
  registerLoadBalancer('MAGLEV', { configField: 'maglev_lb_config', compile });
}
