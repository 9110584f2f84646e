// The traffic policy that applies to one outbound cluster, as Istio composes it: the DestinationRule's
// top-level policy, overridden by its portLevelSettings for the cluster's port, then by the subset's
// policy, then by the subset's portLevelSettings for that port. Port-level settings replace the
// connectionPool, outlierDetection, loadBalancer and tls groups whole (an omitted group falls back to
// its default rather than being inherited); a subset's policy replaces only the groups it sets.
import type { DestinationRule, PortTrafficPolicy, Subset, TrafficPolicy } from '../../api/index.ts';

export type EffectivePolicy = Omit<TrafficPolicy, 'portLevelSettings'>;

export function effectivePolicy(dr: DestinationRule | undefined, subset: Subset | undefined, port: number): EffectivePolicy {
  const merged: EffectivePolicy = {};
  const top = dr?.spec.trafficPolicy;
  if (top) {
    override(merged, top, false);
    const portLevel = portSettings(top.portLevelSettings, port);
    if (portLevel) override(merged, portLevel, true);
  }
  const own = subset?.trafficPolicy;
  if (own) {
    override(merged, own, false);
    const portLevel = portSettings(own.portLevelSettings, port);
    if (portLevel) override(merged, portLevel, true);
  }
  return merged;
}

function portSettings(settings: PortTrafficPolicy[] | undefined, port: number): PortTrafficPolicy | undefined {
  return settings?.find((s) => s.port?.number === port);
}

function override(into: EffectivePolicy, from: TrafficPolicy | PortTrafficPolicy, portLevel: boolean): void {
  if (from.connectionPool !== undefined || portLevel) into.connectionPool = from.connectionPool;
  if (from.outlierDetection !== undefined || portLevel) into.outlierDetection = from.outlierDetection;
  if (from.loadBalancer !== undefined || portLevel) into.loadBalancer = from.loadBalancer;
  if (from.tls !== undefined || portLevel) into.tls = from.tls;
  if (!portLevel) {
    const policy = from as TrafficPolicy;
    if (policy.tunnel !== undefined) into.tunnel = policy.tunnel;
    if (policy.proxyProtocol !== undefined) into.proxyProtocol = policy.proxyProtocol;
    if (policy.retryBudget !== undefined) into.retryBudget = policy.retryBudget;
  }
}
