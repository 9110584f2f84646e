// RouteConfigurations: the sidecar's outbound HTTP routes, one virtual host per service port, with
// the VirtualService that applies to the host translated into Envoy routes (Istio semantics: rules
// in order, first match wins; several matches in one rule are OR; conditions inside one are AND).
import type { HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, StringMatch, VirtualService } from '../../api/index.ts';
import { parseDuration } from '../../api/hosts.ts';
import type { MeshSnapshot, ProxyNode, Service, ServicePort } from '../registry/model.ts';
import { duration, type EnvoyResource } from './envoy-types.ts';
import { findService, hostAliases, hostMatches, resolveHost } from './hosts.ts';
import { outboundClusterName, outboundHttpRouteName, virtualHostName } from './names.ts';
import { destinationRuleFor, subsetsOf } from './subsets.ts';

export const httpProtocols = new Set(['HTTP', 'HTTP2', 'GRPC', 'GRPC-WEB']);

export interface RouteContext {
  snapshot: MeshSnapshot;
  proxy: ProxyNode;
  warnings: string[];
}

export function outboundRouteConfiguration(ctx: RouteContext): EnvoyResource {
  const { snapshot, proxy } = ctx;
  const virtualHosts: EnvoyResource[] = [];
  const taken = new Set<string>();
  for (const service of snapshot.services) {
    const httpPorts = service.ports.filter((p) => httpProtocols.has(p.protocol));
    httpPorts.forEach((port, i) => {
      const domains = hostAliases(service, port.number, snapshot.config.domainSuffix, proxy.metadata.namespace, i === 0)
        .filter((d) => !taken.has(d));
      for (const d of domains) taken.add(d);
      virtualHosts.push(virtualHost(ctx, service, port, domains));
    });
  }
  return { name: outboundHttpRouteName, virtual_hosts: virtualHosts };
}

/** One service port's virtual host: its VirtualService's routes, or the default route. */
export function virtualHost(ctx: RouteContext, service: Service, port: ServicePort, domains: string[]): EnvoyResource {
  const vs = virtualServiceFor(ctx.snapshot, service.hostname);
  return {
    name: virtualHostName(service.hostname, port.number),
    domains,
    routes: vs ? translateVirtualService(ctx, vs, service, port) : [defaultRoute(service, port)],
  };
}

/** The VirtualService bound to a host for sidecars: gateways absent or containing `mesh`. */
function virtualServiceFor(snapshot: MeshSnapshot, hostname: string): VirtualService | undefined {
  return snapshot.virtualServices.find((vs) => {
    const gateways = vs.spec.gateways;
    if (gateways && gateways.length > 0 && !gateways.includes('mesh')) return false;
    return (vs.spec.hosts ?? []).some((h) => hostMatches(resolveHost(h, vs.metadata.namespace, snapshot), hostname));
  });
}

function defaultRoute(service: Service, port: ServicePort): EnvoyResource {
  return {
    name: 'default',
    match: { prefix: '/' },
    route: { cluster: outboundClusterName(port.number, '', service.hostname), timeout: duration(0) },
  };
}

function translateVirtualService(ctx: RouteContext, vs: VirtualService, service: Service, port: ServicePort): EnvoyResource[] {
  const routes: EnvoyResource[] = [];
  const http = vs.spec.http ?? [];
  http.forEach((rule, i) => {
    const where = `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: spec.http[${i}]`;
    const action = routeAction(ctx, vs, rule, port, where);
    const matches: (HTTPMatchRequest | undefined)[] = rule.match && rule.match.length > 0 ? rule.match : [undefined];
    for (const m of matches) {
      if (m?.port !== undefined && m.port !== port.number) continue;
      if (m?.gateways && m.gateways.length > 0 && !m.gateways.includes('mesh')) continue;
      routes.push({ name: rule.name ?? `${vs.metadata.name}.${i}`, match: routeMatch(m), ...action });
    }
  });
  if (http.length === 0) routes.push(defaultRoute(service, port));
  return routes;
}

function routeMatch(m: HTTPMatchRequest | undefined): EnvoyResource {
  const match: EnvoyResource = {};
  const uri = m?.uri;
  if (uri?.exact !== undefined) match.path = uri.exact;
  else if (uri?.regex !== undefined) match.safe_regex = { regex: uri.regex };
  else match.prefix = uri?.prefix ?? '/';
  if (m?.ignoreUriCase) match.case_sensitive = { value: false };
  const headers: EnvoyResource[] = [];
  for (const [name, sm] of Object.entries(m?.headers ?? {})) headers.push(headerMatcher(name, sm, false));
  for (const [name, sm] of Object.entries(m?.withoutHeaders ?? {})) headers.push(headerMatcher(name, sm, true));
  if (m?.method) headers.push(headerMatcher(':method', m.method, false));
  if (m?.authority) headers.push(headerMatcher(':authority', m.authority, false));
  if (m?.scheme) headers.push(headerMatcher(':scheme', m.scheme, false));
  if (headers.length > 0) match.headers = headers;
  return match;
}

function headerMatcher(name: string, sm: StringMatch, invert: boolean): EnvoyResource {
  const h: EnvoyResource = { name: name.toLowerCase() };
  if (sm.exact !== undefined) h.string_match = { exact: sm.exact };
  else if (sm.prefix !== undefined) {
    // Istio: an empty prefix means "header present".
    if (sm.prefix === '') h.present_match = true;
    else h.string_match = { prefix: sm.prefix };
  } else if (sm.regex !== undefined) h.string_match = { safe_regex: { regex: sm.regex } };
  else h.present_match = true; // `{}` in Istio means the header must be present
  if (invert) h.invert_match = true;
  return h;
}

function routeAction(ctx: RouteContext, vs: VirtualService, rule: HTTPRoute, port: ServicePort, where: string): EnvoyResource {
  if (rule.directResponse) {
    const body = rule.directResponse.body;
    const inline = body?.string ?? (body?.bytes !== undefined ? Buffer.from(body.bytes, 'base64').toString() : undefined);
    return { direct_response: { status: rule.directResponse.status, ...(inline !== undefined ? { body: { inline_string: inline } } : {}) } };
  }
  for (const unsupported of ['redirect', 'rewrite', 'retries', 'fault', 'mirror', 'mirrors', 'corsPolicy', 'headers', 'delegate'] as const) {
    if (rule[unsupported] !== undefined) ctx.warnings.push(`${where}.${unsupported}: not applied yet by this version of Weft`);
  }
  const timeoutMs = rule.timeout !== undefined ? parseDuration(rule.timeout) ?? 0 : 0;
  const destinations = (rule.route ?? []).map((d) => ({ d, cluster: destinationCluster(ctx, vs, d, port) }));
  const live = destinations.filter((x) => x.cluster !== undefined);
  if (live.length === 0) {
    ctx.warnings.push(`${where}.route: no destination resolves to a known service; requests get 503`);
    return { direct_response: { status: 503, body: { inline_string: 'no healthy upstream' } } };
  }
  if (destinations.length === 1) {
    return { route: { cluster: live[0].cluster, timeout: duration(timeoutMs) } };
  }
  return {
    route: {
      weighted_clusters: {
        clusters: live.map((x) => ({ name: x.cluster, weight: { value: x.d.weight ?? 0 } })),
      },
      timeout: duration(timeoutMs),
    },
  };
}

function destinationCluster(ctx: RouteContext, vs: VirtualService, d: HTTPRouteDestination, vhostPort: ServicePort): string | undefined {
  const { snapshot, proxy } = ctx;
  const hostname = resolveHost(d.destination.host, vs.metadata.namespace, snapshot);
  const service = findService(snapshot, hostname);
  if (!service) return undefined;
  const port = d.destination.port?.number
    ?? (service.ports.length === 1 ? service.ports[0].number : undefined)
    ?? (service.ports.some((p) => p.number === vhostPort.number) ? vhostPort.number : undefined);
  if (port === undefined || !service.ports.some((p) => p.number === port)) return undefined;
  const subset = d.destination.subset ?? '';
  if (subset !== '') {
    const dr = destinationRuleFor(snapshot, hostname, proxy.metadata.namespace, service.namespace);
    if (!subsetsOf(dr).some((s) => s.name === subset)) {
      ctx.warnings.push(`VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: subset ${subset} of ${hostname} is not defined by any DestinationRule`);
      return undefined;
    }
  }
  return outboundClusterName(port, subset, hostname);
}
