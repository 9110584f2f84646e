// envoy.filters.http.rbac: role-based access control of requests, with Envoy's semantics
// (source/extensions/filters/http/rbac/rbac_filter.cc):
// - the shadow rules run first and are never enforced: they are counted (shadow_allowed /
//   shadow_denied) and leave `<shadow_rules_stat_prefix>shadow_effective_policy_id` (when a policy
//   matched) and `<shadow_rules_stat_prefix>shadow_engine_result` in the dynamic metadata under
//   envoy.filters.http.rbac, which later filters (ext_authz's filter_enabled_metadata) and access logs read;
// - then the rules: allowed requests go on, denied ones get a local 403 `RBAC: access denied` (gRPC's
//   form for gRPC requests) and never reach the upstream; the LOG action lets everything through and
//   leaves access_log_hint (whether a policy matched);
// - a route's RBACPerRoute replaces the filter's rules for that route (an empty one turns them off).
// The connection's addresses and peer identity are read once per connection (DownstreamConnection).
import type { HttpStream } from '../../stream.ts';
import { RbacAction } from '../../../rbac/engine.ts';
import {
  RbacFilterRules, accessLogHintKey, commonMetadataNamespace, engineResultAllowed, engineResultDenied, setMetadata,
} from '../../../rbac/filter-rules.ts';
import type { RbacFilterStats } from '../../../telemetry/stat-objects.ts';
import { FilterStatus, PassThroughFilter } from '../filter.ts';

/** The namespace of the filter's dynamic metadata, whatever its name in http_filters. */
export const rbacMetadataNamespace = 'envoy.filters.http.rbac';
const deniedBody = Buffer.from('RBAC: access denied');
const deniedNoPolicy = 'rbac_access_denied_matched_policy[none]';

/** RBACPerRoute compiled: the rules that replace the filter's for a route. */
export class RbacPerRoute {
  readonly rules: RbacFilterRules;

  constructor(rules: RbacFilterRules) {
    this.rules = rules;
  }
}

export class RbacFilter extends PassThroughFilter {
  readonly rules: RbacFilterRules;
  readonly stats: RbacFilterStats;
  /**
   * Envoy's response code details of denied requests (`rbac_access_denied_matched_policy[<name>]`,
   * `[none]` when no policy matched): the stream has no slot for them, so the filter keeps them by stream.
   */
  readonly responseCodeDetails = new WeakMap<HttpStream, string>();

  constructor(name: string, rules: RbacFilterRules, stats: RbacFilterStats) {
    super(name);
    this.rules = rules;
    this.stats = stats;
  }

  override decodeHeaders(stream: HttpStream): FilterStatus {
    let rules = this.rules;
    const perRoute = stream.route?.perFilterConfig?.get(this.name);
    if (perRoute instanceof RbacPerRoute) rules = perRoute.rules;
    const shadow = rules.shadow;
    const engine = rules.engine;
    if (shadow === null && engine === null) return FilterStatus.Continue;
    const connection = stream.connection.connectionFacts();

    if (shadow !== null) {
      const matched = shadow.matchedPolicy(connection, stream);
      let result = engineResultAllowed;
      if (shadow.allows(matched)) this.stats.shadowAllowed++;
      else {
        this.stats.shadowDenied++;
        result = engineResultDenied;
      }
      if (matched !== null) {
        stream.dynamicMetadata = setMetadata(stream.dynamicMetadata, rbacMetadataNamespace, rules.shadowEffectivePolicyIdKey, matched.name);
      }
      stream.dynamicMetadata = setMetadata(stream.dynamicMetadata, rbacMetadataNamespace, rules.shadowEngineResultKey, result);
    }

    if (engine === null) return FilterStatus.Continue;
    const matched = engine.matchedPolicy(connection, stream);
    if (engine.action === RbacAction.Log) {
      // Envoy keeps the hint in the namespace shared by filters; it is also left under the filter's own.
      stream.dynamicMetadata = setMetadata(stream.dynamicMetadata, commonMetadataNamespace, accessLogHintKey, matched !== null);
      stream.dynamicMetadata = setMetadata(stream.dynamicMetadata, rbacMetadataNamespace, accessLogHintKey, matched !== null);
    }
    if (engine.allows(matched)) {
      this.stats.allowed++;
      return FilterStatus.Continue;
    }
    this.stats.denied++;
    this.responseCodeDetails.set(stream, matched === null ? deniedNoPolicy : `rbac_access_denied_matched_policy[${matched.name}]`);
    stream.sendLocalReply(403, deniedBody, 0);
    return FilterStatus.StopIteration;
  }
}
