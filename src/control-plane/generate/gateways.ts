// Ingress/egress gateways: a proxy started with `weft proxy --gateway` serves the Gateway resources whose
// selector matches its labels. Each HTTP server port becomes a listener with the RDS route configuration
// `http.<port>`; its virtual hosts come from the VirtualServices bound to those gateways (spec.gateways
// naming `name` or `namespace/name`) whose hosts the server exposes (server hosts `host`, `*`,
// `*.suffix`, optionally `namespace/` or `*/` or `./` prefixed), with Istio's per-match gateway scoping;
// hosts of a server with `tls.httpsRedirect` answer every request with a 301 to https.
// TLS and HTTPS servers share their port, told apart by SNI (tls_inspector):
//  - PASSTHROUGH servers route by SNI with the bound VirtualServices' `tls` rules; the bytes pass untouched;
//  - servers that terminate TLS (SIMPLE, MUTUAL, OPTIONAL_MUTUAL, ISTIO_MUTUAL; gateway-tls.ts) get one
//    filter chain each, matching their hosts as SNI (every connection when a host is `*`): an HTTPS
//    server's chain runs the connection manager with its own route configuration
//    `https.<port>.<portName>.<gateway>.<namespace>` (only the virtual hosts that server exposes, as
//    Istio), a TLS server's chain proxies the plaintext with the bound VirtualServices' `tcp` rules.
// TCP servers use the `tcp` rules. Two terminating servers on one port with a host in common cannot be
// told apart: the later one is reported and not served, as Istio does.
import { inboundSecurityFilters, pathNormalizationOptions, type SecurityFilters } from './security/index.ts';
import type { Gateway, Server, VirtualService } from '../../api/index.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { MeshSnapshot, ProxyNode } from '../registry/model.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { gatewayServerTransportSocket, serverSniHosts, serverTlsMode, terminatingModes } from './gateway-tls.ts';
import { hostMatches } from './hosts.ts';
import { outboundHttpFilters } from './listeners.ts';
import { matchAppliesHere, qualifiedGateway } from './match-scope.ts';
import { blackHoleClusterName } from './names.ts';
import { translateVirtualService, type RouteContext } from './routes.ts';
import { destinations, statPrefix, tcpProxyChain, type Context } from './tcp-listeners.ts';
import { labelsMatch } from './subsets.ts';
import { httpProtocols } from './protocols.ts';
import { withTelemetry, workloadTelemetry } from './telemetry/index.ts';

const opaqueProtocols = new Set(['TCP', 'MONGO', 'MYSQL', 'REDIS']);

type ServerKind = 'http' | 'tls' | 'tcp';

interface GatewayServer {
  gateway: Gateway;
  server: Server;
  /** The gateway as `namespace/name`. */
  name: string;
  /** Where the server is written, for messages. */
  where: string;
  /** For a server that terminates TLS: its transport socket, SNI names (undefined: all) and whether it speaks HTTP. */
  terminate?: { transportSocket: EnvoyResource; sniHosts: string[] | undefined; http: boolean };
}

interface PortServers { port: number; kind: ServerKind; gateways: string[]; servers: GatewayServer[] }

function serverKind(server: Server): ServerKind | undefined {
  const protocol = server.port.protocol.toUpperCase();
  if (httpProtocols.has(protocol)) return 'http';
  if ((protocol === 'TLS' || protocol === 'HTTPS') && server.tls !== undefined) {
    const mode = serverTlsMode(server.tls);
    return mode === 'PASSTHROUGH' || terminatingModes.has(mode) ? 'tls' : undefined;
  }
  if (opaqueProtocols.has(protocol) && server.tls === undefined) return 'tcp';
  return undefined;
}

/** The servers of the Gateways that select this proxy, grouped by port; the ones it cannot serve are reported. */
function gatewayServers(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): PortServers[] {
  const byPort = new Map<number, PortServers>();
  /** Per port, the SNI names terminating servers claimed, and by whom (`*`: the server taking every connection). */
  const sniByPort = new Map<number, Map<string, string>>();
  for (const gateway of snapshot.gateways ?? []) {
    const selector = gateway.spec.selector ?? {};
    if (Object.keys(selector).length > 0 && !labelsMatch(selector, proxy.metadata.labels)) continue;
    const name = `${gateway.metadata.namespace}/${gateway.metadata.name}`;
    gateway.spec.servers.forEach((server, i) => {
      const where = `Gateway ${name}: spec.servers[${i}]`;
      const kind = serverKind(server);
      if (kind === undefined) {
        const mode = server.tls ? ` with tls.mode ${serverTlsMode(server.tls)}` : '';
        warnings.push(`${where}: ${server.port.protocol} servers${mode} are not served by this version of Weft's gateways (HTTP, HTTP2 and GRPC; TCP; HTTPS and TLS with PASSTHROUGH, SIMPLE, MUTUAL, OPTIONAL_MUTUAL or ISTIO_MUTUAL are)`);
        return;
      }
      const existing = byPort.get(server.port.number);
      if (existing && existing.kind !== kind) {
        warnings.push(`${where}: port ${server.port.number} already carries ${existing.kind} servers; this one is not served`);
        return;
      }
      const entryServer: GatewayServer = { gateway, server, name, where };
      if (kind === 'tls' && terminatingModes.has(serverTlsMode(server.tls!))) {
        const http = server.port.protocol.toUpperCase() === 'HTTPS';
        const transportSocket = gatewayServerTransportSocket(server, http, where, warnings);
        if (transportSocket === undefined) return;
        const sniHosts = serverSniHosts(server);
        let claimed = sniByPort.get(server.port.number);
        if (!claimed) sniByPort.set(server.port.number, (claimed = new Map()));
        const wanted = sniHosts ?? ['*'];
        const taken = wanted.filter((h) => claimed.has(h));
        if (taken.length > 0) {
          warnings.push(`${where}: port ${server.port.number} already serves ${taken.join(', ')} with TLS (${claimed.get(taken[0])}); connections could not be told apart, so this server is not served`);
          return;
        }
        for (const h of wanted) claimed.set(h, where);
        entryServer.terminate = { transportSocket, sniHosts, http };
      }
      const entry = existing ?? { port: server.port.number, kind, gateways: [], servers: [] };
      byPort.set(server.port.number, entry);
      if (!entry.gateways.includes(name)) entry.gateways.push(name);
      entry.servers.push(entryServer);
    });
  }
  return [...byPort.values()].sort((a, b) => a.port - b.port);
}

export function gatewayRouteName(port: number): string {
  return `http.${port}`;
}

/** Istio's route configuration name for an HTTPS server that terminates TLS. */
function gatewayHttpsRouteName(s: GatewayServer): string {
  return `https.${s.server.port.number}.${s.server.port.name}.${s.gateway.metadata.name}.${s.gateway.metadata.namespace}`;
}

function connectionManager(routeName: string): EnvoyResource {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': TypeUrl.HttpConnectionManager,
      stat_prefix: routeName,
      rds: { route_config_name: routeName, config_source: { ads: {}, resource_api_version: 'V3' } },
      http_filters: outboundHttpFilters,
      upgrade_configs: [{ upgrade_type: 'websocket' }],
    },
  };
}

/**
 * The gateway workload's AuthorizationPolicy and RequestAuthentication (as Istio applies them to an
 * ingress gateway: policies selecting its labels, or of its namespace, or mesh-wide) and the mesh's
 * path normalisation, put into every chain: HTTP filters before the routing ones, network filters
 * before tcp_proxy.
 */
function withSecurity(listener: EnvoyResource, security: SecurityFilters, pathOptions: Record<string, unknown>): EnvoyResource {
  type Chain = { filters?: { name?: string; typed_config?: Record<string, unknown> }[] };
  for (const chain of (listener.filter_chains as Chain[] | undefined) ?? []) {
    const filters = chain.filters ?? [];
    const hcm = filters.find((f) => f.name === 'envoy.filters.network.http_connection_manager');
    if (hcm?.typed_config) {
      hcm.typed_config = { ...hcm.typed_config, ...pathOptions, http_filters: [...security.http, ...(hcm.typed_config.http_filters as unknown[])] };
    } else if (filters.some((f) => f.name === 'envoy.filters.network.tcp_proxy')) {
      chain.filters = [...security.network, ...filters];
    }
  }
  return listener;
}

export function gatewayListeners(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const security = inboundSecurityFilters(snapshot, { namespace: proxy.metadata.namespace, labels: proxy.metadata.labels });
  warnings.push(...security.warnings);
  const pathOptions = pathNormalizationOptions(snapshot.config.pathNormalization);
  // A gateway's Telemetry is the client side, as Istio has it.
  const telemetry = workloadTelemetry(snapshot, proxy, warnings);
  return gatewayServers(snapshot, proxy, warnings)
    .map((entry) => withTelemetry(withSecurity(gatewayListener(snapshot, proxy, warnings, entry), security, pathOptions), telemetry, 'client'));
}

function gatewayListener(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[], entry: PortServers): EnvoyResource {
  const listener: EnvoyResource = {
    name: `${proxy.metadata.address}_${entry.port}`,
    address: socketAddress(proxy.metadata.address, entry.port),
    traffic_direction: 'OUTBOUND',
  };
  const ctx: Context = { snapshot, proxy, warnings };
  if (entry.kind === 'http') {
    listener.filter_chains = [{ filters: [connectionManager(gatewayRouteName(entry.port))] }];
  } else if (entry.kind === 'tls') {
    listener.listener_filters = [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TypeUrl.TlsInspector } }];
    const chains = entry.servers.flatMap((s) => terminatingChain(ctx, entry, s));
    const passthrough = entry.servers.filter((s) => s.terminate === undefined);
    if (passthrough.length > 0) chains.push(...sniChains(ctx, subEntry(entry, passthrough)));
    // Envoy needs a chain; with no route, connections close (BlackHoleCluster).
    if (chains.length === 0) chains.push(tcpProxyChain(blackHoleClusterName, { cluster: blackHoleClusterName }, blackHoleClusterName));
    listener.filter_chains = chains;
  } else {
    listener.filter_chains = [tcpChain(ctx, entry) ?? tcpProxyChain(blackHoleClusterName, { cluster: blackHoleClusterName }, blackHoleClusterName)];
  }
  return listener;
}

/** The servers of a port taken apart: `servers` only, with their gateways. */
function subEntry(entry: PortServers, servers: GatewayServer[]): PortServers {
  return { ...entry, servers, gateways: [...new Set(servers.map((s) => s.name))] };
}

/** A terminating server's filter chain: TLS with its certificate, then HTTP routing or the tcp rules. */
function terminatingChain(ctx: Context, entry: PortServers, s: GatewayServer): EnvoyResource[] {
  if (s.terminate === undefined) return [];
  const { transportSocket, sniHosts, http } = s.terminate;
  const match = sniHosts !== undefined ? { filter_chain_match: { server_names: sniHosts } } : {};
  if (http) {
    const routeName = gatewayHttpsRouteName(s);
    return [{ name: routeName, ...match, transport_socket: transportSocket, filters: [connectionManager(routeName)] }];
  }
  const tcp = tcpChain(ctx, subEntry(entry, [s]));
  if (tcp === undefined) {
    ctx.warnings.push(`${s.where}: no VirtualService bound to the gateway has a tcp rule for its hosts on port ${entry.port}; TLS connections to it are closed`);
    return [];
  }
  const { name: _rule, ...proxying } = tcp;
  return [{ name: s.where, ...match, transport_socket: transportSocket, ...proxying }];
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
  return chains;
}

/** TCP: the first `tcp` rule of the bound VirtualServices that applies to the port; undefined: none does. */
function tcpChain(ctx: Context, entry: PortServers): EnvoyResource | undefined {
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
  return undefined;
}

function exposes(entry: PortServers, vs: VirtualService, host: string): boolean {
  return entry.servers.some(({ gateway, server }) => boundTo(vs, [`${gateway.metadata.namespace}/${gateway.metadata.name}`])
    && server.hosts.some((h) => serverExposes(h, gateway.metadata.namespace, vs.metadata.namespace, host)));
}

/**
 * Whether a server `hosts` entry (`[namespace/]host`) exposes a VirtualService host of namespace `ns`
 * (the two overlap); with `whole`, only when the entry covers every name of the VirtualService host.
 */
function serverExposes(entry: string, gatewayNamespace: string, ns: string, host: string, whole = false): boolean {
  const slash = entry.indexOf('/');
  const scope = slash === -1 ? '*' : entry.slice(0, slash);
  const pattern = slash === -1 ? entry : entry.slice(slash + 1);
  if (scope !== '*' && (scope === '.' ? gatewayNamespace : scope) !== ns) return false;
  return hostMatches(pattern, host) || (!whole && hostMatches(host, pattern));
}

/** Whether a server with `tls.httpsRedirect` covers the whole of a VirtualService host. */
function redirected(redirecting: readonly GatewayServer[], vs: VirtualService, host: string): boolean {
  return redirecting.some(({ gateway, server, name }) => boundTo(vs, [name])
    && server.hosts.some((h) => serverExposes(h, gateway.metadata.namespace, vs.metadata.namespace, host, true)));
}

function boundTo(vs: VirtualService, gateways: readonly string[]): boolean {
  return (vs.spec.gateways ?? []).some((g) => gateways.includes(qualifiedGateway(g, vs.metadata.namespace)));
}

/**
 * One route configuration per HTTP port (`http.<port>`, every server of the port) and one per HTTPS
 * server that terminates TLS (only the hosts that server exposes).
 */
export function gatewayRouteConfigurations(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  for (const entry of gatewayServers(snapshot, proxy, [])) {
    if (entry.kind === 'http') {
      out.push({ name: gatewayRouteName(entry.port), virtual_hosts: virtualHosts({ snapshot, proxy, warnings, scope: entry.gateways }, entry) });
    } else if (entry.kind === 'tls') {
      for (const s of entry.servers) {
        if (!s.terminate?.http) continue;
        out.push({ name: gatewayHttpsRouteName(s), virtual_hosts: virtualHosts({ snapshot, proxy, warnings, scope: [s.name] }, subEntry(entry, [s])) });
      }
    }
  }
  return out;
}

/** `tls.httpsRedirect` (Envoy's require_tls ALL): every request gets a 301 to the same URL with https. */
const httpsRedirectRoute: EnvoyResource = { name: 'https_redirect', match: { prefix: '/' }, redirect: { https_redirect: true } };

/** The virtual hosts of the VirtualServices bound to the port's gateways, for the hosts its servers expose. */
function virtualHosts(ctx: RouteContext, entry: PortServers): EnvoyResource[] {
  const { port, gateways } = entry;
  const redirecting = entry.servers.filter((s) => s.server.tls?.httpsRedirect === true);
  const out: EnvoyResource[] = [];
  const taken = new Set<string>();
  const domains = (host: string) => (host === '*' ? ['*'] : [host, `${host}:${port}`]);
  for (const vs of ctx.snapshot.virtualServices) {
    if (!boundTo(vs, gateways)) continue;
    for (const host of vs.spec.hosts ?? []) {
      if (!exposes(entry, vs, host) || taken.has(host)) continue;
      taken.add(host);
      if (redirected(redirecting, vs, host)) {
        out.push({ name: `${host}:${port}`, domains: domains(host), routes: [httpsRedirectRoute] });
        continue;
      }
      const routes = translateVirtualService(ctx, vs, undefined, { number: port, name: `http-${port}`, protocol: 'HTTP' });
      if (routes.length === 0) continue;
      out.push({ name: `${host}:${port}`, domains: domains(host), routes });
    }
  }
  // A redirecting server's hosts redirect even when no VirtualService routes them.
  for (const s of redirecting) {
    for (const h of s.server.hosts) {
      const host = h.includes('/') ? h.slice(h.indexOf('/') + 1) : h;
      if (taken.has(host)) continue;
      taken.add(host);
      out.push({ name: `${host}:${port}`, domains: domains(host), routes: [httpsRedirectRoute] });
    }
  }
  return out;
}
