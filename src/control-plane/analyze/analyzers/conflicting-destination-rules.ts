// destinationrule.ConflictingHostAnalyzer (Weft): two DestinationRules of one namespace for the same
// host. Istio merges such rules (subsets of both, the first rule's traffic policy); Weft applies
// one DestinationRule per host, so the others are silently ignored. Rules with a workloadSelector
// apply to their workloads only and are not compared.
import type { DestinationRule } from '../../../api/index.ts';
import type { Analyzer } from '../context.ts';
import { ConflictingDestinationRules } from '../messages.ts';

export const conflictingDestinationRules: Analyzer = {
  name: 'destinationrule.ConflictingHostAnalyzer',
  description: 'Checks that no two destination rules of a namespace define the same host',
  analyze(ctx) {
    const byHost = new Map<string, DestinationRule[]>();
    for (const dr of ctx.destinationRules) {
      if (dr.spec.workloadSelector !== undefined) continue;
      const key = `${dr.metadata.namespace}/${ctx.fqdn(dr.spec.host, dr.metadata.namespace)}`;
      byHost.set(key, [...(byHost.get(key) ?? []), dr]);
    }
    for (const [key, rules] of byHost) {
      if (rules.length < 2) continue;
      const names = rules.map((r) => r.metadata.name).sort().join(', ');
      const ns = key.slice(0, key.indexOf('/'));
      for (const dr of rules) ctx.report(dr, ConflictingDestinationRules, names, ns, key.slice(ns.length + 1));
    }
  },
};
