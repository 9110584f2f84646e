// Ingress/egress gateways: a proxy started with `weft proxy --gateway` serves the Gateway resources whose
// selector matches its labels. Each HTTP server port becomes a listener with the RDS route configuration
// `http.<port>`; its virtual hosts come from the VirtualServices bound to those gateways (spec.gateways
// naming `name` or `namespace/name`) whose hosts the server exposes (server hosts `host`, `*`,
// `*.suffix`, optionally `namespace/` or `*/` or `./` prefixed), with Istio's per-match gateway scoping.
// TLS servers in PASSTHROUGH mode route by SNI with the bound VirtualServices' `tls` rules, and TCP
// servers with their `tcp` rules; the bytes pass untouched. Servers that terminate TLS need the
// certificate handling of the security work and are reported instead.
import type { Gateway, Server, VirtualService } from '../../api/index.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { hostMatches } from './hosts.ts';
import { outboundHttpFilters } from './listeners.ts';
import { matchAppliesHere, qualifiedGateway } from './match-scope.ts';
import { blackHoleClusterName } from './names.ts';
import { translateVirtualService, type RouteContext } from './routes.ts';
import { destinations, statPrefix, tcpProxyChain, type Context } from './tcp-listeners.ts';
import { labelsMatch } from './subsets.ts';
import { httpProtocols } from './protocols.ts';

const opaqueProtocols = new Set(['TCP', 'MONGO', 'MYSQL', 'REDIS']);

type ServerKind = 'http' | 'passthrough' | 'tcp';

interface PortServers { port: number; kind: ServerKind; gateways: string[]; servers: { gateway: Gateway; server: Server }[] }

function serverKind(server: Server): ServerKind | undefined {
  const protocol = server.port.protocol.toUpperCase();
  if (httpProtocols.has(protocol) && server.tls === undefined) return 'http';
  if ((protocol === 'TLS' || protocol === 'HTTPS') && server.tls?.mode === 'PASSTHROUGH') return 'passthrough';
  if (opaqueProtocols.has(protocol) && server.tls === undefined) return 'tcp';
  return undefined;
}

/** The servers of the Gateways that select this proxy, grouped by port; the ones it cannot serve are reported. */
function gatewayServers(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): PortServers[] {
  const byPort = new Map<number, PortServers>();
  for (const gateway of snapshot.gateways ?? []) {
    const selector = gateway.spec.selector ?? {};
    if (Object.keys(selector).length > 0 && !labelsMatch(selector, proxy.metadata.labels)) continue;
    const name = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    gateway.spec.servers.forEach((server, i) => {
      const where = `Gateway ${name}: spec.servers[${i}]`;
      const kind = serverKind(server);
      if (kind === undefined) {
        warnings.push(`${where}: ${server.port.protocol} servers${server.tls?.mode ? ` with tls.mode ${server.tls.mode}` : ''} are not served by this version of Weft's gateways (HTTP, HTTP2 and GRPC; TCP; TLS PASSTHROUGH are)`);
        return;
      }
      let entry = byPort.get(server.port.number);
      if (!entry) byPort.set(server.port.number, (entry = { port: server.port.number, kind, gateways: [], servers: [] }));
      if (entry.kind !== kind) {
        warnings.push(`${where}: port ${server.port.number} already carries ${entry.kind} servers; this one is not served`);
        return;
      }
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
  return gatewayServers(snapshot, proxy, warnings).map((entry) => {
    const listener: EnvoyResource = {
      name: `${proxy.metadata.address}_${entry.port}`,
      address: socketAddress(proxy.metadata.address, entry.port),
      traffic_direction: 'OUTBOUND',
    };
    if (entry.kind === 'http') {
      listener.filter_chains = [{
        filters: [{
          name: 'envoy.filters.network.http_connection_manager',
          typed_config: {
            '@type': TypeUrl.HttpConnectionManager,
            stat_prefix: gatewayRouteName(entry.port),
            rds: { route_config_name: gatewayRouteName(entry.port), config_source: { ads: {}, resource_api_version: 'V3' } },
            http_filters: outboundHttpFilters,
            upgrade_configs: [{ upgrade_type: 'websocket' }],
          },
        }],
      }];
    } else if (entry.kind === 'passthrough') {
      listener.listener_filters = [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TypeUrl.TlsInspector } }];
      listener.filter_chains = sniChains({ snapshot, proxy, warnings }, entry);
    } else {
      listener.filter_chains = [tcpChain({ snapshot, proxy, warnings }, entry)];
    }
    return listener;
  });
}

/** TLS passthrough: one chain per `tls` match (sniHosts the servers expose) of the bound VirtualServices. */
function sniChains(ctx: Context, entry: PortServers): EnvoyResource[] {
  const chains: EnvoyResource[] = [];
  const claimed = new Set<string>();
  for (const vs of ctx.snapshot.virtualServices) {
    if (!boundTo(vs, entry.gateways)) continue;
    (vs.spec.tls ?? []).forEach((rule, i) => {
      const where = `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: spec.tls[${i}]`;
      for (const m of rule.match ?? []) {
        if (!matchAppliesHere(m, ctx.proxy, entry.port, entry.gateways, vs.metadata.namespace)) continue;
        const names = (m.sniHosts ?? []).filter((h) => !claimed.has(h) && exposes(entry, vs, h));
        if (names.length === 0) continue;
        for (const n of names) claimed.add(n);
        const target = destinations(ctx, vs, rule.route ?? [], entry.port, where);
        chains.push({ name: where, filter_chain_match: { server_names: names, transport_protocol: 'tls' }, ...tcpProxyChain(statPrefix(target), target, '') });
      }
    });
  }
  // Envoy needs a chain; with no route, connections close (BlackHoleCluster).
  if (chains.length === 0) chains.push(tcpProxyChain(blackHoleClusterName, { cluster: blackHoleClusterName }, blackHoleClusterName));
  return chains;
}

/** TCP: the first `tcp` rule of the bound VirtualServices that applies to the port. */
function tcpChain(ctx: Context, entry: PortServers): EnvoyResource {
  for (const vs of ctx.snapshot.virtualServices) {
    if (!boundTo(vs, entry.gateways) || !(vs.spec.hosts ?? []).some((h) => exposes(entry, vs, h))) continue;
    const rules = vs.spec.tcp ?? [];
    for (let i = 0; i < rules.length; i++) {
      const matches = rules[i].match && rules[i].match!.length > 0 ? rules[i].match! : [undefined];
      if (!matches.some((m) => matchAppliesHere(m, ctx.proxy, entry.port, entry.gateways, vs.metadata.namespace))) continue;
      const where = `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: spec.tcp[${i}]`;
      const target = destinations(ctx, vs, rules[i].route ?? [], entry.port, where);
      return tcpProxyChain(statPrefix(target), target, where);
    }
  }
  return tcpProxyChain(blackHoleClusterName, { cluster: blackHoleClusterName }, blackHoleClusterName);
}

function exposes(entry: PortServers, vs: VirtualService, host: string): boolean {
  return entry.servers.some(({ gateway, server }) => boundTo(vs, [`${gateway.metadata.namespace}/${gateway.metadata.name}`])
    && server.hosts.some((h) => serverExposes(h, gateway.metadata.namespace, vs.metadata.namespace, host)));
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
  return gatewayServers(snapshot, proxy, []).filter((e) => e.kind === 'http').map((entry) => {
    const { port, gateways } = entry;
    const ctx: RouteContext = { snapshot, proxy, warnings, scope: gateways };
    const virtualHosts: EnvoyResource[] = [];
    const taken = new Set<string>();
    for (const vs of snapshot.virtualServices) {
      if (!boundTo(vs, gateways)) continue;
      for (const host of vs.spec.hosts ?? []) {
        if (!exposes(entry, vs, host) || taken.has(host)) continue;
        taken.add(host);
        const routes = translateVirtualService(ctx, vs, undefined, { number: port, name: `http-${port}`, protocol: 'HTTP' });
        if (routes.length === 0) continue;
        virtualHosts.push({ name: `${host}:${port}`, domains: host === '*' ? ['*'] : [host, `${host}:${port}`], routes });
      }
    }
    return { name: gatewayRouteName(port), virtual_hosts: virtualHosts };
  });
}
