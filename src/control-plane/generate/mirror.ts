// VirtualService http[].mirror / mirrors -> Envoy route request_mirror_policies (absent percentage:
// every request is mirrored).
import type { Destination, HTTPRoute } from '../../api/index.ts';
import type { EnvoyResource } from './envoy-types.ts';
import { fractionalPercent } from './percent.ts';

/** `clusterFor` resolves a destination to its cluster, or undefined (with a warning) when unknown. */
export function mirrorPolicies(rule: HTTPRoute, clusterFor: (d: Destination, field: string) => string | undefined): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  const add = (d: Destination, f: EnvoyResource, field: string) => {
    const cluster = clusterFor(d, field);
    if (cluster !== undefined) out.push({ cluster, runtime_fraction: { default_value: f } });
  };
  if (rule.mirror) add(rule.mirror, fractionalPercent(rule.mirrorPercentage, rule.mirrorPercent), 'mirror');
  (rule.mirrors ?? []).forEach((m, i) => add(m.destination, fractionalPercent(m.percentage, undefined), `mirrors[${i}]`));
  return out;
}
