// Istio security policies → the Envoy filters of one workload's inbound listeners: request
// authentication (JWT), then authorization (CUSTOM via ext_authz, then AUDIT, DENY, ALLOW as RBAC).
// Pure: plain data in, plain data out.
import type { MeshSnapshot } from '../../registry/model.ts';
import { authorizationFilters } from './authorization.ts';
import { customActionFilters } from './custom-action.ts';
import type { EnvoyFilter } from './envoy-shapes.ts';
import { policiesFor, targetRefWarnings, type WorkloadRef } from './policy-selection.ts';
import { jwtAuthnFilter } from './request-authentication.ts';

export interface SecurityFilters {
  /**
   * HTTP filters for the workload's inbound HTTP connection managers, in order, to go before its
   * other filters (fault, cors, router): jwt_authn; for CUSTOM, per provider an RBAC filter that
   * only evaluates and the ext_authz filter it enables; then the AUDIT (LOG), DENY and ALLOW RBAC
   * filters, each carrying its dry-run policies as shadow rules.
   */
  http: EnvoyFilter[];
  /** Network filters for the workload's inbound TCP (tcp_proxy) chains, before tcp_proxy. */
  network: EnvoyFilter[];
  warnings: string[];
}

export function inboundSecurityFilters(mesh: MeshSnapshot, workload: WorkloadRef): SecurityFilters {
  const warnings: string[] = [];
  const root = mesh.config.rootNamespace;
  const authz = policiesFor(mesh.authorizationPolicies ?? [], root, workload);
  const authn = policiesFor(mesh.requestAuthentications ?? [], root, workload);
  warnings.push(
    ...targetRefWarnings('AuthorizationPolicy', mesh.authorizationPolicies ?? [], root, workload),
    ...targetRefWarnings('RequestAuthentication', mesh.requestAuthentications ?? [], root, workload),
  );
  const trustDomains = [mesh.config.trustDomain, ...(mesh.config.trustDomainAliases ?? [])];

  const http: EnvoyFilter[] = [];
  const jwt = jwtAuthnFilter(mesh, authn, warnings);
  if (jwt) http.push(jwt);
  http.push(...customActionFilters(mesh, authz, false, trustDomains, warnings));
  http.push(...authorizationFilters(authz.filter((p) => p.spec.action !== 'CUSTOM'), false, trustDomains, warnings));

  // TCP: rules are rebuilt without their HTTP-only fields; their problems were reported for HTTP.
  const tcpWarnings: string[] = [];
  const network = [
    ...customActionFilters(mesh, authz, true, trustDomains, tcpWarnings),
    ...authorizationFilters(authz.filter((p) => p.spec.action !== 'CUSTOM'), true, trustDomains, tcpWarnings),
  ];
  warnings.push(...tcpWarnings);
  return { http, network, warnings: [...new Set(warnings)] };
}

export { policiesFor, type WorkloadRef } from './policy-selection.ts';
export { pathNormalizationOptions } from './path-normalization.ts';
export type { EnvoyFilter } from './envoy-shapes.ts';
