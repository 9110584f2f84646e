// Outbound TCP and TLS listeners. Without traffic capture there is no original destination address, so
// a sidecar reserves one local port per service port it should carry opaque traffic for
// (`weft proxy --outbound-tcp SPORT[:PORT]`), and the listener there chooses by what the connection
// itself says:
//  - TLS services (protocol TLS or HTTPS) are told apart by SNI (tls_inspector): one filter chain per
//    VirtualService `tls` match (sniHosts → weighted destinations, passed through untouched), then one
//    per TLS service without such a route (its hostname as the SNI);
//  - a TCP service takes the connections that match no SNI chain, routed by its VirtualService's first
//    `tcp` rule that applies here (port, sourceLabels, sourceNamespace, gateways), or straight to its
//    cluster. Several TCP services on one service port cannot be told apart: the first is served and the
//    others are reported.
import type { RouteDestination, VirtualService } from '../../api/index.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { MeshSnapshot, ProxyNode, Service } from '../registry/model.ts';
import { socketAddress, type EnvoyResource } from './envoy-types.ts';
import { destinationClusterName } from './destination-cluster.ts';
import { matchAppliesHere } from './match-scope.ts';
import { blackHoleClusterName, outboundClusterName, outboundTcpListenerName } from './names.ts';
import { virtualServiceFor } from './routes.ts';
import { httpProtocols } from './protocols.ts';

const tlsProtocols = new Set(['TLS', 'HTTPS']);

export interface Context { snapshot: MeshSnapshot; proxy: ProxyNode; warnings: string[] }

export function outboundTcpListeners(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): EnvoyResource[] {
  const ctx: Context = { snapshot, proxy, warnings };
  return (proxy.metadata.outboundTcp ?? []).map(({ servicePort, port }) => {
    const services = snapshot.services.filter((s) => s.ports.some((p) => p.number === servicePort && !httpProtocols.has(p.protocol)));
    const isTls = (s: Service) => tlsProtocols.has(s.ports.find((p) => p.number === servicePort)!.protocol);
    const chains = tlsChains(ctx, services.filter(isTls), servicePort);
    const tcpServices = services.filter((s) => !isTls(s));
    if (tcpServices.length > 1) {
      warnings.push(`outbound TCP port ${servicePort}: ${tcpServices.map((s) => s.hostname).join(', ')} share it; only ${tcpServices[0].hostname} is reachable through this sidecar's port ${port}`);
    }
    const fallback = tcpServices.length > 0 ? tcpChain(ctx, tcpServices[0], servicePort) : tcpProxyChain(`${outboundTcpListenerName(servicePort)}.blackhole`, { cluster: blackHoleClusterName }, blackHoleClusterName);
    const listener: EnvoyResource = {
      name: outboundTcpListenerName(servicePort),
      address: socketAddress('127.0.0.1', port),
      traffic_direction: 'OUTBOUND',
    };
    if (chains.length === 0) {
      listener.filter_chains = [fallback];
    } else {
      listener.listener_filters = [{ name: 'envoy.filters.listener.tls_inspector', typed_config: { '@type': TypeUrl.TlsInspector } }];
      listener.filter_chains = chains;
      listener.default_filter_chain = fallback;
    }
    return listener;
  });
}

function tlsChains(ctx: Context, services: Service[], servicePort: number): EnvoyResource[] {
  const chains: EnvoyResource[] = [];
  const claimed = new Set<string>();
  const routed = new Set<VirtualService>();
  for (const service of services) {
    const vs = virtualServiceFor(ctx.snapshot, service.hostname);
    if (!vs || routed.has(vs)) continue;
    routed.add(vs);
    (vs.spec.tls ?? []).forEach((rule, i) => {
      const where = `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: spec.tls[${i}]`;
      for (const m of rule.match ?? []) {
        if (!matchAppliesHere(m, ctx.proxy, servicePort)) continue;
        const names = (m.sniHosts ?? []).filter((h) => !claimed.has(h));
        if (names.length === 0) continue;
        for (const n of names) claimed.add(n);
        const target = destinations(ctx, vs, rule.route ?? [], servicePort, where);
        chains.push({
          name: `${where}`,
          filter_chain_match: { server_names: names, transport_protocol: 'tls' },
          ...tcpProxyChain(statPrefix(target), target, ''),
        });
      }
    });
  }
  for (const service of services) {
    if (claimed.has(service.hostname)) continue;
    claimed.add(service.hostname);
    const cluster = outboundClusterName(servicePort, '', service.hostname);
    chains.push({
      name: cluster,
      filter_chain_match: { server_names: [service.hostname], transport_protocol: 'tls' },
      ...tcpProxyChain(cluster, { cluster }, ''),
    });
  }
  return chains;
}

function tcpChain(ctx: Context, service: Service, servicePort: number): EnvoyResource {
  const vs = virtualServiceFor(ctx.snapshot, service.hostname);
  const rules = vs?.spec.tcp ?? [];
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const matches = rule.match && rule.match.length > 0 ? rule.match : [undefined];
    if (!matches.some((m) => matchAppliesHere(m, ctx.proxy, servicePort))) continue;
    const where = `VirtualService ${vs!.metadata.namespace}/${vs!.metadata.name}: spec.tcp[${i}]`;
    const target = destinations(ctx, vs!, rule.route ?? [], servicePort, where);
    return tcpProxyChain(statPrefix(target), target, where);
  }
  const cluster = outboundClusterName(servicePort, '', service.hostname);
  return tcpProxyChain(cluster, { cluster }, cluster);
}

export type Target = { cluster: string } | { weighted_clusters: { clusters: { name: string; weight: number }[] } };

export function statPrefix(target: Target): string {
  return 'cluster' in target ? target.cluster : target.weighted_clusters.clusters.map((c) => c.name).join(',');
}

export function tcpProxyChain(stat: string, target: Target, name: string): EnvoyResource {
  return {
    ...(name !== '' ? { name } : {}),
    filters: [{
      name: 'envoy.filters.network.tcp_proxy',
      typed_config: { '@type': TypeUrl.TcpProxy, stat_prefix: stat, ...target },
    }],
  };
}

/** A tcp/tls rule's destinations as a cluster or weighted clusters (weight-0 ones left out, as Istio). */
export function destinations(ctx: Context, vs: VirtualService, route: RouteDestination[], servicePort: number, where: string): Target {
  const kept = route.length === 1 ? route : route.filter((d) => (d.weight ?? 0) > 0);
  const clusters = kept.map((d) => {
    const cluster = destinationClusterName(ctx.snapshot, ctx.proxy, vs, d.destination, servicePort);
    if (cluster === undefined) {
      ctx.warnings.push(`${where}.route: ${d.destination.host}${d.destination.subset ? ` subset ${d.destination.subset}` : ''} is not a known service, port or DestinationRule subset; its share of connections is closed`);
    }
    return { name: cluster ?? blackHoleClusterName, weight: d.weight ?? 0 };
  });
  if (clusters.length === 0) return { cluster: blackHoleClusterName };
  if (clusters.length === 1) return { cluster: clusters[0].name };
  return { weighted_clusters: { clusters } };
}
