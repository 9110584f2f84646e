// The TypeScript shapes of Istio's security.istio.io kinds (PeerAuthentication, AuthorizationPolicy,
// RequestAuthentication) as users write them. Their schemas and validation live beside them in
// peer-authentication.ts, authorization-policy.ts and request-authentication.ts.
import type { WorkloadSelector } from './common.ts';

/** Istio's PolicyTargetReference (Kubernetes Gateway API style): accepted, reported as not applicable outside Kubernetes. */
export interface PolicyTargetReference {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

// ---- PeerAuthentication ----

export type MutualTlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationMutualTls {
  mode?: MutualTlsMode;
}

export interface PeerAuthenticationSpec {
  selector?: WorkloadSelector;
  mtls?: PeerAuthenticationMutualTls;
  /** Workload port number (as a string key in YAML maps) → its mTLS mode. Only with a selector. */
  portLevelMtls?: Record<string, PeerAuthenticationMutualTls>;
}

// ---- AuthorizationPolicy ----

export type AuthorizationPolicyAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationCondition {
  key: string;
  values?: string[];
  notValues?: string[];
}

export interface AuthorizationRule {
  from?: { source?: AuthorizationSource }[];
  to?: { operation?: AuthorizationOperation }[];
  when?: AuthorizationCondition[];
}

export interface AuthorizationPolicySpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  rules?: AuthorizationRule[];
  action?: AuthorizationPolicyAction;
  /** action CUSTOM: the extension provider (mesh config extensionProviders[].name). */
  provider?: { name?: string };
}

// ---- RequestAuthentication ----

export interface JwtHeader {
  name: string;
  prefix?: string;
}

export interface ClaimToHeader {
  header: string;
  claim: string;
}

export interface JwtRule {
  issuer: string;
  audiences?: string[];
  jwksUri?: string;
  /** A JSON Web Key Set, as JSON text. */
  jwks?: string;
  fromHeaders?: JwtHeader[];
  fromParams?: string[];
  fromCookies?: string[];
  outputPayloadToHeader?: string;
  forwardOriginalToken?: boolean;
  outputClaimToHeaders?: ClaimToHeader[];
  /** Timeout of the JWKS fetch (duration). */
  timeout?: string;
}

export interface RequestAuthenticationSpec {
  selector?: WorkloadSelector;
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  jwtRules?: JwtRule[];
}

// ---- Mesh config (Istio's MeshConfig, the parts security uses) ----

/** MeshConfig.extensionProviders[].envoyExtAuthzHttp: an external authorizer called over HTTP. */
export interface EnvoyExternalAuthorizationHttpProvider {
  /** Host name of the authorizer's service (a service in the mesh registry, e.g. `ext-authz.foo.svc.cluster.local`). */
  service: string;
  port: number;
  /** Duration; default 600s in Istio. */
  timeout?: string;
  pathPrefix?: string;
  failOpen?: boolean;
  /** HTTP status on error/timeout when not failing open (default 403). */
  statusOnError?: string;
  includeRequestHeadersInCheck?: string[];
  includeAdditionalHeadersInCheck?: Record<string, string>;
  headersToUpstreamOnAllow?: string[];
  headersToDownstreamOnDeny?: string[];
  headersToDownstreamOnAllow?: string[];
  includeRequestBodyInCheck?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
}

export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp?: EnvoyExternalAuthorizationHttpProvider;
}

export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
