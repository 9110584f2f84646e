// The policies of one action → Envoy RBAC rule sets: enforced rules, and shadow rules for the
// policies in dry-run. Policy names follow Istio (`ns[<ns>]-policy[<name>]-rule[<i>]`) so that
// stats, logs and the dynamic metadata of shadow evaluation name the rule that matched.
import type { AuthorizationPolicy } from '../../../api/index.ts';
import { isError } from './attribute.ts';
import { isDryRun } from './dry-run.ts';
import { policyMatchNever } from './envoy-shapes.ts';
import { rulePolicy, type EnvoyPolicy, type RbacAction } from './rule-policy.ts';

/** An rbac.v3.RBAC. */
export interface RbacRules { action: RbacAction; policies: Record<string, EnvoyPolicy> }

export interface BuiltRules {
  /** Absent when every policy of this action is in dry-run. */
  rules?: RbacRules;
  /** Absent when no policy of this action is in dry-run. */
  shadow?: RbacRules;
}

export interface BuildOptions {
  action: RbacAction;
  forTcp: boolean;
  trustDomains: string[];
  /** Prepended to every policy name (CUSTOM: `istio-ext-authz-<provider>-`). */
  namePrefix?: string;
  warnings: string[];
}

export function policyName(prefix: string, policy: AuthorizationPolicy, rule: number): string {
  return `${prefix}ns[${policy.metadata.namespace}]-policy[${policy.metadata.name}]-rule[${rule}]`;
}

export function buildRules(policies: AuthorizationPolicy[], opts: BuildOptions): BuiltRules {
  const enforced: RbacRules = { action: opts.action, policies: {} };
  const shadow: RbacRules = { action: opts.action, policies: {} };
  let anyEnforced = false;
  let anyShadow = false;
  const prefix = opts.namePrefix ?? '';
  for (const policy of policies) {
    const dryRun = isDryRun(policy, opts.warnings);
    const target = dryRun ? shadow : enforced;
    if (dryRun) anyShadow = true;
    else anyEnforced = true;
    const rules = policy.spec.rules ?? [];
    rules.forEach((rule, i) => {
      const generated = rulePolicy(rule ?? {}, {
        policyNamespace: policy.metadata.namespace, forTcp: opts.forTcp, action: opts.action, trustDomains: opts.trustDomains,
      });
      const name = policyName(prefix, policy, i);
      if (isError(generated)) {
        // On TCP this is expected (HTTP-only fields); say so only for HTTP, where it is a real problem.
        if (!opts.forTcp) opts.warnings.push(`AuthorizationPolicy ${policy.metadata.namespace}/${policy.metadata.name}: rules[${i}] skipped: ${generated.error}`);
        return;
      }
      target.policies[name] = generated;
    });
    // A policy without rules matches nothing: an ALLOW policy {} then allows nothing.
    if (rules.length === 0) target.policies[policyName(prefix, policy, 0)] = policyMatchNever;
  }
  return { rules: anyEnforced ? enforced : undefined, shadow: anyShadow ? shadow : undefined };
}
