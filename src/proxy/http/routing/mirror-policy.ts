// envoy.config.route.v3.RouteAction.RequestMirrorPolicy (route.request_mirror_policies[]) → MirrorPolicy,
// compiled when the route configuration arrives: the fraction becomes one integer threshold, so per
// request a policy costs at most one Math.random() (none at 0 % or 100 %).
//
// Supported: cluster, runtime_fraction.default_value (a FractionalPercent; no runtime_key: there is no
// runtime), trace_sampled (accepted and ignored: no tracing yet), disable_shadow_host_suffix_append.
// Rejected: cluster_header, and any other field.
import { FieldPath, bool, boolWrapper, checkFields, integer, isPresent, message, optionalMessage, requiredString, string } from '../../upstream/envoy-config.ts';

const denominators: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };
const mirrorPolicyFields = new Set(['cluster', 'runtime_fraction', 'trace_sampled', 'disable_shadow_host_suffix_append']);
const runtimeFractionFields = new Set(['default_value', 'runtime_key']);
const fractionalPercentFields = new Set(['numerator', 'denominator']);

export class MirrorPolicy {
  readonly cluster: string;
  /** The fraction as numerator / denominator, the numerator capped at the denominator. */
  readonly numerator: number;
  readonly denominator: number;
  /** Envoy's default: the mirror copy's Host gets `-shadow` (disable_shadow_host_suffix_append turns it off). */
  readonly appendShadowSuffix: boolean;

  constructor(cluster: string, numerator: number, denominator: number, appendShadowSuffix: boolean) {
    this.cluster = cluster;
    this.numerator = numerator < denominator ? numerator : denominator;
    this.denominator = denominator;
    this.appendShadowSuffix = appendShadowSuffix;
  }

  /** Whether this request is mirrored (Envoy: a random value modulo the denominator below the numerator). */
  roll(): boolean {
    const n = this.numerator;
    if (n === 0) return false;
    if (n === this.denominator) return true;
    return Math.floor(Math.random() * this.denominator) < n;
  }
}

/** `reviews:9080` → `reviews-shadow:9080`, `reviews` → `reviews-shadow`, `[::1]:80` → `[::1]-shadow:80` (Envoy's shadow host). */
export function shadowHost(authority: string): string {
  const colon = authority.lastIndexOf(':');
  if (colon !== -1) {
    const bracket = authority.lastIndexOf(']');
    const singleColon = authority.indexOf(':') === colon;
    if ((bracket !== -1 && bracket < colon) || (bracket === -1 && singleColon)) {
      return `${authority.slice(0, colon)}-shadow${authority.slice(colon)}`;
    }
  }
  return `${authority}-shadow`;
}

/** Compiles route.request_mirror_policies; null when there are none (the router's path without mirroring). */
export function compileMirrorPolicies(at: FieldPath, value: unknown, clusterNames: Set<string>): MirrorPolicy[] | null {
  if (!isPresent(value)) return null;
  if (!Array.isArray(value)) at.reject('must be a list');
  if (value.length === 0) return null;
  return value.map((v, i) => {
    const pp = at.item(i);
    const p = message(pp, v);
    checkFields(pp, p, mirrorPolicyFields);
    const cluster = requiredString(pp.field('cluster'), p.cluster);
    clusterNames.add(cluster);
    boolWrapper(pp.field('trace_sampled'), p.trace_sampled);
    const disableSuffix = bool(pp.field('disable_shadow_host_suffix_append'), p.disable_shadow_host_suffix_append) ?? false;
    let numerator = 100;
    let denominator = 100;
    const rf = optionalMessage(pp.field('runtime_fraction'), p.runtime_fraction);
    if (rf !== undefined) {
      const rp = pp.field('runtime_fraction');
      checkFields(rp, rf, runtimeFractionFields);
      const key = string(rp.field('runtime_key'), rf.runtime_key);
      if (key !== undefined && key !== '') rp.field('runtime_key').reject('is not supported (there is no runtime; use default_value)');
      const dp = rp.field('default_value');
      const d = optionalMessage(dp, rf.default_value);
      if (d === undefined) throw dp.error('is required');
      checkFields(dp, d, fractionalPercentFields);
      numerator = integer(dp.field('numerator'), d.numerator) ?? 0;
      if (numerator < 0) dp.field('numerator').reject('must not be negative');
      const name = (d.denominator ?? 'HUNDRED') as unknown;
      const den = typeof name === 'number' ? [100, 10_000, 1_000_000][name] : denominators[String(name)];
      if (den === undefined) dp.field('denominator').reject(`${String(name)} is not one of HUNDRED, TEN_THOUSAND, MILLION`);
      denominator = den;
    }
    return new MirrorPolicy(cluster, numerator, denominator, !disableSuffix);
  });
}
