// Listeners: the explicit outbound HTTP listener (applications send to it, or use it as their
// HTTP_PROXY) and one inbound listener per service port the workload serves.
import { TypeUrl } from '../../xds/type-urls.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { hostAliases } from './hosts.ts';
import { inboundProtocol, inboundService, inboundServicePort } from './clusters.ts';
import { toStruct } from '../../xds/struct.ts';
import { virtualHost } from './routes.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { corsFilter } from './cors.ts';
import { faultFilter } from './fault.ts';
import { inboundClusterName, inboundListenerName, outboundHttpListenerName, outboundHttpRouteName } from './names.ts';
import { httpProtocols } from './protocols.ts';
import { inboundMtlsTransportSocket } from './mtls.ts';
import { workloadMtlsMode } from './peer-authentication.ts';
import { inboundSecurityFilters, pathNormalizationOptions } from './security/index.ts';
import { forInboundPort } from './security/destination-ports.ts';
import { withTelemetry, workloadTelemetry } from './telemetry/index.ts';

const router = { name: 'envoy.filters.http.router', typed_config: { '@type': TypeUrl.Router } };
const tlsInspector = { name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TypeUrl.TlsInspector } };
/** Client-side HTTP filters, in order; the router is always last. */
export const outboundHttpFilters = [faultFilter, corsFilter, router];
/** gRPC's xDS client knows only some filters (fault, rbac, router) and rejects the others. */
const proxylessHttpFilters = [faultFilter, router];

function httpConnectionManager(statPrefix: string, routeSpecifier: EnvoyResource, httpFilters: readonly unknown[]): EnvoyResource {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': TypeUrl.HttpConnectionManager,
      stat_prefix: statPrefix,
      ...routeSpecifier,
      http_filters: httpFilters,
      // As Istio: WebSocket upgrades pass through every sidecar HTTP listener.
      upgrade_configs: [{ upgrade_type: 'websocket' }],
    },
  };
}

/**
 * The outbound HTTP listener. With the mesh `snapshot`, its connection manager carries the
 * workload's client-side telemetry (tracing, access logs, metrics overrides; telemetry/).
 */
export function outboundListeners(proxy: ProxyNode, snapshot?: MeshSnapshot, warnings: string[] = []): EnvoyResource[] {
  const port = proxy.metadata.outboundPort;
  if (port === undefined) return [];
  const telemetry = snapshot === undefined ? undefined : workloadTelemetry(snapshot, proxy, warnings);
  const listener: EnvoyResource = {
    name: outboundHttpListenerName,
    address: socketAddress('127.0.0.1', port),
    traffic_direction: 'OUTBOUND',
    filter_chains: [{
      filters: [httpConnectionManager(outboundHttpListenerName, {
        rds: { route_config_name: outboundHttpRouteName, config_source: { ads: {}, resource_api_version: 'V3' } },
      }, outboundHttpFilters)],
    }],
  };
  return [telemetry === undefined ? listener : withTelemetry(listener, telemetry, 'client')];
}

/**
 * One inbound listener per service port the workload serves. Its filter chains follow the port's
 * PeerAuthentication mode (peer-authentication.ts): STRICT accepts only mutual TLS (a plaintext
 * connection matches no chain and is closed), PERMISSIVE tells TLS from plaintext on the same port
 * (tls_inspector), DISABLE is plaintext only. The workload's AuthorizationPolicy and
 * RequestAuthentication filters (security/) run first on every chain; the workload's server-side
 * telemetry (telemetry/) goes into every connection manager and tcp_proxy.
 */
export function inboundListeners(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const workload = { namespace: proxy.metadata.namespace, labels: proxy.metadata.labels };
  const security = inboundSecurityFilters(snapshot, workload);
  warnings.push(...security.warnings);
  const pathOptions = pathNormalizationOptions(snapshot.config.pathNormalization);
  const trustDomains = [snapshot.config.trustDomain, ...(snapshot.config.trustDomainAliases ?? [])];
  const telemetry = workloadTelemetry(snapshot, proxy, warnings);
  return proxy.metadata.inbound.map((p) => {
    const name = inboundListenerName(p.servicePort);
    const cluster = inboundClusterName(p.servicePort);
    const http = httpProtocols.has(inboundProtocol(snapshot, proxy, p.servicePort, p.port));
    // Policies name the workload's port; connections arrive on the sidecar's.
    const ports = new Map([[p.servicePort, p.port], [p.appPort, p.port]]);
    const httpSecurity = forInboundPort(security.http, ports);
    const networkSecurity = forInboundPort(security.network, ports);
    // HTTP ports get the connection manager (HTTP/1.1 and h2c, WebSocket upgrades); others are opaque TCP.
    const filters = http
      ? [httpConnectionManager(name, {
        route_config: {
          name,
          virtual_hosts: [{
            name: `inbound|http|${p.servicePort}`,
            domains: ['*'],
            routes: [{ name: 'default', match: { prefix: '/' }, route: { cluster, timeout: { seconds: 0 } } }],
          }],
        },
        ...pathOptions,
      }, [...httpSecurity, router])]
      : [...networkSecurity, { name: 'envoy.filters.network.tcp_proxy', typed_config: { '@type': TypeUrl.TcpProxy, stat_prefix: cluster, cluster } }];
    // portLevelMtls names the workload (target) port, as the client side reads it (endpoints.ts).
    const sp = inboundServicePort(snapshot, proxy, p.servicePort, p.port);
    const mode = workloadMtlsMode(snapshot, workload, [p.port, sp ? sp.targetPort ?? sp.number : p.servicePort]);
    const mutual = { name: `${name}|mtls`, filter_chain_match: { transport_protocol: 'tls' }, transport_socket: inboundMtlsTransportSocket(http, trustDomains), filters };
    const plaintext = { name: `${name}|plaintext`, filters };
    const chains = mode === 'STRICT' ? [mutual]
      : mode === 'PERMISSIVE' ? [mutual, { ...plaintext, filter_chain_match: { transport_protocol: 'raw_buffer' } }]
      : [plaintext];
    // Istio's inbound listener metadata: the service served, for the server side's telemetry (TCP has no Host).
    const served = inboundService(snapshot, proxy, p.servicePort, p.port);
    return withTelemetry({
      name,
      address: socketAddress(proxy.metadata.address, p.port),
      traffic_direction: 'INBOUND',
      ...(served ? { metadata: { filter_metadata: { istio: toStruct({ services: [{ host: served.hostname, namespace: served.namespace }] }) } } } : {}),
      ...(mode === 'DISABLE' ? {} : { listener_filters: [tlsInspector] }),
      filter_chains: chains,
    }, telemetry, 'server');
  });
}

/**
 * Proxyless gRPC clients (gRPC's own xDS client) ask for a listener named after their target,
 * e.g. `xds:///reviews:9080` asks for `reviews:9080`. Each carries an api_listener whose
 * HttpConnectionManager has the service's routes inline.
 */
export function apiListeners(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  const taken = new Set<string>(); // first service to claim a name keeps it, as for sidecar routes
  for (const service of snapshot.services) {
    for (const port of service.ports) {
      if (!httpProtocols.has(port.protocol)) continue;
      for (const name of hostAliases(service, port.number, snapshot.config.domainSuffix, proxy.metadata.namespace, false)) {
        if (taken.has(name)) continue;
        taken.add(name);
        const vhost = virtualHost({ snapshot, proxy, warnings }, service, port, [name]);
        out.push({
          name,
          api_listener: {
            api_listener: {
              '@type': TypeUrl.HttpConnectionManager,
              stat_prefix: name,
              route_config: { name, virtual_hosts: [vhost] },
              http_filters: proxylessHttpFilters,
            },
          },
        });
      }
    }
  }
  return out;
}
