// Small builders for the security generator's tests: a mesh snapshot holding the given policies,
// and a lookup of one generated Envoy policy by its Istio-style name.
import assert from 'node:assert/strict';
import type {
  AuthorizationPolicy, AuthorizationPolicySpec, ExtensionProvider, RequestAuthentication, RequestAuthenticationSpec,
} from '../../../../src/api/index.ts';
import { defaultMeshConfig, type MeshSnapshot, type Service } from '../../../../src/control-plane/registry/model.ts';
import { inboundSecurityFilters, type SecurityFilters, type WorkloadRef } from '../../../../src/control-plane/generate/security/index.ts';
import { protoProblems } from './envoy-proto-check.ts';

export function authorizationPolicy(
  name: string, namespace: string, spec: AuthorizationPolicySpec, annotations?: Record<string, string>,
): AuthorizationPolicy {
  return { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name, namespace, annotations }, spec };
}

export function requestAuthentication(name: string, namespace: string, spec: RequestAuthenticationSpec): RequestAuthentication {
  return { apiVersion: 'security.istio.io/v1', kind: 'RequestAuthentication', metadata: { name, namespace }, spec };
}

export function service(hostname: string, namespace: string, port = 9000): Service {
  return { hostname, namespace, ports: [{ number: port, name: 'http', protocol: 'HTTP' }], resolution: 'STATIC', location: 'MESH_INTERNAL', endpoints: new Map() };
}

export interface MeshParts {
  authorizationPolicies?: AuthorizationPolicy[];
  requestAuthentications?: RequestAuthentication[];
  services?: Service[];
  extensionProviders?: ExtensionProvider[];
  jwks?: Map<string, string>;
  trustDomain?: string;
}

export function mesh(parts: MeshParts): MeshSnapshot {
  return {
    config: { ...defaultMeshConfig, extensionProviders: parts.extensionProviders, trustDomain: parts.trustDomain ?? defaultMeshConfig.trustDomain },
    services: parts.services ?? [],
    virtualServices: [],
    destinationRules: [],
    authorizationPolicies: parts.authorizationPolicies,
    requestAuthentications: parts.requestAuthentications,
    jwks: parts.jwks,
  };
}

export const workload: WorkloadRef = { namespace: 'foo', labels: { app: 'httpbin', version: 'v1' } };

/** The filters for `workload`, after checking every one of them against Envoy's protos. */
export function filtersFor(parts: MeshParts, w: WorkloadRef = workload): SecurityFilters {
  const out = inboundSecurityFilters(mesh(parts), w);
  for (const f of [...out.http, ...out.network]) {
    assert.deepEqual(protoProblems(f.typed_config), [], `${f.name} must be valid Envoy config`);
  }
  return out;
}

export type Json = any;

/** typed_config of the only filter called `name` (asserting there is exactly one). */
export function onlyFilter(filters: { name: string; typed_config: unknown }[], name: string): Json {
  const found = filters.filter((f) => f.name === name);
  assert.equal(found.length, 1, `expected one ${name} filter, found ${found.length}`);
  return found[0].typed_config;
}
