// virtualservice.ConflictingMeshGatewayHostsAnalyzer: two VirtualServices bound to the mesh (no
// gateways, or `mesh`) for the same host, visible in the same namespace, is undefined behaviour:
// a sidecar uses one of them. Hosts are compared per export scope, as Istio does: a VirtualService
// exported to every namespace conflicts with any other for a host its host matches.
import { hostsOverlap, type VirtualService } from '../../../api/index.ts';
import { exportScopes, type Analyzer } from '../context.ts';
import { ConflictingMeshGatewayVirtualServiceHosts } from '../messages.ts';

const boundToMesh = (vs: VirtualService) => !vs.spec.gateways?.length || vs.spec.gateways.includes('mesh');

export const conflictingMeshHosts: Analyzer = {
  name: 'virtualservice.ConflictingMeshGatewayHostsAnalyzer',
  description: 'Checks if multiple virtual services associated with the mesh gateway have conflicting hosts',
  analyze(ctx) {
    // `scope/fqdn` → the VirtualServices defining that host for that scope.
    const byScopedHost = new Map<string, VirtualService[]>();
    for (const vs of ctx.virtualServices) {
      if (!boundToMesh(vs)) continue;
      const ns = vs.metadata.namespace;
      const scopes = exportScopes(vs.spec.exportTo, ns);
      for (const scope of scopes.has('*') ? ['*'] : scopes) {
        for (const h of new Set((vs.spec.hosts ?? []).map((x) => ctx.fqdn(x, ns)))) {
          const key = `${scope}/${h}`;
          byScopedHost.set(key, [...(byScopedHost.get(key) ?? []), vs]);
        }
      }
    }
    const reported = new Set<VirtualService>();
    for (const [key, list] of byScopedHost) {
      const slash = key.indexOf('/');
      const scope = key.slice(0, slash);
      const host = key.slice(slash + 1);
      const conflicting = new Set(list);
      if (scope !== '*') {
        for (const [other, vss] of byScopedHost) {
          if (other.startsWith('*/') && hostsOverlap(host, other.slice(2))) vss.forEach((v) => conflicting.add(v));
        }
      }
      if (conflicting.size < 2) continue;
      const names = [...conflicting].map((v) => `${v.metadata.namespace}/${v.metadata.name}`).sort().join(',');
      for (const vs of conflicting) {
        if (reported.has(vs)) continue;
        reported.add(vs);
        ctx.report(vs, ConflictingMeshGatewayVirtualServiceHosts, names, key);
      }
    }
  },
};
