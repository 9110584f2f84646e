// Clusters: one per service port and per DestinationRule subset (outbound), one per inbound port.
import type { DestinationRule, Subset } from '../../api/index.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { duration, socketAddress, type EnvoyResource } from './envoy-types.ts';
import { inboundClusterName, outboundClusterName } from './names.ts';
import { destinationRuleFor, subsetsOf } from './subsets.ts';

const connectTimeout = duration(10_000); // Istio's default connectTimeout

export function outboundClusters(snapshot: MeshSnapshot, proxy: ProxyNode): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  for (const service of snapshot.services) {
    const dr = destinationRuleFor(snapshot, service.hostname, proxy.metadata.namespace, service.namespace);
    for (const port of service.ports) {
      out.push(edsCluster(outboundClusterName(port.number, '', service.hostname), lbPolicy(dr, undefined)));
      for (const subset of subsetsOf(dr)) {
        out.push(edsCluster(outboundClusterName(port.number, subset.name, service.hostname), lbPolicy(dr, subset)));
      }
    }
  }
  return out;
}

/** DestinationRule loadBalancer.simple, the subset's overriding the rule's (Istio semantics). */
function lbPolicy(dr: DestinationRule | undefined, subset: Subset | undefined): string {
  const simple = subset?.trafficPolicy?.loadBalancer?.simple ?? dr?.spec.trafficPolicy?.loadBalancer?.simple;
  switch (simple) {
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return 'LEAST_REQUEST';
    case 'RANDOM':
      return 'RANDOM';
    case 'PASSTHROUGH':
      return 'CLUSTER_PROVIDED';
    default:
      return 'ROUND_ROBIN';
  }
}

function edsCluster(name: string, lb: string): EnvoyResource {
  return {
    name,
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: name },
    connect_timeout: connectTimeout,
    lb_policy: lb,
  };
}

export function inboundClusters(proxy: ProxyNode): EnvoyResource[] {
  return proxy.metadata.inbound.map((p) => {
    const name = inboundClusterName(p.servicePort);
    return {
      name,
      type: 'STATIC',
      connect_timeout: connectTimeout,
      lb_policy: 'ROUND_ROBIN',
      load_assignment: {
        cluster_name: name,
        endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress('127.0.0.1', p.appPort) } }] }],
      },
    };
  });
}
