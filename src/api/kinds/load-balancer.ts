// LoadBalancerSettings of a DestinationRule's traffic policy: simple or consistent-hash balancing,
// locality and zone-aware settings, warmup.

import { array, boolean, duration, enumOf, integer, map, number, object, report, string, type Context, type Schema } from '../schema.ts';
import { reportDuplicates } from './common.ts';

export const SIMPLE_LB = ['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'] as const;
export type SimpleLB = (typeof SIMPLE_LB)[number];

export interface HTTPCookieAttribute {
  name: string;
  value?: string;
}

export interface HTTPCookie {
  name: string;
  path?: string;
  ttl?: string;
  attributes?: HTTPCookieAttribute[];
}

export interface RingHash {
  minimumRingSize?: number;
}

export interface MagLev {
  tableSize?: number;
}

export interface ConsistentHashLB {
  httpHeaderName?: string;
  httpCookie?: HTTPCookie;
  useSourceIp?: boolean;
  httpQueryParameterName?: string;
  ringHash?: RingHash;
  maglev?: MagLev;
  /** Deprecated: use ringHash.minimumRingSize. */
  minimumRingSize?: number;
}

export interface LocalityFailover {
  from?: string;
  to?: string;
}

export interface LocalityDistribute {
  from?: string;
  /** Locality → weight (1..100); the weights of one `from` sum to 100. */
  to?: Record<string, number>;
}

export interface LocalityLoadBalancerSetting {
  distribute?: LocalityDistribute[];
  failover?: LocalityFailover[];
  failoverPriority?: string[];
  enabled?: boolean;
}

export interface ZoneAwareLoadBalancerSetting {
  enabled?: boolean;
  failover?: LocalityFailover[];
  failoverPriority?: string[];
  minClusterSize?: number;
}

export interface WarmupConfiguration {
  duration: string;
  minimumPercent?: number;
  aggression?: number;
}

export interface LoadBalancerSettings {
  simple?: SimpleLB;
  consistentHash?: ConsistentHashLB;
  localityLbSetting?: LocalityLoadBalancerSetting;
  zoneAwareLbSetting?: ZoneAwareLoadBalancerSetting;
  warmupDurationSecs?: string;
  warmup?: WarmupConfiguration;
}

const uint64 = (min = 0) => integer({ min, max: Number.MAX_SAFE_INTEGER });

/** Envoy's primality test for the Maglev table size (which Istio copies): 1, 2 and 3 pass. */
function isPrime(n: number): boolean {
  if (n > 0 && n < 4) return true;
  if (n % 2 === 0) return false;
  for (let f = 3; f * f <= n; f += 2) if (n % f === 0) return false;
  return true;
}

const httpCookie: Schema<HTTPCookie> = object<HTTPCookie>({
  name: string({ check: (n) => (n === '' ? 'must not be empty' : undefined) }),
  path: string(),
  ttl: duration({ allowZero: true, subMillisecond: true }),
  attributes: array(object<HTTPCookieAttribute>({
    name: string({ check: (n) => (n === '' ? 'must not be empty' : undefined) }),
    value: string(),
  }, { required: ['name'] })),
}, {
  required: ['name'],
  check(c, path, ctx) {
    reportDuplicates(ctx, `${path}.attributes`, (c.attributes ?? []).map((a) => a.name), 'cookie attribute name', '.name');
  },
});

export const consistentHashLB: Schema<ConsistentHashLB> = object<ConsistentHashLB>({
  httpHeaderName: string(),
  httpCookie,
  useSourceIp: boolean(),
  httpQueryParameterName: string(),
  ringHash: object<RingHash>({ minimumRingSize: uint64() }),
  maglev: object<MagLev>({
    tableSize: integer({ min: 1, max: 5_000_010 }),
  }, {
    check(m, path, ctx) {
      if (m.tableSize !== undefined && !isPrime(m.tableSize)) report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.tableSize`, 'must be a prime number');
    },
  }),
  minimumRingSize: uint64(),
}, {
  oneOf: [
    ['httpHeaderName', 'httpCookie', 'useSourceIp', 'httpQueryParameterName'],
    ['ringHash', 'maglev', 'minimumRingSize'],
  ],
});

const failover = () => array(object<LocalityFailover>({ from: string(), to: string() }));

function checkFailover(failovers: readonly LocalityFailover[] | undefined, path: string, ctx: Context): void {
  failovers?.forEach((f, i) => {
    const p = `${path}.failover[${i}]`;
    if (f.from === f.to) report(ctx, 'WEFT_E_INVALID_VALUE', p, 'from and to must be different regions');
    if ([f.from, f.to].some((r) => r?.includes('/') || r?.includes('*'))) {
      report(ctx, 'WEFT_E_INVALID_VALUE', p, 'failover names regions only (no "/" or "*")');
    }
  });
}

function checkLocality(lb: LocalityLoadBalancerSetting, path: string, ctx: Context): void {
  if (lb.distribute?.length && lb.failover?.length) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, 'distribute and failover cannot both be set');
  }
  if (lb.failover?.length) {
    lb.failoverPriority?.forEach((label, i) => {
      if (TOPOLOGY_LABELS.has(label)) {
        report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.failoverPriority[${i}]`, `topology label "${label}" cannot be used together with failover`);
      }
    });
  }
  lb.distribute?.forEach((d, i) => {
    const sum = Object.values(d.to ?? {}).reduce((a, b) => a + b, 0);
    if (sum !== 100) report(ctx, 'WEFT_E_WEIGHT_SUM', `${path}.distribute[${i}].to`, `locality weights must sum to 100 (they sum to ${sum})`);
    checkLocalities(Object.keys(d.to ?? {}), `${path}.distribute[${i}].to`, ctx);
  });
  checkLocalities((lb.distribute ?? []).map((d) => d.from ?? ''), `${path}.distribute`, ctx, '.from');
  checkFailover(lb.failover, path, ctx);
}

/**
 * Localities in `distribute`: `region[/zone[/subzone]]`, no empty part, at most one `*` and only at
 * the end, and no locality covered by another of the same list (Istio's validateLocalities).
 */
function checkLocalities(localities: readonly string[], path: string, ctx: Context, suffix = ''): void {
  const at = (i: number) => (suffix === '' ? `${path}[${JSON.stringify(localities[i])}]` : `${path}[${i}]${suffix}`);
  const valid: { i: number; parts: string[] }[] = [];
  localities.forEach((l, i) => {
    const stars = l.split('*').length - 1;
    if (stars > 1 || (stars === 1 && !l.endsWith('*'))) {
      report(ctx, 'WEFT_E_INVALID_VALUE', at(i), `locality "${l}": a wildcard "*" may appear once, at the end`);
    } else if (l.split('/', 3).some((p) => p === '')) {
      report(ctx, 'WEFT_E_INVALID_VALUE', at(i), `locality "${l}" has an empty region, zone or subzone`);
    } else {
      valid.push({ i, parts: l.split('/', 3) });
    }
  });
  // `a` covers `b` when every part of `a` is `*` or equal to b's, and `a` is not longer.
  const covers = (a: string[], b: string[]) => a.length <= b.length && a.every((p, k) => p === '*' || p === b[k]);
  valid.forEach((b, n) => {
    const earlier = valid.slice(0, n).find((a) => covers(a.parts, b.parts) || covers(b.parts, a.parts));
    if (earlier) report(ctx, 'WEFT_E_DUPLICATE', at(b.i), `locality "${localities[b.i]}" overlaps "${localities[earlier.i]}"`);
  });
}

// Topology labels Istio rejects in failoverPriority when failover (or zone-aware balancing) already orders by them.
const TOPOLOGY_LABELS = new Set(['topology.kubernetes.io/region', 'topology.kubernetes.io/zone', 'topology.istio.io/subzone']);

export const localityLbSetting: Schema<LocalityLoadBalancerSetting> = object<LocalityLoadBalancerSetting>({
  distribute: array(object<LocalityDistribute>({ from: string(), to: map(integer({ min: 1, max: 100 })) })),
  failover: failover(),
  failoverPriority: array(string()),
  enabled: boolean(),
}, { check: checkLocality });

export const zoneAwareLbSetting: Schema<ZoneAwareLoadBalancerSetting> = object<ZoneAwareLoadBalancerSetting>({
  enabled: boolean(),
  failover: failover(),
  failoverPriority: array(string()),
  minClusterSize: uint64(1),
}, {
  check(z, path, ctx) {
    z.failoverPriority?.forEach((label, i) => {
      if (TOPOLOGY_LABELS.has(label)) {
        report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.failoverPriority[${i}]`,
          `topology label "${label}" is not allowed: zone-aware balancing already orders endpoints by region, zone and subzone`);
      }
    });
    checkFailover(z.failover, path, ctx);
  },
});

export const warmupConfiguration: Schema<WarmupConfiguration> = object<WarmupConfiguration>({
  duration: duration(),
  minimumPercent: number({ min: 0, max: 100 }),
  aggression: number({ min: 0 }),
}, {
  required: ['duration'],
  check(w, path, ctx) {
    if (w.aggression === 0) report(ctx, 'WEFT_E_OUT_OF_RANGE', `${path}.aggression`, 'must be greater than 0');
  },
});

export const loadBalancerSettings: Schema<LoadBalancerSettings> = object<LoadBalancerSettings>({
  simple: enumOf(SIMPLE_LB),
  consistentHash: consistentHashLB,
  localityLbSetting,
  zoneAwareLbSetting,
  warmupDurationSecs: duration({ subMillisecond: true }),
  warmup: warmupConfiguration,
}, { oneOf: [['simple', 'consistentHash'], ['localityLbSetting', 'zoneAwareLbSetting'], ['warmupDurationSecs', 'warmup']] });
