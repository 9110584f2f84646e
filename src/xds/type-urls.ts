// Envoy v3 type URLs used on the wire, and the order in which a control plane pushes them.
const prefix = 'type.googleapis.com/';

export const TypeUrl = {
  Listener: `${prefix}envoy.config.listener.v3.Listener`,
  RouteConfiguration: `${prefix}envoy.config.route.v3.RouteConfiguration`,
  Cluster: `${prefix}envoy.config.cluster.v3.Cluster`,
  ClusterLoadAssignment: `${prefix}envoy.config.endpoint.v3.ClusterLoadAssignment`,
  Secret: `${prefix}envoy.extensions.transport_sockets.tls.v3.Secret`,
  HttpConnectionManager: `${prefix}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`,
  TcpProxy: `${prefix}envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy`,
  Router: `${prefix}envoy.extensions.filters.http.router.v3.Router`,
  Fault: `${prefix}envoy.extensions.filters.http.fault.v3.HTTPFault`,
  Rbac: `${prefix}envoy.extensions.filters.http.rbac.v3.RBAC`,
  Cors: `${prefix}envoy.extensions.filters.http.cors.v3.Cors`,
  UpstreamTlsContext: `${prefix}envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext`,
  DownstreamTlsContext: `${prefix}envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext`,
  HttpProtocolOptions: `${prefix}envoy.extensions.upstreams.http.v3.HttpProtocolOptions`,
  TlsInspector: `${prefix}envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector`,
  HttpInspector: `${prefix}envoy.extensions.filters.listener.http_inspector.v3.HttpInspector`,
} as const;

export type ResourceTypeUrl =
  | typeof TypeUrl.Listener
  | typeof TypeUrl.RouteConfiguration
  | typeof TypeUrl.Cluster
  | typeof TypeUrl.ClusterLoadAssignment
  | typeof TypeUrl.Secret;

/** Make-before-break: clusters before their endpoints, listeners before their routes (Envoy's ADS ordering). */
export const pushOrder: readonly ResourceTypeUrl[] = [
  TypeUrl.Cluster,
  TypeUrl.ClusterLoadAssignment,
  TypeUrl.Listener,
  TypeUrl.RouteConfiguration,
  TypeUrl.Secret,
];

export const shortTypeName: Record<ResourceTypeUrl, string> = {
  [TypeUrl.Listener]: 'LDS',
  [TypeUrl.RouteConfiguration]: 'RDS',
  [TypeUrl.Cluster]: 'CDS',
  [TypeUrl.ClusterLoadAssignment]: 'EDS',
  [TypeUrl.Secret]: 'SDS',
};
