// The labels of Istio's standard metrics, in Istio's order, and how one metric's overrides
// (tags_to_remove, dimensions) change them. Built once per label combination, never per request.
import type { DestinationService } from './istio-service.ts';
import type { WorkloadPeer } from './peer-metadata.ts';
import type { MetricOverride } from './stats-plugin-config.ts';
import type { Labels } from './istio-metric-families.ts';

export type Reporter = 'source' | 'destination';

export type LabelInputs = {
  reporter: Reporter;
  source: WorkloadPeer;
  destination: WorkloadPeer;
  sourcePrincipal: string;
  destinationPrincipal: string;
  service: DestinationService;
  /** http, grpc or tcp. */
  protocol: string;
  /** null for TCP metrics, which have no response code or gRPC status. */
  responseCode: string | null;
  grpcStatus: string | null;
  responseFlags: string;
  securityPolicy: string;
};

export function istioLabels(i: LabelInputs): Record<string, string> {
  const labels: Record<string, string> = {
    reporter: i.reporter,
    source_workload: i.source.workload,
    source_workload_namespace: i.source.namespace,
    source_principal: i.sourcePrincipal,
    source_app: i.source.app,
    source_version: i.source.version,
    source_canonical_service: i.source.canonicalService,
    source_canonical_revision: i.source.canonicalRevision,
    source_cluster: i.source.cluster,
    destination_workload: i.destination.workload,
    destination_workload_namespace: i.destination.namespace,
    destination_principal: i.destinationPrincipal,
    destination_app: i.destination.app,
    destination_version: i.destination.version,
    destination_service: i.service.service,
    destination_service_name: i.service.name,
    destination_service_namespace: i.service.namespace,
    destination_canonical_service: i.destination.canonicalService,
    destination_canonical_revision: i.destination.canonicalRevision,
    destination_cluster: i.destination.cluster,
    request_protocol: i.protocol,
  };
  if (i.responseCode !== null) labels.response_code = i.responseCode;
  if (i.grpcStatus !== null) labels.grpc_response_status = i.grpcStatus;
  labels.response_flags = i.responseFlags;
  labels.connection_security_policy = i.securityPolicy;
  return labels;
}

/**
 * One metric's labels after its override: removed tags left out, dimensions set. `dynamic` holds the
 * values of the override's request-dependent dimensions, by label.
 */
export function overriddenLabels(base: Record<string, string>, override: MetricOverride | undefined,
  dynamic: ReadonlyMap<string, string> | null): Labels {
  if (override === undefined) return base;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (!override.remove.has(k)) out[k] = v;
  for (const [label, value] of override.dimensions) {
    out[label] = 'fixed' in value ? value.fixed : dynamic?.get(label) ?? 'unknown';
  }
  return out;
}
