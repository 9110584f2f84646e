// AuthorizationPolicy actions AUDIT, DENY and ALLOW → one Envoy RBAC filter per action present, in
// the order Istio installs them: AUDIT (action LOG: marks requests for the access log, never
// rejects), then DENY, then ALLOW. A request is rejected when a DENY policy matches it, or when
// ALLOW policies exist and none matches it; with no ALLOW policy there is no ALLOW filter.
import type { AuthorizationPolicy } from '../../../api/index.ts';
import {
  rbacHttpFilterName, rbacHttpType, rbacNetworkFilterName, rbacNetworkType, type EnvoyFilter,
} from './envoy-shapes.ts';
import { buildRules, type BuiltRules } from './rbac-rules.ts';
import type { RbacAction } from './rule-policy.ts';

/** Stat prefixes of dry-run (shadow) results, as Istio names them. */
const shadowStatPrefix: Partial<Record<RbacAction, string>> = {
  ALLOW: 'istio_dry_run_allow_',
  DENY: 'istio_dry_run_deny_',
};

export const rbacTcpStatPrefix = 'tcp.';

function rbacConfig(built: BuiltRules, action: RbacAction): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  if (built.rules) config.rules = built.rules;
  if (built.shadow) {
    config.shadow_rules = built.shadow;
    const prefix = shadowStatPrefix[action];
    if (prefix) config.shadow_rules_stat_prefix = prefix;
  }
  return config;
}

export function httpRbacFilter(config: Record<string, unknown>): EnvoyFilter {
  return { name: rbacHttpFilterName, typed_config: { '@type': rbacHttpType, ...config } };
}

export function networkRbacFilter(config: Record<string, unknown>): EnvoyFilter {
  return { name: rbacNetworkFilterName, typed_config: { '@type': rbacNetworkType, stat_prefix: rbacTcpStatPrefix, ...config } };
}

const order: { action: RbacAction; policyAction: 'AUDIT' | 'DENY' | 'ALLOW' }[] = [
  { action: 'LOG', policyAction: 'AUDIT' },
  { action: 'DENY', policyAction: 'DENY' },
  { action: 'ALLOW', policyAction: 'ALLOW' },
];

/** The RBAC filters of the ALLOW, DENY and AUDIT policies that apply to one workload. */
export function authorizationFilters(
  policies: AuthorizationPolicy[], forTcp: boolean, trustDomains: string[], warnings: string[],
): EnvoyFilter[] {
  const filters: EnvoyFilter[] = [];
  for (const { action, policyAction } of order) {
    const ofAction = policies.filter((p) => (p.spec.action ?? 'ALLOW') === policyAction);
    if (ofAction.length === 0) continue;
    const config = rbacConfig(buildRules(ofAction, { action, forTcp, trustDomains, warnings }), action);
    filters.push(forTcp ? networkRbacFilter(config) : httpRbacFilter(config));
  }
  return filters;
}
