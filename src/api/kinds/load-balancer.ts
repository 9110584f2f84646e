// LoadBalancerSettings of a DestinationRule's traffic policy: simple or consistent-hash balancing,
// locality and zone-aware settings, warmup.

import { array, boolean, duration, enumOf, integer, map, number, object, report, string, type Context, type Schema } from '../schema.ts';

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

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let f = 3; f * f <= n; f += 2) if (n % f === 0) return false;
  return true;
}

const httpCookie: Schema<HTTPCookie> = object<HTTPCookie>({
  name: string({ check: (n) => (n === '' ? 'must not be empty' : undefined) }),
  path: string(),
  ttl: duration({ allowZero: true }),
  attributes: array(object<HTTPCookieAttribute>({ name: string(), value: string() }, { required: ['name'] })),
}, { required: ['name'] });

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

function checkLocality(lb: LocalityLoadBalancerSetting, path: string, ctx: Context): void {
  if (lb.distribute?.length && lb.failover?.length) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, 'distribute and failover cannot both be set');
  }
  lb.distribute?.forEach((d, i) => {
    const sum = Object.values(d.to ?? {}).reduce((a, b) => a + b, 0);
    if (sum !== 100) report(ctx, 'WEFT_E_WEIGHT_SUM', `${path}.distribute[${i}].to`, `locality weights must sum to 100 (they sum to ${sum})`);
  });
  lb.failover?.forEach((f, i) => {
    const p = `${path}.failover[${i}]`;
    if (f.from === f.to) report(ctx, 'WEFT_E_INVALID_VALUE', p, 'from and to must be different regions');
    if ([f.from, f.to].some((r) => r?.includes('/') || r?.includes('*'))) {
      report(ctx, 'WEFT_E_INVALID_VALUE', p, 'failover names regions only (no "/" or "*")');
    }
  });
}

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
});

export const warmupConfiguration: Schema<WarmupConfiguration> = object<WarmupConfiguration>({
  duration: duration(),
  minimumPercent: number({ min: 0, max: 100 }),
  aggression: number({ min: 1 }),
}, { required: ['duration'] });

export const loadBalancerSettings: Schema<LoadBalancerSettings> = object<LoadBalancerSettings>({
  simple: enumOf(SIMPLE_LB),
  consistentHash: consistentHashLB,
  localityLbSetting,
  zoneAwareLbSetting,
  warmupDurationSecs: duration(),
  warmup: warmupConfiguration,
}, { oneOf: [['simple', 'consistentHash'], ['warmupDurationSecs', 'warmup']] });
