// Route hash policies for consistent-hash load balancing: a DestinationRule's loadBalancer.consistentHash
// (the subset's or port level's when set, as Istio chooses) becomes a hash_policy on the routes that
// send to that destination, so that the RING_HASH / MAGLEV cluster gets a per-request key.
import { parseDuration } from '../../api/hosts.ts';
import type { ConsistentHashLB, DestinationRule, PortTrafficPolicy } from '../../api/index.ts';
import { duration, type EnvoyResource } from './envoy-types.ts';

function portLevel(settings: PortTrafficPolicy[] | undefined, port: number | undefined): ConsistentHashLB | undefined {
  if (port === undefined) return undefined;
  return settings?.find((s) => s.port?.number === port)?.loadBalancer?.consistentHash;
}

/** Istio's order: subset port level, subset, rule port level, rule. */
export function consistentHashFor(dr: DestinationRule | undefined, subsetName: string, port: number | undefined): ConsistentHashLB | undefined {
  if (!dr) return undefined;
  const top = dr.spec.trafficPolicy;
  const subset = subsetName === '' ? undefined : dr.spec.subsets?.find((s) => s.name === subsetName);
  return portLevel(subset?.trafficPolicy?.portLevelSettings, port)
    ?? subset?.trafficPolicy?.loadBalancer?.consistentHash
    ?? portLevel(top?.portLevelSettings, port)
    ?? top?.loadBalancer?.consistentHash;
}

export function hashPolicy(hash: ConsistentHashLB | undefined): EnvoyResource | undefined {
  if (!hash) return undefined;
  if (hash.httpHeaderName !== undefined) return { header: { header_name: hash.httpHeaderName } };
  if (hash.httpCookie !== undefined) {
    const c = hash.httpCookie;
    const cookie: EnvoyResource = { name: c.name };
    const ttl = c.ttl !== undefined ? parseDuration(c.ttl) : undefined;
    if (ttl !== undefined) cookie.ttl = duration(ttl);
    if (c.path !== undefined) cookie.path = c.path;
    if (c.attributes && c.attributes.length > 0) cookie.attributes = c.attributes.map((a) => ({ name: a.name, value: a.value ?? '' }));
    return { cookie };
  }
  if (hash.useSourceIp) return { connection_properties: { source_ip: true } };
  if (hash.httpQueryParameterName !== undefined) return { query_parameter: { name: hash.httpQueryParameterName } };
  return undefined;
}
