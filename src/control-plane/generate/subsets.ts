// DestinationRule lookup and subset selection, with Istio's host resolution.
import type { DestinationRule, Subset } from '../../api/index.ts';
import type { Endpoint, MeshSnapshot } from '../registry/model.ts';
import { hostMatches, resolveHost } from './hosts.ts';

/**
 * The DestinationRule that applies to a service host. Istio prefers a rule in the client's
 * namespace, then the service's namespace, then the root namespace; among equals, the oldest (here:
 * the first by namespace/name, as the store lists them).
 */
export function destinationRuleFor(snapshot: MeshSnapshot, hostname: string, clientNamespace: string, serviceNamespace: string): DestinationRule | undefined {
  // An exact host wins over wildcards; among wildcards, the most specific (longest) wins.
  let best = -1;
  let matching: DestinationRule[] = [];
  for (const dr of snapshot.destinationRules) {
    const host = resolveHost(dr.spec.host, dr.metadata.namespace, snapshot);
    const score = host === hostname ? Infinity : hostMatches(host, hostname) ? host.length : -1;
    if (score < 0 || score < best) continue;
    if (score > best) { best = score; matching = []; }
    matching.push(dr);
  }
  // A rule with a workloadSelector (only visible to the workloads it selects) wins over one without.
  for (const ns of [clientNamespace, serviceNamespace, snapshot.config.rootNamespace]) {
    const here = matching.filter((dr) => dr.metadata.namespace === ns);
    const found = here.find((dr) => dr.spec.workloadSelector !== undefined) ?? here[0];
    if (found) return found;
  }
  return matching[0];
}

export function subsetsOf(dr: DestinationRule | undefined): Subset[] {
  return dr?.spec.subsets ?? [];
}

export function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}

export function endpointsForSubset(endpoints: Endpoint[], subset: Subset | undefined): Endpoint[] {
  if (!subset) return endpoints;
  return endpoints.filter((e) => labelsMatch(subset.labels, e.labels));
}
