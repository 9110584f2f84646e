// AuthorizationPolicy `ports` and `destination.port` name the workload's port (Istio: the port in the
// connection, i.e. the container port). Here a connection reaches the workload's sidecar on its own
// inbound port, so each inbound listener gets the policy with those numbers rewritten: a port the
// listener serves (the service's target port or the application's port) becomes the sidecar port the
// connection really arrives at; other ports stay as written and match nothing on this listener.
import type { EnvoyFilter } from './envoy-shapes.ts';

function rewrite(value: unknown, ports: ReadonlyMap<number, number>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewrite(v, ports));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = key === 'destination_port' && typeof v === 'number' ? (ports.get(v) ?? v) : rewrite(v, ports);
  }
  return out;
}

/** The filters with destination ports rewritten by `ports` (workload port → sidecar inbound port). */
export function forInboundPort(filters: readonly EnvoyFilter[], ports: ReadonlyMap<number, number>): EnvoyFilter[] {
  if (ports.size === 0 || !JSON.stringify(filters).includes('"destination_port"')) return [...filters];
  return filters.map((f) => rewrite(f, ports) as EnvoyFilter);
}
