// Which Telemetry resources apply to a workload, in Istio's order (later ones override earlier ones):
// the root namespace's Telemetry without a selector (mesh-wide), then the workload namespace's one
// without a selector, then every Telemetry of the workload's namespace whose selector matches its
// labels. Of several selector-less Telemetries in one namespace only the first counts, as in Istio.
// Telemetries attached by targetRef(s) are for Kubernetes gateways and do not apply here.
import type { Telemetry } from '../../../api/index.ts';
import { telemetryWarnings } from '../../../api/index.ts';
import type { MeshSnapshot } from '../../registry/model.ts';
import { hasTargetRef, type WorkloadRef } from '../security/policy-selection.ts';

const isNamespaceWide = (t: Telemetry) => Object.keys(t.spec.selector?.matchLabels ?? {}).length === 0 && !hasTargetRef(t);

const where = (t: Telemetry) => `Telemetry ${t.metadata.namespace}/${t.metadata.name}`;

export function telemetriesFor(mesh: MeshSnapshot, workload: WorkloadRef, warnings: string[]): Telemetry[] {
  const all = mesh.telemetries ?? [];
  const root = mesh.config.rootNamespace;
  const out: Telemetry[] = [];
  const namespaceWide = (ns: string) => {
    const wide = all.filter((t) => t.metadata.namespace === ns && isNamespaceWide(t));
    if (wide.length > 1) {
      warnings.push(`${wide.slice(1).map(where).join(', ')}: namespace ${ns} already has ${where(wide[0])} without a selector; only that one applies`);
    }
    if (wide.length > 0) out.push(wide[0]);
  };
  namespaceWide(root);
  if (workload.namespace !== root) namespaceWide(workload.namespace);
  for (const t of all) {
    if (t.metadata.namespace !== workload.namespace || isNamespaceWide(t)) continue;
    if (hasTargetRef(t)) {
      warnings.push(`${where(t)}: targetRef applies to Kubernetes gateways only; ignored for this workload`);
      continue;
    }
    const selected = Object.entries(t.spec.selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v);
    if (selected) out.push(t);
  }
  for (const t of out) warnings.push(...telemetryWarnings(t.spec).map((w) => `${where(t)}: ${w}`));
  return out;
}
