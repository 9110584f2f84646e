// What a security policy applies to: a workload selector, or (Kubernetes Gateway API style) a
// reference to a Service, ServiceEntry, Gateway or GatewayClass. Shared by AuthorizationPolicy and
// RequestAuthentication, which take at most one of selector, targetRef and targetRefs.

import { array, object, report, string, type Context, type Problem, type Schema } from '../schema.ts';
import { isDns1123Subdomain } from '../names.ts';
import type { PolicyTargetReference } from './security-types.ts';

const KIND_PATTERN = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

// The group/kind pairs Istio lets a policy target ('' is the core group).
const TARGETS: readonly (readonly [group: string, kind: string])[] = [
  ['', 'Service'],
  ['networking.istio.io', 'ServiceEntry'],
  ['gateway.networking.k8s.io', 'Gateway'],
  ['gateway.networking.k8s.io', 'GatewayClass'],
];

function groupProblem(g: string): Problem {
  if (g === '' || (isDns1123Subdomain(g))) return undefined;
  return `"${g}" is not a valid API group (a DNS subdomain, or "" for the core group)`;
}

function kindProblem(k: string): Problem {
  if (k.length < 1 || k.length > 63 || !KIND_PATTERN.test(k)) return `"${k}" is not a valid kind name`;
  return undefined;
}

function nameProblem(n: string): Problem {
  if (n === '') return 'must not be empty';
  return n.length > 253 ? 'must be at most 253 characters' : undefined;
}

export const policyTargetReference: Schema<PolicyTargetReference> = object<PolicyTargetReference>({
  group: string({ check: groupProblem }),
  kind: string({ check: kindProblem }),
  name: string({ check: nameProblem }),
  namespace: string({
    check: (ns) => (ns === '' ? undefined : 'must not be set: a policy can only target resources in its own namespace'),
  }),
}, {
  required: ['kind', 'name'],
  check(ref, path, ctx) {
    const group = ref.group ?? '';
    const core = group === 'core' ? '' : group;
    if (ref.kind === undefined || kindProblem(ref.kind) !== undefined) return;
    if (!TARGETS.some(([g, k]) => g === core && k === ref.kind)) {
      const allowed = TARGETS.map(([g, k]) => (g === '' ? k : `${g}/${k}`)).join(', ');
      report(ctx, 'WEFT_E_INVALID_VALUE', path, `cannot target ${group === '' ? '' : `${group}/`}${ref.kind}; a policy can target ${allowed}`);
    }
  },
});

export const policyTargetReferences: Schema<PolicyTargetReference[]> = array(policyTargetReference, { maxItems: 16 });

/** Istio's rule: at most one of selector, targetRef and targetRefs (an empty targetRefs counts as unset). */
export function checkOneTarget(
  spec: { selector?: unknown; targetRef?: unknown; targetRefs?: readonly unknown[] }, path: string, ctx: Context,
): void {
  const set = [
    spec.selector !== undefined ? 'selector' : undefined,
    spec.targetRef !== undefined ? 'targetRef' : undefined,
    (spec.targetRefs?.length ?? 0) > 0 ? 'targetRefs' : undefined,
  ].filter((s) => s !== undefined);
  if (set.length > 1) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, `only one of selector, targetRef, targetRefs may be set (found ${set.join(' and ')})`);
  }
}
