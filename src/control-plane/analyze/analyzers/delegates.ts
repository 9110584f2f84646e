// virtualservice.DelegateAnalyzer (Weft): delegation between VirtualServices. A rule's
// `delegate: {name, namespace}` must name an existing VirtualService without hosts, exported to
// the delegating VirtualService's namespace (Istio skips the rule otherwise). A delegate that no
// rule references is unused; one referenced by several VirtualServices is reported for information.
import type { VirtualService, VirtualServiceSpec } from '../../../api/index.ts';
import { exportScopes, type Analyzer } from '../context.ts';
import {
  DelegateHasHosts, DelegateNotExported, DelegateWithSeveralRoots, ReferencedResourceNotFound, UnusedDelegate,
} from '../messages.ts';

export const delegates: Analyzer = {
  name: 'virtualservice.DelegateAnalyzer',
  description: 'Checks that delegate references name delegate virtual services the root can use',
  analyze(ctx) {
    const roots = new Map<VirtualService, Set<string>>();
    for (const vs of ctx.virtualServices) {
      for (const rule of vs.spec.http ?? []) {
        if (!rule.delegate?.name) continue;
        const ns = rule.delegate.namespace || vs.metadata.namespace;
        const ref = `${ns}/${rule.delegate.name}`;
        const target: VirtualService | undefined = ctx.get<VirtualServiceSpec>('VirtualService', ns, rule.delegate.name);
        if (!target) {
          ctx.report(vs, ReferencedResourceNotFound, 'delegate VirtualService', ref);
          continue;
        }
        if (target.spec.hosts?.length) {
          ctx.report(vs, DelegateHasHosts, ref);
          continue;
        }
        const scopes = exportScopes(target.spec.exportTo, ns);
        if (!scopes.has('*') && !scopes.has(vs.metadata.namespace)) {
          ctx.report(vs, DelegateNotExported, ref, vs.metadata.namespace, target.spec.exportTo ?? []);
        }
        if (!roots.has(target)) roots.set(target, new Set());
        roots.get(target)!.add(`${vs.metadata.namespace}/${vs.metadata.name}`);
      }
    }
    for (const vs of ctx.virtualServices) {
      if (vs.spec.hosts?.length) continue;
      const by = roots.get(vs);
      if (!by) ctx.report(vs, UnusedDelegate);
      else if (by.size > 1) ctx.report(vs, DelegateWithSeveralRoots, by.size, [...by].sort().join(', '));
    }
  },
};
