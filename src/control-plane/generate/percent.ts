// Istio percentages -> Envoy FractionalPercent. Istio's Percent is 0..100 with decimals (written per
// MILLION, as Istio does); the deprecated integer forms are per HUNDRED; absent means always.
import type { Percent } from '../../api/index.ts';
import type { EnvoyResource } from './envoy-types.ts';

export function fractionalPercent(percentage: Percent | undefined, legacyPercent: number | undefined): EnvoyResource {
  if (percentage?.value !== undefined) return { numerator: Math.round(percentage.value * 10_000), denominator: 'MILLION' };
  if (legacyPercent !== undefined) return { numerator: legacyPercent, denominator: 'HUNDRED' };
  return { numerator: 100, denominator: 'HUNDRED' };
}
