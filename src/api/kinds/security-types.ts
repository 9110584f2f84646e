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
  /** Trust domains of the peer identity (`cluster.local`, prefix/suffix `*` allowed). */
  trustDomains?: string[];
  notTrustDomains?: string[];
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

/** Whether a request must carry a token for this issuer (Istio's JWTRule.presence). */
export type JwtPresence = 'OPTIONAL' | 'REQUIRED';

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
  /**
   * Istio's other spelling of jwksUri (its CRD accepts both; at most one may be set). Read the URI
   * with `jwksUriOf(rule)` from request-authentication.ts rather than either field.
   */
  jwks_uri?: string;
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
  /** Claims whose string value is a space-separated list, matched per item by authorization policies. */
  spaceDelimitedClaims?: string[];
  presence?: JwtPresence;
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
  /** Clear the route cache after the authorizer answers, so headers it added can change the route. */
  clearRouteCache?: boolean;
  /** Deprecated in Istio in favour of includeRequestHeadersInCheck; still accepted. */
  includeHeadersInCheck?: string[];
  includeRequestHeadersInCheck?: string[];
  includeAdditionalHeadersInCheck?: Record<string, string>;
  headersToUpstreamOnAllow?: string[];
  headersToDownstreamOnDeny?: string[];
  headersToDownstreamOnAllow?: string[];
  includeRequestBodyInCheck?: { maxRequestBytes?: number; allowPartialMessage?: boolean; packAsBytes?: boolean };
}

/**
 * The provider kinds Weft does not act on yet, kept as written (checked loosely: an object, and for
 * those that name a service, a service and a port).
 */
export type OtherExtensionProviderConfig = Record<string, unknown>;

/** MeshConfig.extensionProviders[]: a name and exactly one provider kind. */
export interface ExtensionProvider {
  name: string;
  envoyExtAuthzHttp?: EnvoyExternalAuthorizationHttpProvider;
  envoyExtAuthzGrpc?: OtherExtensionProviderConfig;
  zipkin?: OtherExtensionProviderConfig;
  lightstep?: OtherExtensionProviderConfig;
  datadog?: OtherExtensionProviderConfig;
  stackdriver?: OtherExtensionProviderConfig;
  opencensus?: OtherExtensionProviderConfig;
  skywalking?: OtherExtensionProviderConfig;
  opentelemetry?: OtherExtensionProviderConfig;
  prometheus?: OtherExtensionProviderConfig;
  envoyFileAccessLog?: OtherExtensionProviderConfig;
  envoyHttpAls?: OtherExtensionProviderConfig;
  envoyTcpAls?: OtherExtensionProviderConfig;
  envoyOtelAls?: OtherExtensionProviderConfig;
  sds?: OtherExtensionProviderConfig;
}

export type PathNormalization = 'NONE' | 'BASE' | 'MERGE_SLASHES' | 'DECODE_AND_MERGE_SLASHES';
