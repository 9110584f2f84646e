// The Istio kinds Weft understands: kind → accepted apiVersions and the schema of its spec.
// To add a kind (PeerAuthentication, AuthorizationPolicy, ...): write src/api/kinds/<kind>.ts with
// its spec types and schema, add one entry below, and add its alias to resource.ts.

import type { Problem, Schema } from './schema.ts';
import { isDns1123Label } from './names.ts';
import { destinationRuleSpec } from './kinds/destination-rule.ts';
import { gatewaySpec } from './kinds/gateway.ts';
import { serviceEntrySpec } from './kinds/service-entry.ts';
import { virtualServiceSpec } from './kinds/virtual-service.ts';
import { workloadEntrySpec } from './kinds/workload-entry.ts';
import { authorizationPolicySpec } from './kinds/authorization-policy.ts';
import { peerAuthenticationSpec } from './kinds/peer-authentication.ts';
import { requestAuthenticationSpec } from './kinds/request-authentication.ts';
import { telemetrySpec } from './kinds/telemetry.ts';

export interface KindDefinition<S = unknown> {
  readonly kind: string;
  /** apiVersions Istio serves for this kind, as written in YAML (`group/version`). */
  readonly apiVersions: readonly string[];
  readonly spec: Schema<S>;
  /** A rule for metadata.name beyond Kubernetes' DNS-1123 subdomain, if the kind has one. */
  readonly nameProblem?: (name: string) => Problem;
  /** A missing spec means `spec: {}` (Istio's security kinds). */
  readonly specOptional?: boolean;
}

export const NETWORKING_API_VERSIONS = [
  'networking.istio.io/v1',
  'networking.istio.io/v1beta1',
  'networking.istio.io/v1alpha3',
] as const;

export const SECURITY_API_VERSIONS = [
  'security.istio.io/v1',
  'security.istio.io/v1beta1',
] as const;

export const TELEMETRY_API_VERSIONS = [
  'telemetry.istio.io/v1',
  'telemetry.istio.io/v1alpha1',
] as const;

const KINDS: readonly KindDefinition[] = [
  { kind: 'VirtualService', apiVersions: NETWORKING_API_VERSIONS, spec: virtualServiceSpec },
  { kind: 'DestinationRule', apiVersions: NETWORKING_API_VERSIONS, spec: destinationRuleSpec },
  { kind: 'ServiceEntry', apiVersions: NETWORKING_API_VERSIONS, spec: serviceEntrySpec },
  { kind: 'WorkloadEntry', apiVersions: NETWORKING_API_VERSIONS, spec: workloadEntrySpec },
  {
    kind: 'Gateway', apiVersions: NETWORKING_API_VERSIONS, spec: gatewaySpec,
    nameProblem: (n) => (isDns1123Label(n) ? undefined : 'a Gateway name must be a DNS-1123 label (no dots)'),
  },
  { kind: 'PeerAuthentication', apiVersions: SECURITY_API_VERSIONS, specOptional: true, spec: peerAuthenticationSpec },
  { kind: 'AuthorizationPolicy', apiVersions: SECURITY_API_VERSIONS, specOptional: true, spec: authorizationPolicySpec },
  { kind: 'RequestAuthentication', apiVersions: SECURITY_API_VERSIONS, specOptional: true, spec: requestAuthenticationSpec },
  // Istio's CRD does not require a spec: an empty Telemetry changes nothing.
  { kind: 'Telemetry', apiVersions: TELEMETRY_API_VERSIONS, specOptional: true, spec: telemetrySpec },
];

const BY_KIND: ReadonlyMap<string, KindDefinition> = new Map(KINDS.map((k) => [k.kind, k]));

export function kindDefinition(kind: string): KindDefinition | undefined {
  return BY_KIND.get(kind);
}

export function supportedKinds(): string[] {
  return KINDS.map((k) => k.kind);
}
