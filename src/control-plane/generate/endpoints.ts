// ClusterLoadAssignments for every outbound EDS cluster, grouped by locality as gRPC's xDS client
// requires (each locality with a load_balancing_weight, or it is dropped).
import type { Endpoint, MeshSnapshot, ProxyNode, Service } from '../registry/model.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { isIpAddress } from './hosts.ts';
import { blackHoleClusterName, outboundClusterName } from './names.ts';
import { applyLocalityToAssignment } from './locality.ts';
import { istioTlsModeMetadata } from './mtls.ts';
import { toStruct } from '../../xds/struct.ts';
import { workloadMtlsMode } from './peer-authentication.ts';
import { destinationRuleFor, endpointsForSubset, subsetsOf } from './subsets.ts';
import { effectivePolicy } from './traffic-policy.ts';

export function endpointAssignments(snapshot: MeshSnapshot, proxy: ProxyNode): EnvoyResource[] {
  const out: EnvoyResource[] = [assignment(blackHoleClusterName, [])];

  for (const service of snapshot.services) {
    // DNS services' clusters carry their names inline (clusters.ts); proxyless clients get IPs only.
    if (usesDns(service, proxy)) continue;
    const dr = destinationRuleFor(snapshot, service.hostname, proxy.metadata.namespace, service.namespace);
    for (const port of service.ports) {
      const all = service.endpoints.get(port.number) ?? [];
      // Proxyless gRPC clients speak plaintext (clusters.ts gives them no transport socket matches).
      // portLevelMtls names the workload (target) port, as the server side reads it (listeners.ts).
      const ports = [port.targetPort ?? port.number];
      const mtls = proxy.proxyless ? undefined : (e: Endpoint) => acceptsMutualTls(snapshot, e, ports);
      for (const subset of [undefined, ...subsetsOf(dr)]) {
        const cla = assignment(outboundClusterName(port.number, subset?.name ?? '', service.hostname), endpointsForSubset(all, subset).filter((e) => isIpAddress(e.address)), mtls);
        applyLocalityToAssignment(cla, effectivePolicy(dr, subset, port.number), proxy);
        out.push(cla);
      }
    }
  }
  return out;
}

/** Whether this proxy gets the service as a DNS cluster (sidecars and gateways; gRPC's client balances IPs it is given). */
export function usesDns(service: Service, proxy: ProxyNode): boolean {
  return service.resolution.startsWith('DNS') && !proxy.proxyless;
}

/**
 * Auto mTLS: an endpoint is marked tlsMode=istio when a sidecar serves it and its PeerAuthentication
 * does not DISABLE mTLS on that port (Istio then sends it plaintext).
 */
function acceptsMutualTls(snapshot: MeshSnapshot, e: Endpoint, servicePorts: number[]): boolean {
  if (e.tlsMode !== 'istio') return false;
  return workloadMtlsMode(snapshot, { namespace: e.namespace ?? '', labels: e.labels }, [e.port, ...servicePorts]) !== 'DISABLE';
}

/**
 * EDS metadata of an endpoint: `envoy.transport_socket_match` {tlsMode: istio} for auto mTLS, and for a
 * workload Istio's `istio` {workload: "<name>;<namespace>;<app>;<version>;<cluster>"}, from which the
 * calling sidecar labels its telemetry with the destination workload.
 */
function endpointMetadata(e: Endpoint, mtls: boolean): { metadata?: Record<string, unknown> } {
  const filterMetadata: Record<string, unknown> = {};
  if (mtls) Object.assign(filterMetadata, istioTlsModeMetadata.filter_metadata);
  if (e.workloadName !== undefined && e.namespace !== undefined) {
    const app = e.labels['app.kubernetes.io/name'] ?? e.labels.app ?? e.workloadName;
    const version = e.labels['app.kubernetes.io/version'] ?? e.labels.version ?? 'latest';
    filterMetadata.istio = toStruct({ workload: [e.workloadName, e.namespace, app, version, 'Kubernetes'].join(';') });
  }
  return Object.keys(filterMetadata).length > 0 ? { metadata: { filter_metadata: filterMetadata } } : {};
}

/** `mtls` marks the endpoints that take the cluster's tlsMode-istio transport socket. */
export function assignment(clusterName: string, endpoints: Endpoint[], mtls?: (e: Endpoint) => boolean): EnvoyResource {
  const byLocality = new Map<string, Endpoint[]>();
  for (const e of endpoints) {
    const list = byLocality.get(e.locality);
    if (list) list.push(e);
    else byLocality.set(e.locality, [e]);
  }
  const localities = [...byLocality.keys()].sort();
  return {
    cluster_name: clusterName,
    endpoints: localities.map((loc) => {
      const [region = '', zone = '', sub_zone = ''] = loc.split('/');
      const members = byLocality.get(loc)!.slice().sort(compareEndpoints);
      return {
        locality: { region, zone, sub_zone },
        load_balancing_weight: { value: members.reduce((sum, e) => sum + e.weight, 0) },
        lb_endpoints: members.map((e) => ({
          endpoint: { address: socketAddress(e.address, e.port) },
          health_status: 'HEALTHY',
          load_balancing_weight: { value: e.weight },
          ...endpointMetadata(e, mtls?.(e) ?? false),
        })),
      };
    }),
  };
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  return a.address === b.address ? a.port - b.port : a.address < b.address ? -1 : 1;
}
