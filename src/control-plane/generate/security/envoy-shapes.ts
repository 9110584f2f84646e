// The Envoy messages the security generator builds, as protobufjs plain objects (snake_case field
// names of envoy/config/rbac/v3/rbac.proto and envoy/type/matcher/v3/*.proto).
import type { EnvoyResource } from '../envoy-types.ts';

/** An rbac.v3.Permission or rbac.v3.Principal (one member of its oneof is set). */
export type RbacMatcher = Record<string, unknown>;
/** A type.matcher.v3.StringMatcher. */
export type StringMatcher = Record<string, unknown>;
/** A type.matcher.v3.ValueMatcher. */
export type ValueMatcher = Record<string, unknown>;

/** A listener or HTTP filter: `{ name, typed_config }` with typed_config an Any. */
export interface EnvoyFilter { name: string; typed_config: EnvoyResource }

export const permissionAny: RbacMatcher = { any: true };
export const principalAny: RbacMatcher = { any: true };

export const permissionAnd = (rules: RbacMatcher[]): RbacMatcher => ({ and_rules: { rules } });
export const permissionOr = (rules: RbacMatcher[]): RbacMatcher => ({ or_rules: { rules } });
export const permissionNot = (rule: RbacMatcher): RbacMatcher => ({ not_rule: rule });
export const principalAnd = (ids: RbacMatcher[]): RbacMatcher => ({ and_ids: { ids } });
export const principalOr = (ids: RbacMatcher[]): RbacMatcher => ({ or_ids: { ids } });
export const principalNot = (id: RbacMatcher): RbacMatcher => ({ not_id: id });

/** A principal that no request has: Envoy's rbac matches nothing with it. */
export const principalNone: RbacMatcher = principalNot(principalAny);

/** An Envoy policy that matches no request, for policies without rules (as Istio emits it). */
export const policyMatchNever = {
  permissions: [permissionNot(permissionAny)],
  principals: [principalNone],
};

export const rbacHttpFilterName = 'envoy.filters.http.rbac';
export const rbacNetworkFilterName = 'envoy.filters.network.rbac';
export const rbacHttpType = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const rbacNetworkType = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';
