// Public API of src/api: Istio resource types, parsing and validation (no I/O).

export { parseManifests, validateResource, type ParseOptions, type ParseResult, type ValidateOptions } from './parse.ts';
export { fqdn, hostsOverlap, hostSubsetOf, parseDuration } from './hosts.ts';
export { ERROR_CATALOG, formatApiError, type ApiError, type ErrorCode } from './errors.ts';
export {
  isKind, resourceKey,
  type DestinationRule, type Gateway, type IstioResource, type KindSpecs, type ObjectMeta, type ServiceEntry,
  type VirtualService, type WorkloadEntry, type PeerAuthentication, type AuthorizationPolicy, type RequestAuthentication,
} from './resource.ts';
export {
  kindDefinition, supportedKinds, NETWORKING_API_VERSIONS, SECURITY_API_VERSIONS, TELEMETRY_API_VERSIONS, type KindDefinition,
} from './registry.ts';

export type {
  Percent, PortSelector, ServiceEntryWorkloadSelector, WorkloadSelector,
} from './kinds/common.ts';
export type { Destination, RouteDestination } from './kinds/destination.ts';
export type { HTTPMatchRequest, StringMatch } from './kinds/http-match.ts';
export type {
  CorsPolicy, Delegate, HeaderOperations, Headers, HTTPBody, HTTPDirectResponse, HTTPFaultInjection,
  HTTPFaultInjectionAbort, HTTPFaultInjectionDelay, HTTPMirrorPolicy, HTTPRedirect, HTTPRetry, HTTPRewrite,
  RegexRewrite,
} from './kinds/http-policies.ts';
export { GRPC_STATUS_NAMES } from './kinds/http-policies.ts';
export type { HTTPRoute, HTTPRouteDestination } from './kinds/http-route.ts';
export type {
  L4MatchAttributes, TCPRoute, TLSMatchAttributes, TLSRoute, VirtualServiceSpec,
} from './kinds/virtual-service.ts';
export type {
  ConsistentHashLB, HTTPCookie, HTTPCookieAttribute, LoadBalancerSettings, LocalityDistribute, LocalityFailover,
  LocalityLoadBalancerSetting, MagLev, RingHash, SimpleLB, WarmupConfiguration, ZoneAwareLoadBalancerSetting,
} from './kinds/load-balancer.ts';
export type {
  ClientTLSSettings, ConnectionKeepalive, ConnectionPoolSettings, HTTPSettings, OutlierDetection, PortTrafficPolicy,
  ProxyProtocol, RetryBudget, TCPSettings, TcpKeepalive, TrafficPolicy, TunnelSettings,
} from './kinds/traffic-policy.ts';
export type { DestinationRuleSpec, Subset } from './kinds/destination-rule.ts';
export type { ServiceEntrySpec, ServicePort } from './kinds/service-entry.ts';
export type { WorkloadEntrySpec } from './kinds/workload-entry.ts';
export type { GatewaySpec, Port, Server, ServerTLSSettings, TLSCertificate } from './kinds/gateway.ts';
export type * from './kinds/security-types.ts';
export { MUTUAL_TLS_MODES } from './kinds/peer-authentication.ts';
export { AUTHORIZATION_ACTIONS } from './kinds/authorization-policy.ts';
export { jwksUriOf } from './kinds/request-authentication.ts';
export type {
  AccessLogging, IstioMetric, MetricSelector, Metrics, MetricsOverrides, ProviderRef, TagOperation, TagOverride, Telemetry,
  TelemetrySpec, Tracing, TracingCustomTag, WorkloadMode,
} from './kinds/telemetry.ts';
export { ISTIO_METRICS, WORKLOAD_MODES, telemetryWarnings } from './kinds/telemetry.ts';
export { celSyntaxProblem } from './kinds/telemetry-cel.ts';
export {
  parseMeshConfig, DEFAULT_ROOT_NAMESPACE, DEFAULT_TRUST_DOMAIN, type MeshConfigFile, type MeshConfigResult,
} from './mesh-config.ts';
