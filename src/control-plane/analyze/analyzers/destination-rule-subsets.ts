// destinationrule.SubsetSelectPodAnalyzer: each subset of a DestinationRule selects at least one
// endpoint of the service(s) the rule's host names; a subset that selects none answers 503
// (no healthy upstream). Only services with STATIC resolution are checked: their endpoints
// (WorkloadEntries, inline endpoints, registered sidecars) are all the registry knows; DNS and
// NONE services get theirs elsewhere.
import type { Analyzer } from '../context.ts';
import { DestinationRuleSubsetNotSelectPods } from '../messages.ts';

const selects = (labels: Record<string, string> | undefined, of: Record<string, string>) =>
  Object.entries(labels ?? {}).every(([k, v]) => of[k] === v);

export const destinationRuleSubsets: Analyzer = {
  name: 'destinationrule.SubsetSelectPodAnalyzer',
  description: 'Checks that every subset of a destination rule selects at least one workload',
  analyze(ctx) {
    for (const dr of ctx.destinationRules) {
      if (!dr.spec.subsets?.length) continue;
      const host = ctx.fqdn(dr.spec.host, dr.metadata.namespace);
      const services = ctx.mesh.services.filter((s) => (host.startsWith('*') ? s.hostname.endsWith(host.slice(1)) : s.hostname === host));
      if (services.length === 0 || services.some((s) => s.resolution !== 'STATIC')) continue;
      const endpoints = services.flatMap((s) => [...s.endpoints.values()].flat());
      for (const subset of dr.spec.subsets) {
        if (!endpoints.some((e) => selects(subset.labels, e.labels))) ctx.report(dr, DestinationRuleSubsetNotSelectPods, subset.name);
      }
    }
  },
};
