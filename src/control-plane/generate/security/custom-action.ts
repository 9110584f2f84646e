// AuthorizationPolicy action CUSTOM → per extension provider, an RBAC filter that only evaluates
// (its rules are shadow rules, so it never rejects) followed by an ext_authz filter that runs only
// when that evaluation matched one of the provider's policies. The authorizer then decides.
//
// When the provider cannot be used (unknown name, unresolvable service, bad settings), Istio fails
// closed: the requests the CUSTOM policies select are denied by an RBAC DENY filter instead.
import type { AuthorizationPolicy } from '../../../api/index.ts';
import type { MeshSnapshot } from '../../registry/model.ts';
import { httpRbacFilter, networkRbacFilter } from './authorization.ts';
import type { EnvoyFilter } from './envoy-shapes.ts';
import { extAuthzFilterName, extAuthzHttpConfig, extAuthzPolicyPrefix, extAuthzShadowStatPrefix } from './ext-authz.ts';
import { buildRules, type RbacRules } from './rbac-rules.ts';
import { isDryRun } from './dry-run.ts';

const badProviderSuffix = '-deny-due-to-bad-CUSTOM-action';

function denyAll(rules: RbacRules | undefined): Record<string, unknown> {
  const policies: RbacRules['policies'] = {};
  for (const [name, policy] of Object.entries(rules?.policies ?? {})) policies[name + badProviderSuffix] = policy;
  return { rules: { action: 'DENY', policies } };
}

function key(p: AuthorizationPolicy): string {
  return `AuthorizationPolicy ${p.metadata.namespace}/${p.metadata.name}`;
}

/** The filters of the CUSTOM policies that apply to one workload, one pair per provider (sorted by name). */
export function customActionFilters(
  mesh: MeshSnapshot, policies: AuthorizationPolicy[], forTcp: boolean, trustDomains: string[], warnings: string[],
): EnvoyFilter[] {
  const byProvider = new Map<string, AuthorizationPolicy[]>();
  for (const p of policies) {
    if (p.spec.action !== 'CUSTOM') continue;
    // An authorizer call cannot be rehearsed: a dry-run CUSTOM policy would still call (and obey) it.
    if (isDryRun(p, warnings)) {
      warnings.push(`${key(p)}: dry-run is not supported for action CUSTOM; the policy is ignored`);
      continue;
    }
    const name = p.spec.provider?.name ?? '';
    byProvider.set(name, [...(byProvider.get(name) ?? []), p]);
  }
  const filters: EnvoyFilter[] = [];
  for (const providerName of [...byProvider.keys()].sort()) {
    const ofProvider = byProvider.get(providerName)!;
    const built = buildRules(ofProvider, {
      action: 'DENY', forTcp, trustDomains, warnings, namePrefix: `${extAuthzPolicyPrefix}-${providerName}-`,
    });
    const provider = mesh.config.extensionProviders?.find((e) => e.name === providerName);
    const names = ofProvider.map(key).join(', ');
    const errors = !provider
      ? [`extension provider "${providerName}" is not defined in the mesh config`]
      : !provider.envoyExtAuthzHttp
        ? [`extension provider "${providerName}" is not an envoyExtAuthzHttp provider`]
        : undefined;
    const config = provider?.envoyExtAuthzHttp && extAuthzHttpConfig(mesh, providerName, provider.envoyExtAuthzHttp);
    const problems = errors ?? (config && 'errors' in config ? config.errors as string[] : []);
    if (problems.length > 0 || !config) {
      warnings.push(`${names}: action CUSTOM cannot use provider "${providerName}" (${problems.join('; ')}); the requests it selects are denied`);
      filters.push(forTcp ? networkRbacFilter(denyAll(built.rules)) : httpRbacFilter(denyAll(built.rules)));
      continue;
    }
    // An HTTP authorizer cannot judge a TCP connection; as Istio, the policy does not apply to it
    // (not reported: most workloads with CUSTOM policies serve only HTTP).
    if (forTcp) continue;
    filters.push(
      httpRbacFilter({ shadow_rules: built.rules ?? { action: 'DENY', policies: {} }, shadow_rules_stat_prefix: extAuthzShadowStatPrefix }),
      { name: extAuthzFilterName, typed_config: config },
    );
  }
  return filters;
}
