// AuthorizationPolicy (security.istio.io): allow, deny, audit or delegate (CUSTOM) requests to the
// selected workloads, by who sends them (from.source), what they ask for (to.operation) and extra
// conditions (when). Validation follows Istio's (pilot's ValidateAuthorizationPolicy and the CRD).

import { array, enumOf, object, report, reportProblem, string, type Context, type Problem, type Schema } from '../schema.ts';
import { workloadSelector } from './common.ts';
import {
  conditionKeyProblem, conditionValueCheck, ipBlockProblem, nonEmptyProblem, pathValueProblem, portStringProblem,
  serviceAccountProblem, trustDomainValueProblem, wildcardValueProblem,
} from './authorization-values.ts';
import { checkOneTarget, policyTargetReference, policyTargetReferences } from './policy-target.ts';
import type {
  AuthorizationCondition, AuthorizationOperation, AuthorizationPolicyAction, AuthorizationPolicySpec, AuthorizationRule,
  AuthorizationSource,
} from './security-types.ts';

export const AUTHORIZATION_ACTIONS: readonly AuthorizationPolicyAction[] = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'];

const values = (check: (v: string) => Problem, options: { maxItems?: number } = {}) => array(string({ check }), options);

const source: Schema<AuthorizationSource> = object<AuthorizationSource>({
  principals: values(wildcardValueProblem),
  notPrincipals: values(wildcardValueProblem),
  requestPrincipals: values(wildcardValueProblem),
  notRequestPrincipals: values(wildcardValueProblem),
  namespaces: values(wildcardValueProblem),
  notNamespaces: values(wildcardValueProblem),
  serviceAccounts: values(serviceAccountProblem, { maxItems: 16 }),
  notServiceAccounts: values(serviceAccountProblem, { maxItems: 16 }),
  ipBlocks: values(ipBlockProblem),
  notIpBlocks: values(ipBlockProblem),
  remoteIpBlocks: values(ipBlockProblem),
  notRemoteIpBlocks: values(ipBlockProblem),
  trustDomains: values(trustDomainValueProblem),
  notTrustDomains: values(trustDomainValueProblem),
}, {
  check(src, path, ctx) {
    const fields = Object.entries(src).filter(([, v]) => Array.isArray(v) && v.length > 0).map(([k]) => k);
    if (fields.length === 0) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, 'must set at least one field (omit the source to match any)');
    }
    // A service account names the namespace itself, so the two ways of naming a peer do not mix.
    const byAccount = fields.filter((f) => f === 'serviceAccounts' || f === 'notServiceAccounts');
    const byIdentity = fields.filter((f) => ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].includes(f));
    if (byAccount.length > 0 && byIdentity.length > 0) {
      report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path,
        `${byAccount.join(' and ')} cannot be combined with ${byIdentity.join(' and ')} (use separate from entries)`);
    }
  },
});

const operation: Schema<AuthorizationOperation> = object<AuthorizationOperation>({
  hosts: values(wildcardValueProblem),
  notHosts: values(wildcardValueProblem),
  ports: values(portStringProblem),
  notPorts: values(portStringProblem),
  methods: values(wildcardValueProblem),
  notMethods: values(wildcardValueProblem),
  paths: values(pathValueProblem),
  notPaths: values(pathValueProblem),
}, {
  check(op, path, ctx) {
    if (!Object.values(op).some((v) => Array.isArray(v) && v.length > 0)) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, 'must set at least one field (omit the operation to match any)');
    }
  },
});

const condition: Schema<AuthorizationCondition> = object<AuthorizationCondition>({
  key: string({ check: conditionKeyProblem }),
  values: values(nonEmptyProblem),
  notValues: values(nonEmptyProblem),
}, {
  required: ['key'],
  check(c, path, ctx) {
    if ((c.values?.length ?? 0) === 0 && (c.notValues?.length ?? 0) === 0) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, `at least one of values or notValues is required (key ${c.key})`);
      return;
    }
    if (conditionKeyProblem(c.key) !== undefined) return;
    const check = conditionValueCheck(c.key);
    for (const field of ['values', 'notValues'] as const) {
      (c[field] ?? []).forEach((v, i) => {
        if (v !== '') reportProblem(ctx, `${path}.${field}[${i}]`, check(v));
      });
    }
  },
});

const rule: Schema<AuthorizationRule> = object<AuthorizationRule>({
  from: array(object<{ source?: AuthorizationSource }>({ source }, { required: ['source'] }), { minItems: 1, maxItems: 512 }),
  to: array(object<{ operation?: AuthorizationOperation }>({ operation }, { required: ['operation'] }), { minItems: 1 }),
  when: array(condition),
});

// Fields and condition keys an external authorizer (CUSTOM) cannot be given: they depend on the
// peer's identity or on JWT authentication, which Istio does not evaluate before calling it.
const CUSTOM_UNSUPPORTED_SOURCE: readonly (keyof AuthorizationSource)[] = [
  'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals', 'namespaces', 'notNamespaces',
  'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains',
];
const CUSTOM_UNSUPPORTED_KEYS = new Set(['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal']);

function checkCustomRules(rules: readonly AuthorizationRule[], path: string, ctx: Context): void {
  rules.forEach((r, i) => {
    r.from?.forEach((f, j) => {
      for (const field of CUSTOM_UNSUPPORTED_SOURCE) {
        if ((f.source?.[field]?.length ?? 0) > 0) {
          report(ctx, 'WEFT_E_INVALID_VALUE', `${path}[${i}].from[${j}].source.${field}`, 'is not supported with action CUSTOM');
        }
      }
    });
    r.when?.forEach((c, k) => {
      if (CUSTOM_UNSUPPORTED_KEYS.has(c.key) || c.key.startsWith('request.auth.')) {
        report(ctx, 'WEFT_E_INVALID_VALUE', `${path}[${i}].when[${k}].key`, `condition key ${c.key} is not supported with action CUSTOM`);
      }
    });
  });
}

function checkSpec(ap: AuthorizationPolicySpec, path: string, ctx: Context): void {
  checkOneTarget(ap, path, ctx);
  const action = ap.action ?? 'ALLOW';
  // Istio reads `rules: []` as no rules at all.
  const hasRules = (ap.rules?.length ?? 0) > 0;
  if (action === 'CUSTOM') {
    if ((ap.provider?.name ?? '') === '') {
      report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.provider.name`, 'is required with action CUSTOM (the name of an extension provider in the mesh config)');
    }
    checkCustomRules(ap.rules ?? [], `${path}.rules`, ctx);
  } else if (ap.provider !== undefined) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', `${path}.provider`, `can only be set with action CUSTOM (action is ${action})`);
  }
  if ((action === 'CUSTOM' || action === 'DENY') && !hasRules) {
    report(ctx, 'WEFT_E_MISSING_FIELD', `${path}.rules`,
      `a ${action} policy without rules never applies; add an empty rule {} to apply it to every request`);
  }
}

export const authorizationPolicySpec: Schema<AuthorizationPolicySpec> = object<AuthorizationPolicySpec>({
  selector: workloadSelector,
  targetRef: policyTargetReference,
  targetRefs: policyTargetReferences,
  rules: array(rule, { maxItems: 512 }),
  action: enumOf(AUTHORIZATION_ACTIONS),
  provider: object<{ name?: string }>({ name: string() }),
}, { check: checkSpec });
