// Which security policies apply to a workload, as Istio selects them: a policy in the root namespace
// applies mesh-wide, one in the workload's namespace applies there; without a selector to every
// workload in scope, with one to the workloads whose labels include all of its matchLabels.
// Policies attached by targetRef(s) are meant for Kubernetes gateways and do not apply to sidecars.

export interface WorkloadRef { namespace: string; labels: Record<string, string> }

interface Selectable {
  metadata: { namespace: string };
  spec: { selector?: { matchLabels?: Record<string, string> } };
}

/** True when the policy names its targets by targetRef(s) instead of a selector. */
export function hasTargetRef(policy: Selectable): boolean {
  const spec = policy.spec as { targetRef?: unknown; targetRefs?: unknown[] };
  return spec.targetRef !== undefined || (spec.targetRefs?.length ?? 0) > 0;
}

export function policiesFor<T extends Selectable>(policies: T[], rootNamespace: string, workload: WorkloadRef): T[] {
  const inScope = (p: T) => p.metadata.namespace === rootNamespace || p.metadata.namespace === workload.namespace;
  const selected = (p: T) => Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v);
  const scoped = policies.filter((p) => inScope(p) && !hasTargetRef(p) && selected(p));
  // Root namespace first, as Istio lists them.
  return [
    ...scoped.filter((p) => p.metadata.namespace === rootNamespace),
    ...scoped.filter((p) => p.metadata.namespace !== rootNamespace),
  ];
}

/** Warnings for the in-scope policies that use targetRef(s). */
export function targetRefWarnings(kind: string, policies: Selectable[], rootNamespace: string, workload: WorkloadRef): string[] {
  return policies
    .filter((p) => (p.metadata.namespace === rootNamespace || p.metadata.namespace === workload.namespace) && hasTargetRef(p))
    .map((p) => `${kind} ${p.metadata.namespace}/${(p.metadata as { name?: string }).name ?? ''}: targetRef applies to Kubernetes gateways only; ignored for this workload`);
}
