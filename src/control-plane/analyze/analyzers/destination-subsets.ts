// virtualservice.DestinationRuleAnalyzer: every subset a VirtualService routes or mirrors to is
// defined by a DestinationRule for that host. Weft applies the most specific DestinationRules for a
// host (an exact host before wildcards, a longer wildcard before a shorter one), so the subset must
// be defined by one of those, not by a broader rule they hide.
import type { DestinationRule } from '../../../api/index.ts';
import type { AnalysisContext, Analyzer } from '../context.ts';
import { ReferencedResourceNotFound } from '../messages.ts';
import { routeDestinations } from '../route-destinations.ts';

/** The DestinationRules that apply to `host` (an FQDN): those with the most specific matching host. */
export function destinationRulesFor(ctx: AnalysisContext, host: string): DestinationRule[] {
  let best = -1;
  let found: DestinationRule[] = [];
  for (const dr of ctx.destinationRules) {
    const h = ctx.fqdn(dr.spec.host, dr.metadata.namespace);
    const score = h === host ? Infinity : h.startsWith('*') && host.endsWith(h.slice(1)) ? h.length : -1;
    if (score < 0 || score < best) continue;
    if (score > best) { best = score; found = []; }
    found.push(dr);
  }
  return found;
}

export const destinationSubsets: Analyzer = {
  name: 'virtualservice.DestinationRuleAnalyzer',
  description: 'Checks the destination rules associated with each virtual service',
  analyze(ctx) {
    for (const vs of ctx.virtualServices) {
      for (const { destination: d, mirror } of routeDestinations(vs)) {
        if (d.subset === undefined) continue;
        const rules = destinationRulesFor(ctx, ctx.fqdn(d.host, vs.metadata.namespace));
        if (rules.some((dr) => dr.spec.subsets?.some((s) => s.name === d.subset))) continue;
        ctx.report(vs, ReferencedResourceNotFound, mirror ? 'mirror+subset in destinationrule' : 'host+subset in destinationrule', `${d.host}+${d.subset}`);
      }
    }
  },
};
