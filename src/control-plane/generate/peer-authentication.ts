// PeerAuthentication: which mTLS mode a workload's inbound port accepts, with Istio's inheritance.
// The most specific policy decides: a workload policy (selector matching the workload's labels, its
// portLevelMtls for the port first), then the namespace policy (no selector), then the mesh policy
// (no selector, in the root namespace). A mode of UNSET, or no policy at a level, inherits from the
// level above; with nothing set anywhere the mode is PERMISSIVE, as in Istio. When several policies
// compete at one level Istio takes the oldest; resources here carry no creation time, so the first by
// name decides (and a warning says so).
import type { MutualTlsMode, PeerAuthentication } from '../../api/index.ts';
import type { MeshSnapshot } from '../registry/model.ts';
import { labelsMatch } from './subsets.ts';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface WorkloadIdentity {
  namespace: string;
  labels: Record<string, string>;
}

export interface PeerAuthenticationPolicies {
  mesh: PeerAuthentication | undefined;
  namespace: PeerAuthentication | undefined;
  workload: PeerAuthentication | undefined;
}

function byName(a: PeerAuthentication, b: PeerAuthentication): number {
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

function first(list: PeerAuthentication[], warnings: string[] | undefined, level: string): PeerAuthentication | undefined {
  if (list.length === 0) return undefined;
  const sorted = [...list].sort(byName);
  if (sorted.length > 1 && warnings) {
    warnings.push(`PeerAuthentication: ${sorted.length} ${level} policies apply to the same workloads (${sorted.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(', ')}); ${sorted[0].metadata.namespace}/${sorted[0].metadata.name} is used`);
  }
  return sorted[0];
}

/** The policies at each level that apply to a workload. */
export function peerAuthenticationsFor(mesh: MeshSnapshot, workload: WorkloadIdentity, warnings?: string[]): PeerAuthenticationPolicies {
  const all = mesh.peerAuthentications ?? [];
  const root = mesh.config.rootNamespace;
  const selectorless = (p: PeerAuthentication) => p.spec.selector === undefined || Object.keys(p.spec.selector.matchLabels ?? {}).length === 0;
  return {
    mesh: first(all.filter((p) => p.metadata.namespace === root && selectorless(p)), warnings, 'mesh-wide'),
    namespace: workload.namespace === root ? undefined : first(all.filter((p) => p.metadata.namespace === workload.namespace && selectorless(p)), warnings, 'namespace-wide'),
    workload: first(all.filter((p) => p.metadata.namespace === workload.namespace && !selectorless(p)
      && labelsMatch(p.spec.selector?.matchLabels, workload.labels)), warnings, 'workload'),
  };
}

function set(mode: MutualTlsMode | undefined): mode is MtlsMode {
  return mode !== undefined && mode !== 'UNSET';
}

/**
 * The mode on one inbound port. `ports` are the numbers the port is known by (the sidecar's inbound
 * port, the service's target port, the application's port): portLevelMtls may name any of them.
 */
export function mtlsModeFor(policies: PeerAuthenticationPolicies, ports: readonly number[] = []): MtlsMode {
  const w = policies.workload?.spec;
  if (w?.portLevelMtls) {
    for (const port of ports) {
      const mode = w.portLevelMtls[String(port)]?.mode;
      if (set(mode)) return mode;
    }
  }
  for (const mode of [w?.mtls?.mode, policies.namespace?.spec.mtls?.mode, policies.mesh?.spec.mtls?.mode]) {
    if (set(mode)) return mode;
  }
  return 'PERMISSIVE';
}

export function workloadMtlsMode(mesh: MeshSnapshot, workload: WorkloadIdentity, ports: readonly number[] = []): MtlsMode {
  return mtlsModeFor(peerAuthenticationsFor(mesh, workload), ports);
}
