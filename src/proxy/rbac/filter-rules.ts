// What the HTTP and network RBAC filters share: the enforced rules and the shadow rules of one
// filter config (either may be absent), with the stat prefixes and the dynamic metadata keys derived
// from them once. The xDS matcher API alternatives (`matcher`, `shadow_matcher`) are rejected.
import { FieldPath, isPresent, optionalMessage, string, type Message } from '../upstream/envoy-config.ts';
import { compileRbacEngine, type RbacEngine } from './engine.ts';

export const engineResultAllowed = 'allowed';
export const engineResultDenied = 'denied';
/** Envoy puts the LOG action's hint in the namespace shared by filters. */
export const commonMetadataNamespace = 'envoy.common';
export const accessLogHintKey = 'access_log_hint';

export class RbacFilterRules {
  /** null: no `rules`, everything is allowed. */
  readonly engine: RbacEngine | null;
  /** null: no shadow rules. */
  readonly shadow: RbacEngine | null;
  readonly rulesStatPrefix: string;
  readonly shadowRulesStatPrefix: string;
  /** `<shadow_rules_stat_prefix>shadow_effective_policy_id` */
  readonly shadowEffectivePolicyIdKey: string;
  /** `<shadow_rules_stat_prefix>shadow_engine_result` */
  readonly shadowEngineResultKey: string;

  constructor(engine: RbacEngine | null, shadow: RbacEngine | null, rulesStatPrefix: string, shadowRulesStatPrefix: string) {
    this.engine = engine;
    this.shadow = shadow;
    this.rulesStatPrefix = rulesStatPrefix;
    this.shadowRulesStatPrefix = shadowRulesStatPrefix;
    this.shadowEffectivePolicyIdKey = `${shadowRulesStatPrefix}shadow_effective_policy_id`;
    this.shadowEngineResultKey = `${shadowRulesStatPrefix}shadow_engine_result`;
  }
}

/** rules / matcher, shadow_rules / shadow_matcher, shadow_rules_stat_prefix, and (HTTP only) rules_stat_prefix. */
export function compileFilterRules(at: FieldPath, config: Message): RbacFilterRules {
  if (isPresent(config.matcher)) at.field('matcher').reject('(the xDS matcher API) is not supported; use rules');
  if (isPresent(config.shadow_matcher)) at.field('shadow_matcher').reject('(the xDS matcher API) is not supported; use shadow_rules');
  const rules = optionalMessage(at.field('rules'), config.rules);
  const shadow = optionalMessage(at.field('shadow_rules'), config.shadow_rules);
  return new RbacFilterRules(
    rules === undefined ? null : compileRbacEngine(at.field('rules'), rules),
    shadow === undefined ? null : compileRbacEngine(at.field('shadow_rules'), shadow),
    string(at.field('rules_stat_prefix'), config.rules_stat_prefix) ?? '',
    string(at.field('shadow_rules_stat_prefix'), config.shadow_rules_stat_prefix) ?? '',
  );
}

/** Sets `key: value` in `metadata[namespace]` (creating both as needed) and returns the metadata. */
export function setMetadata(metadata: Record<string, Record<string, unknown>> | null, namespace: string, key: string,
  value: unknown): Record<string, Record<string, unknown>> {
  const md = metadata ?? {};
  (md[namespace] ??= {})[key] = value;
  return md;
}
