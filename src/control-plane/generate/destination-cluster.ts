// A VirtualService destination (host, subset, port) → the outbound cluster it names, or undefined when
// it names no known service, port or DestinationRule subset. The port may be left out when the service
// has one port, or when it has the port the route is for.
import type { Destination, VirtualService } from '../../api/index.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { findService, resolveHost } from './hosts.ts';
import { outboundClusterName } from './names.ts';
import { destinationRuleFor, subsetsOf } from './subsets.ts';

export function destinationClusterName(snapshot: MeshSnapshot, proxy: ProxyNode, vs: VirtualService, destination: Destination, routePort: number): string | undefined {
  const hostname = resolveHost(destination.host, vs.metadata.namespace, snapshot);
  const service = findService(snapshot, hostname);
  if (!service) return undefined;
  const port = destination.port?.number
    ?? (service.ports.length === 1 ? service.ports[0].number : undefined)
    ?? (service.ports.some((p) => p.number === routePort) ? routePort : undefined);
  if (port === undefined || !service.ports.some((p) => p.number === port)) return undefined;
  const subset = destination.subset ?? '';
  if (subset !== '') {
    const dr = destinationRuleFor(snapshot, hostname, proxy.metadata.namespace, service.namespace);
    if (!subsetsOf(dr).some((s) => s.name === subset)) return undefined;
  }
  return outboundClusterName(port, subset, hostname);
}
