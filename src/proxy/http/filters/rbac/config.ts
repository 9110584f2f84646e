// envoy.filters.http.rbac configured as Envoy v3 (and Istio's AuthorizationPolicy translation) sets
// it: an envoy.extensions.filters.http.rbac.v3.RBAC in http_filters before the router, and optionally
// an RBACPerRoute in a route's typed_per_filter_config under the filter's name.
//
// RBAC supported: rules, shadow_rules, rules_stat_prefix, shadow_rules_stat_prefix (the policies'
// permissions and principals as rbac/compile-rules.ts lists them). Rejected with the reason: matcher
// and shadow_matcher (the xDS matcher API), CEL conditions, audit logging, track_per_rule_stats.
import { TypeUrl } from '../../../../xds/type-urls.ts';
import { RbacFilterRules, compileFilterRules } from '../../../rbac/filter-rules.ts';
import { FieldPath, bool, checkFields, optionalMessage, type Message } from '../../../upstream/envoy-config.ts';
import type { HttpFilter } from '../filter.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';
import { RbacFilter, RbacPerRoute } from './filter.ts';

export const rbacPerRouteTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

const rbacFields = new Set([
  '@type', 'type_url', 'rules', 'rules_stat_prefix', 'matcher', 'shadow_rules', 'shadow_matcher', 'shadow_rules_stat_prefix',
  'track_per_rule_stats',
]);
const perRouteFields = new Set(['@type', 'type_url', 'rbac']);

function compileRbacRules(config: Message, at: FieldPath): RbacFilterRules {
  checkFields(at, config, rbacFields);
  if (bool(at.field('track_per_rule_stats'), config.track_per_rule_stats) === true) {
    at.field('track_per_rule_stats').reject('true is not supported');
  }
  return compileFilterRules(at, config);
}

export function compileRbacConfig(config: Message, at: FieldPath, name: string): (context: HttpFilterContext) => HttpFilter {
  const rules = compileRbacRules(config, at);
  return (context) => new RbacFilter(name, rules, context.stats.rbacStats(rules.rulesStatPrefix, rules.shadowRulesStatPrefix));
}

/** RBACPerRoute: `rbac` replaces the filter's config on the route; absent, the route has no RBAC. */
export function compileRbacPerRoute(config: Message, at: FieldPath): RbacPerRoute {
  checkFields(at, config, perRouteFields);
  const rbac = optionalMessage(at.field('rbac'), config.rbac);
  return new RbacPerRoute(rbac === undefined ? new RbacFilterRules(null, null, '', '') : compileRbacRules(rbac, at.field('rbac')));
}

function rejectPerRouteAsFilter(_config: Message, at: FieldPath): never {
  return at.reject(`${rbacPerRouteTypeUrl} is a per-route config (typed_per_filter_config); http_filters takes ${TypeUrl.Rbac}`);
}

export function register(): void {
  registerHttpFilter(TypeUrl.Rbac, compileRbacConfig);
  registerHttpFilter(rbacPerRouteTypeUrl, rejectPerRouteAsFilter, compileRbacPerRoute);
}
