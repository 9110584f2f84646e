// exportTo: which namespaces see a ServiceEntry, VirtualService or DestinationRule. Absent or `*`:
// every namespace; `.`: its own namespace; a name: that namespace; `~`: none (ServiceEntry). A proxy is
// generated from the part of the mesh its namespace sees, as Istio scopes config per proxy.
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { labelsMatch } from './subsets.ts';

export function visibleTo(exportTo: readonly string[] | undefined, ownNamespace: string, clientNamespace: string): boolean {
  if (exportTo === undefined || exportTo.length === 0) return true;
  return exportTo.some((e) => e === '*' || e === clientNamespace || (e === '.' && ownNamespace === clientNamespace));
}

/** The snapshot as the proxy's namespace sees it. */
export function visibleSnapshot(snapshot: MeshSnapshot, proxy: ProxyNode): MeshSnapshot {
  const ns = proxy.metadata.namespace;
  return {
    ...snapshot,
    services: snapshot.services.filter((s) => visibleTo(s.exportTo, s.namespace, ns)),
    virtualServices: snapshot.virtualServices.filter((vs) => visibleTo(vs.spec.exportTo, vs.metadata.namespace, ns)),
    // A DestinationRule with a workloadSelector applies only to the selected workloads of its namespace.
    destinationRules: snapshot.destinationRules.filter((dr) => visibleTo(dr.spec.exportTo, dr.metadata.namespace, ns)
      && (dr.spec.workloadSelector === undefined || (dr.metadata.namespace === ns && labelsMatch(dr.spec.workloadSelector.matchLabels, proxy.metadata.labels)))),
  };
}
