// mesh snapshot + one proxy -> that proxy's Envoy resources. Pure: no I/O, no clocks.
import { TypeUrl, type ResourceTypeUrl } from '../../xds/type-urls.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { inboundClusters, outboundClusters } from './clusters.ts';
import { endpointAssignments } from './endpoints.ts';
import type { EnvoyResource } from './envoy-types.ts';
import { apiListeners, inboundListeners, outboundListeners } from './listeners.ts';
import { gatewayListeners, gatewayRouteConfigurations } from './gateways.ts';
import { outboundRouteConfiguration } from './routes.ts';
import { outboundTcpListeners } from './tcp-listeners.ts';
import { withClientTelemetry } from './telemetry/index.ts';
import { secretResources, type WorkloadSecretMaterial } from './secrets.ts';
import { visibleSnapshot } from './visibility.ts';

export type ProxyResources = Record<ResourceTypeUrl, EnvoyResource[]>;

export interface GeneratedConfig {
  resources: ProxyResources;
  /** Things in the user's config that this proxy's resources do not honour, for the operator. */
  warnings: string[];
}

/**
 * `secrets`: the proxy's workload certificate and the mesh's trust bundle (from the certificate
 * authority), served as SDS Secrets; without them the proxy gets no Secrets (yet).
 */
export function generateProxyConfig(snapshot: MeshSnapshot, proxy: ProxyNode, secrets?: WorkloadSecretMaterial): GeneratedConfig {
  const { resources, warnings } = generate(snapshot, proxy);
  // Proxyless gRPC clients get no mTLS config (clusters.ts), so no Secrets either.
  if (!proxy.proxyless) resources[TypeUrl.Secret] = secretResources(secrets);
  return { resources, warnings: [...new Set(warnings)] };
}

function generate(mesh: MeshSnapshot, proxy: ProxyNode): GeneratedConfig {
  const warnings: string[] = [];
  const snapshot = visibleSnapshot(mesh, proxy);
  if (proxy.proxyless) {
    return {
      resources: {
        [TypeUrl.Cluster]: outboundClusters(snapshot, proxy, warnings),
        [TypeUrl.ClusterLoadAssignment]: endpointAssignments(snapshot, proxy),
        [TypeUrl.Listener]: apiListeners(snapshot, proxy, warnings),
        [TypeUrl.RouteConfiguration]: [],
        [TypeUrl.Secret]: [],
      },
      warnings,
    };
  }
  if (proxy.metadata.gateway) {
    return {
      resources: {
        [TypeUrl.Cluster]: outboundClusters(snapshot, proxy, warnings),
        [TypeUrl.ClusterLoadAssignment]: endpointAssignments(snapshot, proxy),
        [TypeUrl.Listener]: gatewayListeners(snapshot, proxy, warnings),
        [TypeUrl.RouteConfiguration]: gatewayRouteConfigurations(snapshot, proxy, warnings),
        [TypeUrl.Secret]: [],
      },
      warnings,
    };
  }
  const listeners = [
    ...outboundListeners(proxy, snapshot, warnings),
    ...withClientTelemetry(snapshot, proxy, warnings, outboundTcpListeners(snapshot, proxy, warnings)),
    ...inboundListeners(snapshot, proxy, warnings),
  ];
  const routes = proxy.metadata.outboundPort !== undefined ? [outboundRouteConfiguration({ snapshot, proxy, warnings })] : [];
  return {
    resources: {
      [TypeUrl.Cluster]: [...outboundClusters(snapshot, proxy, warnings), ...inboundClusters(snapshot, proxy)],
      [TypeUrl.ClusterLoadAssignment]: endpointAssignments(snapshot, proxy),
      [TypeUrl.Listener]: listeners,
      [TypeUrl.RouteConfiguration]: routes,
      [TypeUrl.Secret]: [],
    },
    warnings,
  };
}

export type { EnvoyResource } from './envoy-types.ts';
export type { WorkloadSecretMaterial } from './secrets.ts';
