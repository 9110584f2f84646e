// Locality load balancing, as Istio does it for a proxy in a given locality (region/zone/subzone):
//  - failover (needs outlierDetection, or traffic would never leave a failing locality): endpoint
//    groups get Envoy priorities by how much of their locality they share with the proxy (0: same
//    subzone, 1: same zone, 2: same region, 3: elsewhere; with `failover` rules, regions other than
//    the rule's `to` drop to 4), compacted to 0..N;
//  - distribute: the groups of the `to` localities get load_balancing_weights in proportion to the
//    rule's weights, and groups in no `to` locality get no endpoints.
import type { LocalityLoadBalancerSetting } from '../../api/index.ts';
import type { ProxyNode } from '../registry/model.ts';
import { commonLbConfig } from './cluster-policy.ts';
import type { EnvoyResource } from './envoy-types.ts';
import type { EffectivePolicy } from './traffic-policy.ts';

export interface Locality { region: string; zone: string; sub_zone: string }

export function parseLocality(value: string | undefined): Locality | undefined {
  if (!value) return undefined;
  const [region = '', zone = '', sub_zone = ''] = value.split('/');
  return region || zone || sub_zone ? { region, zone, sub_zone } : undefined;
}

/** Istio's rule matching: `region/zone/subzone`, each part `*` or omitted (zone, subzone) to match any. */
export function localityMatches(locality: Locality | undefined, rule: string): boolean {
  const [region = '', zone = '', subzone = ''] = rule.split('/');
  const l = locality ?? { region: '', zone: '', sub_zone: '' };
  return (region === '*' || l.region === region)
    && (zone === '*' || zone === '' || l.zone === zone)
    && (subzone === '*' || subzone === '' || l.sub_zone === subzone);
}

interface LocalityPlan {
  setting: LocalityLoadBalancerSetting;
  failover: boolean;
  distribute: boolean;
}

function plan(policy: EffectivePolicy, proxy: ProxyNode): LocalityPlan | undefined {
  const setting = policy.loadBalancer?.localityLbSetting ?? {};
  if (setting.enabled === false) return undefined;
  const proxyLocality = parseLocality(proxy.metadata.locality);
  const distribute = (setting.distribute ?? []).some((d) => d.from !== undefined && localityMatches(proxyLocality, d.from));
  const failover = !distribute && policy.outlierDetection !== undefined && proxyLocality !== undefined;
  if (!distribute && !failover) return undefined;
  return { setting, failover, distribute };
}

/** Cluster side: locality-weighted balancing when weights or failover rules are in play (as Istio). */
export function applyLocalityConfig(cluster: EnvoyResource, policy: EffectivePolicy, proxy: ProxyNode): void {
  const p = plan(policy, proxy);
  if (!p) return;
  if (p.distribute || (p.setting.failover ?? []).length > 0) commonLbConfig(cluster).locality_weighted_lb_config = {};
}

/** EDS side: priorities (failover) or locality weights (distribute) for this proxy. */
export function applyLocalityToAssignment(assignment: EnvoyResource, policy: EffectivePolicy, proxy: ProxyNode): void {
  const p = plan(policy, proxy);
  if (!p) return;
  const groups = assignment.endpoints as { locality: Locality; priority?: number; load_balancing_weight?: { value: number }; lb_endpoints: unknown[] }[];
  const proxyLocality = parseLocality(proxy.metadata.locality);
  if (p.distribute) {
    const rule = p.setting.distribute!.find((d) => d.from !== undefined && localityMatches(proxyLocality, d.from))!;
    const unmatched = new Set(groups.keys());
    for (const [to, weight] of Object.entries(rule.to ?? {})) {
      const members = [...unmatched].filter((i) => localityMatches(groups[i].locality, to));
      const total = members.reduce((sum, i) => sum + (groups[i].load_balancing_weight?.value ?? 1), 0);
      for (const i of members) {
        unmatched.delete(i);
        const share = ((groups[i].load_balancing_weight?.value ?? 1) * weight) / total;
        if (share > 0) groups[i].load_balancing_weight = { value: Math.ceil(share) };
      }
    }
    for (const i of unmatched) groups[i].lb_endpoints = [];
    return;
  }
  const failover = p.setting.failover ?? [];
  const raw = groups.map((g) => {
    let priority = sharedPriority(proxyLocality!, g.locality);
    if (priority === 3) {
      const rule = failover.find((f) => f.from === proxyLocality!.region);
      if (rule && g.locality.region !== rule.to) priority = 4;
    }
    return priority;
  });
  const levels = [...new Set(raw)].sort((a, b) => a - b);
  groups.forEach((g, i) => {
    const priority = levels.indexOf(raw[i]);
    if (priority > 0) g.priority = priority;
  });
}

function sharedPriority(proxy: Locality, endpoint: Locality): number {
  if (proxy.region !== endpoint.region) return 3;
  if (proxy.zone !== endpoint.zone) return 2;
  return proxy.sub_zone === endpoint.sub_zone ? 0 : 1;
}
