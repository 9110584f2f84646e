// Clusters: one per service port and per DestinationRule subset (outbound), one per inbound port.
import type { DestinationRule, Subset, TrafficPolicy } from '../../api/index.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { duration, socketAddress, type EnvoyResource } from './envoy-types.ts';
import { blackHoleClusterName, inboundClusterName, outboundClusterName } from './names.ts';
import { destinationRuleFor } from './subsets.ts';

const connectTimeout = duration(10_000); // Istio's default connectTimeout

export function outboundClusters(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const out: EnvoyResource[] = [edsCluster(blackHoleClusterName, 'ROUND_ROBIN')];
  for (const service of snapshot.services) {
    const dr = destinationRuleFor(snapshot, service.hostname, proxy.metadata.namespace, service.namespace);
    const where = dr ? `DestinationRule ${dr.metadata.namespace}/${dr.metadata.name}` : '';
    if (service.resolution.startsWith('DNS')) {
      warnings.push(`ServiceEntry host ${service.hostname}: resolution ${service.resolution} is not supported yet; only endpoints given as IP addresses are used`);
    }
    if (dr) {
      unhonouredPolicy(dr.spec.trafficPolicy, `${where}: spec.trafficPolicy`, warnings);
      (dr.spec.subsets ?? []).forEach((s, i) => unhonouredPolicy(s.trafficPolicy, `${where}: spec.subsets[${i}].trafficPolicy`, warnings));
    }
    for (const port of service.ports) {
      out.push(edsCluster(outboundClusterName(port.number, '', service.hostname), lbPolicy(dr, undefined, `${where}: spec.trafficPolicy`, warnings)));
      (dr?.spec.subsets ?? []).forEach((subset, i) => {
        out.push(edsCluster(outboundClusterName(port.number, subset.name, service.hostname), lbPolicy(dr, subset, `${where}: spec.subsets[${i}].trafficPolicy`, warnings)));
      });
    }
  }
  return out;
}

/** Traffic policy fields stored but not translated yet: said, never silently ignored. */
function unhonouredPolicy(policy: TrafficPolicy | undefined, where: string, warnings: string[]): void {
  if (!policy) return;
  for (const field of ['connectionPool', 'outlierDetection', 'tls', 'portLevelSettings', 'tunnel', 'proxyProtocol', 'retryBudget'] as const) {
    if (policy[field] !== undefined) warnings.push(`${where}.${field}: not applied yet by this version of Weft`);
  }
  const lb = policy.loadBalancer;
  for (const field of ['consistentHash', 'localityLbSetting', 'zoneAwareLbSetting', 'warmupDurationSecs', 'warmup'] as const) {
    if (lb?.[field] !== undefined) warnings.push(`${where}.loadBalancer.${field}: not applied yet by this version of Weft`);
  }
}

/** DestinationRule loadBalancer.simple, the subset's overriding the rule's (Istio semantics). */
function lbPolicy(dr: DestinationRule | undefined, subset: Subset | undefined, subsetWhere: string, warnings: string[]): string {
  const own = subset?.trafficPolicy?.loadBalancer?.simple;
  const simple = own ?? dr?.spec.trafficPolicy?.loadBalancer?.simple;
  const where = own !== undefined ? subsetWhere : `DestinationRule ${dr?.metadata.namespace}/${dr?.metadata.name}: spec.trafficPolicy`;
  switch (simple) {
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return 'LEAST_REQUEST';
    case 'RANDOM':
      return 'RANDOM';
    case 'PASSTHROUGH':
      warnings.push(`${where}.loadBalancer.simple: PASSTHROUGH is not supported yet; round robin is used`);
      return 'ROUND_ROBIN';
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
