// ClusterLoadAssignment (EDS, or a STATIC cluster's inline load_assignment) → the endpoints a cluster
// balances over. Pure: validates and compiles, touches no connection.
import { isIP } from 'node:net';
import {
  FieldPath, checkFields, integer, isPresent, message, optionalMessage, repeated, requiredString, socketAddress,
  string, uintWrapper, type Message,
} from './envoy-config.ts';

export const EndpointHealth = { Healthy: 0, Degraded: 1, Excluded: 2 } as const;
export type EndpointHealth = (typeof EndpointHealth)[keyof typeof EndpointHealth];

export type EndpointSpec = {
  /** `address:port` (`[v6]:port`), the identity of an endpoint across updates. */
  key: string;
  address: string;
  port: number;
  weight: number;
  health: EndpointHealth;
};

export type AssignmentSpec = { clusterName: string; endpoints: EndpointSpec[] };

const assignmentFields = new Set(['cluster_name', 'endpoints', 'policy']);
// policy.overprovisioning_factor only matters with several priorities or localities (not supported).
const policyFields = new Set(['overprovisioning_factor']);
// locality and load_balancing_weight: Envoy ignores locality weights unless the cluster enables
// locality_weighted_lb_config (rejected on clusters), so both are informational here.
const localityFields = new Set(['locality', 'lb_endpoints', 'load_balancing_weight', 'priority', 'metadata']);
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

/** Compiles one assignment; `resource` names it in errors (e.g. `ClusterLoadAssignment reviews`). */
export function compileAssignment(resource: string, value: unknown, clusterName?: string): AssignmentSpec {
  const root = new FieldPath(resource);
  const cla = message(root, value);
  checkFields(root, cla, assignmentFields);
  const name = clusterName ?? requiredString(root.field('cluster_name'), cla.cluster_name);
  const policy = optionalMessage(root.field('policy'), cla.policy);
  if (policy) checkFields(root.field('policy'), policy, policyFields);

  const byKey = new Map<string, EndpointSpec>();
  repeated(root.field('endpoints'), cla.endpoints).forEach((locality, i) => {
    const lp = root.field('endpoints').item(i);
    const l = message(lp, locality);
    checkFields(lp, l, localityFields);
    const priority = integer(lp.field('priority'), l.priority) ?? 0;
    if (priority !== 0) lp.field('priority').reject(`${priority} is not supported (only priority 0)`);
    repeated(lp.field('lb_endpoints'), l.lb_endpoints).forEach((lbEndpoint, j) => {
      const ep = compileLbEndpoint(lp.field('lb_endpoints').item(j), lbEndpoint);
      const existing = byKey.get(ep.key);
      // The same address listed twice is one endpoint with the summed weight.
      if (existing) existing.weight += ep.weight;
      else byKey.set(ep.key, ep);
    });
  });
  return { clusterName: name, endpoints: [...byKey.values()] };
}

function compileLbEndpoint(at: FieldPath, value: unknown): EndpointSpec {
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
  if (family === 0) ap.field('socket_address').field('address').reject(`${address} is not an IP address`);
  const weight = uintWrapper(at.field('load_balancing_weight'), lbe.load_balancing_weight) ?? 1;
  if (weight < 1) at.field('load_balancing_weight').reject('must be at least 1');
  return {
    key: family === 6 ? `[${address}]:${port}` : `${address}:${port}`,
    address,
    port,
    weight,
    health: healthOf(at.field('health_status'), lbe.health_status),
  };
}
