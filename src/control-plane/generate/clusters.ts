// Clusters: one per service port and per DestinationRule subset (outbound), one per inbound port.
// Each outbound cluster carries the traffic policy Istio would compose for it (traffic-policy.ts,
// cluster-policy.ts); locality load balancing needs the proxy's locality and is applied in endpoints.ts
// and locality.ts.
import { TypeUrl } from '../../xds/type-urls.ts';
import type { Endpoint, MeshSnapshot, ProxyNode, Service, ServicePort } from '../registry/model.ts';
import { assignment, usesDns } from './endpoints.ts';
import type { ClientTLSSettings } from '../../api/index.ts';
import { applyClusterPolicy, defaultLbPolicy, speaksHttp2 } from './cluster-policy.ts';
import { autoMtlsTransportSocketMatches, endpointIdentities, istioMutualTransportSocket, meshSni } from './mtls.ts';
import { duration, socketAddress, type EnvoyResource } from './envoy-types.ts';
import { applyLocalityConfig } from './locality.ts';
import { blackHoleClusterName, inboundClusterName, outboundClusterName } from './names.ts';
import { destinationRuleFor, endpointsForSubset, subsetsOf } from './subsets.ts';
import { effectivePolicy } from './traffic-policy.ts';
import { http2Protocols, httpProtocols } from './protocols.ts';

const connectTimeout = duration(10_000); // Istio's default connectTimeout

export function outboundClusters(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const out: EnvoyResource[] = [edsCluster(blackHoleClusterName)];
  out[0].lb_policy = 'ROUND_ROBIN';
  for (const service of snapshot.services) {
    const dr = destinationRuleFor(snapshot, service.hostname, proxy.metadata.namespace, service.namespace);
    const where = dr ? `DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}` : '';
    const dns = usesDns(service, proxy);
    for (const port of service.ports) {
      for (const subset of [undefined, ...subsetsOf(dr)]) {
        const name = outboundClusterName(port.number, subset?.name ?? '', service.hostname);
        const cluster = dns ? dnsCluster(name, service, endpointsForSubset(service.endpoints.get(port.number) ?? [], subset), warnings) : edsCluster(name);
        const policy = effectivePolicy(dr, subset, port.number);
        applyClusterPolicy(cluster, policy, { protocol: port.protocol, where, warnings });
        applyLocalityConfig(cluster, policy, proxy);
        if (proxy.proxyless) forProxylessClient(cluster);
        else {
          const endpoints = endpointsForSubset(service.endpoints.get(port.number) ?? [], subset);
          applyMeshTls(cluster, policy.tls, {
            sni: meshSni(port.number, subset?.name ?? '', service.hostname),
            identities: endpointIdentities(snapshot.config.trustDomain, endpoints),
            h2: speaksHttp2(policy, port.protocol),
            tcp: !httpProtocols.has(port.protocol),
          });
        }
        out.push(cluster);
      }
    }
  }
  return out;
}

/**
 * Mesh mTLS to a cluster (not for proxyless gRPC clients, whose xDS security needs certificate
 * providers of their own): ISTIO_MUTUAL when the DestinationRule says so, auto mTLS when it says
 * nothing about TLS (endpoints with a sidecar get mTLS, others plaintext), nothing for DISABLE,
 * SIMPLE and MUTUAL (cluster-policy.ts). DestinationRule sni and subjectAltNames override Istio's.
 */
function applyMeshTls(cluster: EnvoyResource, tls: ClientTLSSettings | undefined, mesh: { sni: string; identities: string[]; h2: boolean; tcp: boolean }): void {
  if (tls?.mode === 'ISTIO_MUTUAL') {
    cluster.transport_socket = istioMutualTransportSocket({
      sni: tls.sni ?? mesh.sni,
      identities: tls.subjectAltNames && tls.subjectAltNames.length > 0 ? tls.subjectAltNames : mesh.identities,
      h2: mesh.h2,
      tcp: mesh.tcp,
    });
    return;
  }
  if (tls?.mode !== undefined) return;
  cluster.transport_socket_matches = autoMtlsTransportSocketMatches(istioMutualTransportSocket(mesh));
}

/** gRPC's xDS client balances with round robin or ring hash only, and rejects other lb_policy values. */
function forProxylessClient(cluster: EnvoyResource): void {
  if (cluster.lb_policy !== 'RING_HASH') cluster.lb_policy = 'ROUND_ROBIN';
  delete cluster.round_robin_lb_config;
  delete cluster.least_request_lb_config;
  delete cluster.maglev_lb_config;
}

/**
 * A DNS service (resolution DNS or DNS_ROUND_ROBIN): the proxy resolves the endpoints' names itself,
 * STRICT_DNS (every address) or LOGICAL_DNS (the first address of one name), with Istio's settings.
 */
function dnsCluster(name: string, service: Service, endpoints: Endpoint[], warnings: string[]): EnvoyResource {
  const logical = service.resolution === 'DNS_ROUND_ROBIN';
  if (logical && endpoints.length > 1) {
    warnings.push(`ServiceEntry host ${service.hostname}: resolution DNS_ROUND_ROBIN uses one endpoint; ${endpoints[0].address} is used, ${endpoints.length - 1} more are not`);
  }
  const load = assignment(name, logical ? endpoints.slice(0, 1) : endpoints);
  return {
    name,
    type: logical ? 'LOGICAL_DNS' : 'STRICT_DNS',
    connect_timeout: connectTimeout,
    lb_policy: defaultLbPolicy,
    dns_lookup_family: 'V4_ONLY',
    dns_refresh_rate: duration(60_000),
    respect_dns_ttl: true,
    load_assignment: load,
  };
}

function edsCluster(name: string): EnvoyResource {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
    connect_timeout: connectTimeout,
    lb_policy: defaultLbPolicy,
  };
}

export function inboundClusters(snapshot: MeshSnapshot, proxy: ProxyNode): EnvoyResource[] {
  return proxy.metadata.inbound.map((p) => {
    const name = inboundClusterName(p.servicePort);
    const cluster: EnvoyResource = {
      name,
      type: 'STATIC',
      connect_timeout: connectTimeout,
      lb_policy: 'ROUND_ROBIN',
      load_assignment: {
        cluster_name: name,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', p.appPort) } }] }],
      },
    };
    // The application speaks the protocol of the service port it serves (HTTP/2 for gRPC).
    if (http2Protocols.has(inboundProtocol(snapshot, proxy, p.servicePort, p.port))) {
      cluster.typed_extension_protocol_options = {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          '@type': TypeUrl.HttpProtocolOptions,
          explicit_http_config: { http2_protocol_options: {} },
        },
      };
    }
    return cluster;
  });
}

/** The service this sidecar serves on `port` (its endpoint address:port) for `servicePort`, if any. */
export function inboundService(snapshot: MeshSnapshot, proxy: ProxyNode, servicePort: number, port: number): Service | undefined {
  return snapshot.services.find((service) => servesHere(service, proxy, port)
    && service.ports.some((x) => x.number === servicePort || x.targetPort === servicePort));
}

/** The service port this sidecar serves on `port` (its endpoint address:port), if a service says so. */
export function inboundServicePort(snapshot: MeshSnapshot, proxy: ProxyNode, servicePort: number, port: number): ServicePort | undefined {
  for (const service of snapshot.services) {
    if (servesHere(service, proxy, port)) {
      const sp = service.ports.find((x) => x.number === servicePort || x.targetPort === servicePort);
      if (sp) return sp;
    }
  }
  return undefined;
}

/** The protocol of the service port this sidecar serves on `port` (HTTP when no service says). */
export function inboundProtocol(snapshot: MeshSnapshot, proxy: ProxyNode, servicePort: number, port: number): string {
  return inboundServicePort(snapshot, proxy, servicePort, port)?.protocol ?? 'HTTP';
}

function servesHere(service: Service, proxy: ProxyNode, port: number): boolean {
  for (const endpoints of service.endpoints.values()) {
    if (endpoints.some((e) => e.address === proxy.metadata.address && e.port === port)) return true;
  }
  return false;
}
