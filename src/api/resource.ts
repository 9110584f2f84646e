// Istio resources as the rest of Weft sees them: validated, with metadata.namespace filled in.

import type { DestinationRuleSpec } from './kinds/destination-rule.ts';
import type { GatewaySpec } from './kinds/gateway.ts';
import type { ServiceEntrySpec } from './kinds/service-entry.ts';
import type { VirtualServiceSpec } from './kinds/virtual-service.ts';
import type { WorkloadEntrySpec } from './kinds/workload-entry.ts';
import type { AuthorizationPolicySpec, PeerAuthenticationSpec, RequestAuthenticationSpec } from './kinds/security-types.ts';

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface IstioResource<S = unknown> {
  /** As the user wrote it, e.g. `networking.istio.io/v1beta1`. */
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  /** As the user wrote it (no defaults injected; fields set to null are dropped). */
  spec: S;
}

/** `Kind/namespace/name`, e.g. `VirtualService/default/reviews`. */
export function resourceKey(r: { kind: string; metadata: { namespace: string; name: string } }): string {
  return `${r.kind}/${r.metadata.namespace}/${r.metadata.name}`;
}

export type VirtualService = IstioResource<VirtualServiceSpec>;
export type DestinationRule = IstioResource<DestinationRuleSpec>;
export type ServiceEntry = IstioResource<ServiceEntrySpec>;
export type WorkloadEntry = IstioResource<WorkloadEntrySpec>;
export type Gateway = IstioResource<GatewaySpec>;
export type PeerAuthentication = IstioResource<PeerAuthenticationSpec>;
export type AuthorizationPolicy = IstioResource<AuthorizationPolicySpec>;
export type RequestAuthentication = IstioResource<RequestAuthenticationSpec>;

/** Spec type of each supported kind. */
export interface KindSpecs {
  VirtualService: VirtualServiceSpec;
  DestinationRule: DestinationRuleSpec;
  ServiceEntry: ServiceEntrySpec;
  WorkloadEntry: WorkloadEntrySpec;
  Gateway: GatewaySpec;
  PeerAuthentication: PeerAuthenticationSpec;
  AuthorizationPolicy: AuthorizationPolicySpec;
  RequestAuthentication: RequestAuthenticationSpec;
}

/** Narrows a validated resource to its kind: `if (isKind(r, 'VirtualService')) r.spec.hosts`. */
export function isKind<K extends keyof KindSpecs>(r: IstioResource, kind: K): r is IstioResource<KindSpecs[K]> {
  return r.kind === kind;
}
