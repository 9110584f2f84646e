// RING_HASH (Envoy's ketama-style consistent hashing): every endpoint owns points on a ring of 53-bit
// hashes, `XXH64("<address>:<port>_<i>")` for i = 0..n-1 (XX_HASH, Envoy's default hash_function), and
// a request goes to the owner of the first point at or after its hash (wrapping around). Removing one
// of N endpoints only moves the keys that were on its points (about 1/N of them).
//
// Points per endpoint: Envoy gives the lightest endpoint ceil(minimum_ring_size * its share of the
// total weight) points and the others in proportion to their weights (ring capped at
// maximum_ring_size). Here that count for the lightest endpoint is rounded up to a power of two, so
// that it does not change when an endpoint comes or goes (N = 9 or 10 endpoints both get 128 points
// each with the default 1024): keys on the endpoints that remain stay where they are. The ring is
// still at least minimum_ring_size long (when maximum_ring_size allows), as Envoy requires.
import { FieldPath, checkFields, isPresent, uintWrapper, type Message } from '../../envoy-config.ts';
import type { Host } from '../../host.ts';
import { hashString } from '../hash.ts';
import { emptyLoadBalancer, registerLoadBalancer, type CompiledLoadBalancer, type LoadBalancer } from '../registry.ts';

const two53 = 2 ** 53;
/** Envoy's limit for both ring sizes. */
const ringSizeLimit = 8 * 1024 * 1024;

export type RingSettings = { minimumRingSize: number; maximumRingSize: number };

export class Ring implements LoadBalancer {
  /** Point hashes, ascending. */
  readonly points: Float64Array;
  /** owners[i]: the host of points[i]. */
  readonly owners: readonly Host[];

  constructor(hosts: readonly Host[], weights: Float64Array, settings: RingSettings) {
    const counts = pointCounts(weights, settings);
    let total = 0;
    for (const c of counts) total += c;
    const hashes = new Float64Array(total);
    const hostIndex = new Uint32Array(total);
    let k = 0;
    for (let h = 0; h < hosts.length; h++) {
      const key = hosts[h].key;
      for (let i = 0; i < counts[h]; i++) {
        hashes[k] = hashString(`${key}_${i}`);
        hostIndex[k++] = h;
      }
    }
    const order = Array.from({ length: total }, (_, i) => i).sort((a, b) => hashes[a] - hashes[b] || hostIndex[a] - hostIndex[b]);
    this.points = new Float64Array(total);
    const owners: Host[] = new Array(total);
    for (let i = 0; i < total; i++) {
      this.points[i] = hashes[order[i]];
      owners[i] = hosts[hostIndex[order[i]]];
    }
    this.owners = owners;
  }

  get size(): number {
    return this.points.length;
  }

  pick(hash?: number, attempt = 0): Host | null {
    const h = hash ?? Math.floor(Math.random() * two53);
    const points = this.points;
    // First point >= h (lower bound), wrapping to the start.
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    // As Envoy: a host selection retry moves `attempt` points further along the ring.
    const i = (lo + attempt) % points.length;
    return this.owners[i];
  }
}

/** Points per host (see the file comment). */
function pointCounts(weights: Float64Array, settings: RingSettings): number[] {
  let sum = 0;
  let min = Infinity;
  for (const w of weights) {
    sum += w;
    if (w < min) min = w;
  }
  const lightest = Math.max(1, Math.ceil(settings.minimumRingSize * min / sum));
  const perMin = 2 ** Math.ceil(Math.log2(lightest));
  let counts = Array.from(weights, (w) => Math.max(1, Math.round(perMin * w / min)));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total > settings.maximumRingSize) {
    const scale = settings.maximumRingSize / total;
    counts = counts.map((c) => Math.max(1, Math.floor(c * scale)));
  }
  return counts;
}

function factoryFor(settings: RingSettings) {
  return (hosts: readonly Host[], weights: Float64Array): LoadBalancer =>
    hosts.length === 0 ? emptyLoadBalancer : new Ring(hosts, weights, settings);
}

const ringHashFields = new Set(['minimum_ring_size', 'maximum_ring_size', 'hash_function']);

export function compileRingSettings(at: FieldPath, config: Message | undefined): RingSettings {
  const settings: RingSettings = { minimumRingSize: 1024, maximumRingSize: ringSizeLimit };
  if (!config) return settings;
  checkFields(at, config, ringHashFields);
  const min = uintWrapper(at.field('minimum_ring_size'), config.minimum_ring_size);
  const max = uintWrapper(at.field('maximum_ring_size'), config.maximum_ring_size);
  if (min !== undefined) {
    if (min > ringSizeLimit) at.field('minimum_ring_size').reject(`must be at most ${ringSizeLimit}`);
    settings.minimumRingSize = Math.max(1, min);
  }
  if (max !== undefined) {
    if (max > ringSizeLimit) at.field('maximum_ring_size').reject(`must be at most ${ringSizeLimit}`);
    settings.maximumRingSize = Math.max(1, max);
  }
  if (settings.minimumRingSize > settings.maximumRingSize) {
    at.field('minimum_ring_size').reject(`${settings.minimumRingSize} is larger than maximum_ring_size ${settings.maximumRingSize}`);
  }
  if (isPresent(config.hash_function) && config.hash_function !== 'XX_HASH') {
    at.field('hash_function').reject(`${String(config.hash_function)} is not supported (XX_HASH is)`);
  }
  return settings;
}

function compile(at: FieldPath, config: Message | undefined): CompiledLoadBalancer {
  const settings = compileRingSettings(at, config);
  return { factory: factoryFor(settings), hashBased: true, slowStart: null };
}

export function register(): void {
  registerLoadBalancer('RING_HASH', { configField: 'ring_hash_lb_config', compile });
}
