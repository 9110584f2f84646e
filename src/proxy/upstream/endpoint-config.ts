// ClusterLoadAssignment (EDS, or a STATIC cluster's inline load_assignment) → the endpoints a cluster
// balances over, with their priority, locality and locality weight, and the overprovisioning factor.
// Pure: validates and compiles, touches no connection.
//
// EDS health statuses: UNKNOWN and HEALTHY endpoints are healthy, DEGRADED ones degraded; UNHEALTHY,
// DRAINING and TIMEOUT endpoints are excluded: the control plane says not to use them, so they take no
// traffic and do not count in a priority's health or panic computations (Envoy excludes DRAINING
// endpoints the same way; it counts UNHEALTHY and TIMEOUT ones as unhealthy members, which can put a
// priority in panic and send them traffic).
import { isIP } from 'node:net';
import {
  FieldPath, checkFields, integer, isPresent, message, optionalMessage, repeated, requiredString, socketAddress,
  string, uintWrapper, type Message,
} from './envoy-config.ts';
import { compileEndpointMatchMetadata } from '../tls/transport-socket-match.ts';
import { peerFromEndpointWorkload, structOrJson, type WorkloadPeer } from '../telemetry/peer-metadata.ts';

export const EndpointHealth = { Healthy: 0, Degraded: 1, Excluded: 2 } as const;
export type EndpointHealth = (typeof EndpointHealth)[keyof typeof EndpointHealth];

export type EndpointSpec = {
  /** `address:port` (`[v6]:port`), the identity of an endpoint across updates. */
  key: string;
  address: string;
  port: number;
  weight: number;
  health: EndpointHealth;
  /** 0 is the highest priority. */
  priority: number;
  /** `region/zone/sub_zone` of its LocalityLbEndpoints. */
  locality: string;
  /** The locality's load_balancing_weight (used with locality_weighted_lb_config); 0 when unset. */
  localityWeight: number;
  /**
   * Its metadata's `envoy.transport_socket_match` values (canonical JSON text by key), which pick its
   * cluster's transport socket; null (or absent) when it has none.
   */
  transportSocketMatch?: ReadonlyMap<string, string> | null;
  /** Its metadata's `istio.workload` (the workload behind it, for telemetry); null (or absent) when none. */
  workload?: WorkloadPeer | null;
};

export type AssignmentSpec = {
  clusterName: string;
  endpoints: EndpointSpec[];
  /** policy.overprovisioning_factor as a percentage (Envoy's default 140). */
  overprovisioningFactor: number;
};

const assignmentFields = new Set(['cluster_name', 'endpoints', 'policy']);
// drop_overloads, endpoint_stale_after and weighted_priority_health are not supported.
const policyFields = new Set(['overprovisioning_factor']);
const localityFields = new Set(['locality', 'lb_endpoints', 'load_balancing_weight', 'priority', 'metadata']);
// Locality names are matched as given; zone-aware routing (which would compare them to the proxy's) is not supported.
const localityNameFields = new Set(['region', 'zone', 'sub_zone']);

/** Envoy's default policy.overprovisioning_factor. */
export const defaultOverprovisioningFactor = 140;

const lbEndpointFields = new Set(['endpoint', 'health_status', 'load_balancing_weight', 'metadata']);
// health_check_config only configures active health checking (not supported, so never used);
// hostname is informational.
const endpointFields = new Set(['address', 'health_check_config', 'hostname']);

function healthOf(at: FieldPath, status: unknown): EndpointHealth {
  switch (status ?? 'UNKNOWN') {
    case 'UNKNOWN': case 'HEALTHY': return EndpointHealth.Healthy;
    case 'DEGRADED': return EndpointHealth.Degraded;
    case 'UNHEALTHY': case 'DRAINING': case 'TIMEOUT': return EndpointHealth.Excluded;
    default: return at.reject(`${String(status)} is not a known health status`);
  }
}

/**
 * Compiles one assignment; `resource` names it in errors (e.g. `ClusterLoadAssignment reviews`).
 * `hostnames`: endpoint addresses may be DNS names (the load_assignment of a STRICT_DNS or LOGICAL_DNS
 * cluster, resolved by dns-resolution.ts); elsewhere they must be IP addresses.
 */
export function compileAssignment(resource: string, value: unknown, clusterName?: string, hostnames = false): AssignmentSpec {
  const root = new FieldPath(resource);
  const cla = message(root, value);
  checkFields(root, cla, assignmentFields);
  const name = clusterName ?? requiredString(root.field('cluster_name'), cla.cluster_name);
  const policy = optionalMessage(root.field('policy'), cla.policy);
  let overprovisioningFactor = defaultOverprovisioningFactor;
  if (policy) {
    checkFields(root.field('policy'), policy, policyFields);
    const factor = uintWrapper(root.field('policy').field('overprovisioning_factor'), policy.overprovisioning_factor);
    if (factor !== undefined) {
      if (factor === 0) root.field('policy').field('overprovisioning_factor').reject('must be greater than 0');
      overprovisioningFactor = factor;
    }
  }

  const byKey = new Map<string, EndpointSpec>();
  /** Locality weights by `priority/locality` (the same locality listed twice at one priority: weights add up). */
  const localityWeights = new Map<string, number>();
  repeated(root.field('endpoints'), cla.endpoints).forEach((localityEndpoints, i) => {
    const lp = root.field('endpoints').item(i);
    const l = message(lp, localityEndpoints);
    checkFields(lp, l, localityFields);
    const priority = integer(lp.field('priority'), l.priority) ?? 0;
    if (priority < 0 || priority > 0xffffffff) lp.field('priority').reject(`${priority} is not a valid priority`);
    const locality = localityName(lp.field('locality'), l.locality);
    const localityWeight = uintWrapper(lp.field('load_balancing_weight'), l.load_balancing_weight) ?? 0;
    const localityKey = `${priority}/${locality}`;
    localityWeights.set(localityKey, (localityWeights.get(localityKey) ?? 0) + localityWeight);
    repeated(lp.field('lb_endpoints'), l.lb_endpoints).forEach((lbEndpoint, j) => {
      const jp = lp.field('lb_endpoints').item(j);
      const ep = compileLbEndpoint(jp, lbEndpoint, priority, locality, hostnames);
      const existing = byKey.get(ep.key);
      if (existing === undefined) {
        byKey.set(ep.key, ep);
      } else if (existing.priority !== priority || existing.locality !== locality) {
        jp.reject(`${ep.key} is already listed in another priority or locality`);
      } else {
        // The same address listed twice in one locality is one endpoint with the summed weight.
        existing.weight += ep.weight;
      }
    });
  });
  const endpoints = [...byKey.values()];
  for (const ep of endpoints) ep.localityWeight = localityWeights.get(`${ep.priority}/${ep.locality}`) ?? 0;
  return { clusterName: name, endpoints, overprovisioningFactor };
}

function localityName(at: FieldPath, value: unknown): string {
  const l = optionalMessage(at, value);
  if (!l) return '';
  checkFields(at, l, localityNameFields);
  const part = (field: string) => string(at.field(field), l[field]) ?? '';
  return `${part('region')}/${part('zone')}/${part('sub_zone')}`;
}

function compileLbEndpoint(at: FieldPath, value: unknown, priority: number, locality: string, hostnames: boolean): EndpointSpec {
  const lbe: Message = message(at, value);
  checkFields(at, lbe, lbEndpointFields);
  const endpoint = optionalMessage(at.field('endpoint'), lbe.endpoint);
  if (!endpoint) throw at.field('endpoint').error('is required');
  checkFields(at.field('endpoint'), endpoint, endpointFields);
  string(at.field('endpoint').field('hostname'), endpoint.hostname);
  const ap = at.field('endpoint').field('address');
  if (!isPresent(endpoint.address)) ap.reject('is required');
  const { address, port } = socketAddress(ap, endpoint.address, false);
  const family = isIP(address);
  if (family === 0 && !hostnames) ap.field('socket_address').field('address').reject(`${address} is not an IP address`);
  if (family === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(address)) {
    ap.field('socket_address').field('address').reject(`${address} is neither an IP address nor a DNS name`);
  }
  const weight = uintWrapper(at.field('load_balancing_weight'), lbe.load_balancing_weight) ?? 1;
  if (weight < 1) at.field('load_balancing_weight').reject('must be at least 1');
  return {
    key: family === 6 ? `[${address}]:${port}` : `${address}:${port}`,
    address,
    port,
    weight,
    health: healthOf(at.field('health_status'), lbe.health_status),
    priority,
    locality,
    localityWeight: 0,
    transportSocketMatch: compileEndpointMatchMetadata(at.field('metadata'), lbe.metadata),
    workload: istioWorkload(lbe.metadata),
  };
}

/**
 * filter_metadata.istio.workload (`<workload>;<namespace>;<app>;<version>;<cluster>`), interned: it only
 * feeds metric labels, so a malformed value is ignored rather than rejected.
 */
function istioWorkload(metadata: unknown): WorkloadPeer | null {
  if (metadata === null || typeof metadata !== 'object') return null;
  const filter = (metadata as Message).filter_metadata;
  if (filter === null || typeof filter !== 'object') return null;
  const istio = (filter as Message).istio;
  if (istio === null || istio === undefined) return null;
  return peerFromEndpointWorkload(structOrJson(istio).workload);
}
