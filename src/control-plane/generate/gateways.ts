// Ingress/egress gateways: a proxy started with `weft proxy --gateway` serves the Gateway resources whose
// selector matches its labels. Each HTTP server port becomes a listener with the RDS route configuration
// `http.<port>`; its virtual hosts come from the VirtualServices bound to those gateways (spec.gateways
// naming `name` or `namespace/name`) whose hosts the server exposes (server hosts `host`, `*`,
// `*.suffix`, optionally `namespace/` or `*/` or `./` prefixed), with Istio's per-match gateway scoping.
import type { Gateway, Server, VirtualService } from '../../api/index.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { hostMatches } from './hosts.ts';
import { outboundHttpFilters } from './listeners.ts';
import { qualifiedGateway } from './match-scope.ts';
import { translateVirtualService, type RouteContext } from './routes.ts';
import { labelsMatch } from './subsets.ts';

const httpProtocols = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

interface PortServers { port: number; gateways: string[]; servers: { gateway: Gateway; server: Server }[] }

/** The servers of the Gateways that select this proxy, grouped by port (HTTP ones; others are reported). */
function httpServers(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): PortServers[] {
  const byPort = new Map<number, PortServers>();
  for (const gateway of snapshot.gateways ?? []) {
    const selector = gateway.spec.selector ?? {};
    if (Object.keys(selector).length > 0 && !labelsMatch(selector, proxy.metadata.labels)) continue;
    const name = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    gateway.spec.servers.forEach((server, i) => {
      const where = `Gateway ${name}: spec.servers[${i}]`;
      const protocol = server.port.protocol.toUpperCase();
      if (!httpProtocols.has(protocol)) {
        warnings.push(`${where}.port.protocol: ${protocol} servers are not served by this version of Weft's gateways (HTTP, HTTP2 and GRPC are)`);
        return;
      }
      if (server.tls !== undefined) warnings.push(`${where}.tls: not applied yet by this version of Weft (the server is plaintext)`);
      let entry = byPort.get(server.port.number);
      if (!entry) byPort.set(server.port.number, (entry = { port: server.port.number, gateways: [], servers: [] }));
      if (!entry.gateways.includes(name)) entry.gateways.push(name);
      entry.servers.push({ gateway, server });
    });
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

export function gatewayRouteName(port: number): string {
  return `http.${port}`;
}

export function gatewayListeners(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  return httpServers(snapshot, proxy, warnings).map(({ port }) => ({
    name: `${proxy.metadata.address}_${port}`,
    address: socketAddress(proxy.metadata.address, port),
    traffic_direction: 'OUTBOUND',
    filter_chains: [{
      filters: [{
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': TypeUrl.HttpConnectionManager,
          stat_prefix: gatewayRouteName(port),
          rds: { route_config_name: gatewayRouteName(port), config_source: { ads: {}, resource_api_version: 'V3' } },
          http_filters: outboundHttpFilters,
          upgrade_configs: [{ upgrade_type: 'websocket' }],
        },
      }],
    }],
  }));
}

/** Whether a server `hosts` entry (`[namespace/]host`) exposes a VirtualService host of namespace `ns`. */
function serverExposes(entry: string, gatewayNamespace: string, ns: string, host: string): boolean {
  const slash = entry.indexOf('/');
  const scope = slash === -1 ? '*' : entry.slice(0, slash);
  const pattern = slash === -1 ? entry : entry.slice(slash + 1);
  if (scope !== '*' && (scope === '.' ? gatewayNamespace : scope) !== ns) return false;
  return hostMatches(pattern, host) || hostMatches(host, pattern);
}

function boundTo(vs: VirtualService, gateways: readonly string[]): boolean {
  return (vs.spec.gateways ?? []).some((g) => gateways.includes(qualifiedGateway(g, vs.metadata.namespace)));
}

export function gatewayRouteConfigurations(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  return httpServers(snapshot, proxy, []).map(({ port, gateways, servers }) => {
    const ctx: RouteContext = { snapshot, proxy, warnings, scope: gateways };
    const virtualHosts: EnvoyResource[] = [];
    const taken = new Set<string>();
    for (const vs of snapshot.virtualServices) {
      if (!boundTo(vs, gateways)) continue;
      for (const host of vs.spec.hosts ?? []) {
        const exposed = servers.some(({ gateway, server }) => boundTo(vs, [`${gateway.metadata.namespace}/${gateway.metadata.name}`])
          && server.hosts.some((h) => serverExposes(h, gateway.metadata.namespace, vs.metadata.namespace, host)));
        if (!exposed || taken.has(host)) continue;
        taken.add(host);
        const routes = translateVirtualService(ctx, vs, undefined, { number: port, name: `http-${port}`, protocol: 'HTTP' });
        if (routes.length === 0) continue;
        virtualHosts.push({ name: `${host}:${port}`, domains: host === '*' ? ['*'] : [host, `${host}:${port}`], routes });
      }
    }
    return { name: gatewayRouteName(port), virtual_hosts: virtualHosts };
  });
}
