// destinationrule.UnknownHostAnalyzer: a DestinationRule's host is a service in the registry (a
// ServiceEntry host visible from the rule's namespace); a wildcard host must cover at least one.
import type { Analyzer } from '../context.ts';
import { UnknownDestinationRuleHost } from '../messages.ts';

export const destinationRuleHosts: Analyzer = {
  name: 'destinationrule.UnknownHostAnalyzer',
  description: 'Checks that the host of each destination rule is a service in the mesh',
  analyze(ctx) {
    for (const dr of ctx.destinationRules) {
      const ns = dr.metadata.namespace;
      const host = ctx.fqdn(dr.spec.host, ns);
      const known = host.startsWith('*') ? ctx.wildcardMatchesAnyService(host, ns) : ctx.findServiceEntry(dr.spec.host, ns, dr.spec.exportTo) !== undefined;
      if (!known) ctx.report(dr, UnknownDestinationRuleHost, dr.spec.host);
    }
  },
};
