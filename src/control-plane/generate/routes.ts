// RouteConfigurations: the sidecar's outbound HTTP routes, one virtual host per service port, with
// the VirtualService that applies to the host translated into Envoy routes (Istio semantics: rules
// in order, first match wins; several matches in one rule are OR; conditions inside one are AND).
import type { HTTPMatchRequest, HTTPRoute, HTTPRouteDestination, StringMatch, VirtualService } from '../../api/index.ts';
import { parseDuration } from '../../api/hosts.ts';
import type { MeshSnapshot, ProxyNode, Service, ServicePort } from '../registry/model.ts';
import { duration, type EnvoyResource } from './envoy-types.ts';
import { findService, hostAliases, hostMatches, resolveHost } from './hosts.ts';
import { blackHoleClusterName, outboundClusterName, outboundHttpRouteName, virtualHostName } from './names.ts';
import { corsPerRouteConfig } from './cors.ts';
import { faultPerRouteConfig } from './fault.ts';
import { mirrorPolicies } from './mirror.ts';
import { applyRewrite, headerMutations, mergeHeaderMutations, redirectAction } from './http-actions.ts';
import { retryPolicy } from './retries.ts';
import { expandDelegates } from './delegate.ts';
import { destinationClusterName } from './destination-cluster.ts';
import { consistentHashFor, hashPolicy } from './hash-policy.ts';
import { matchAppliesHere } from './match-scope.ts';
import { destinationRuleFor } from './subsets.ts';
import { httpProtocols } from './protocols.ts';


export interface RouteContext {
  snapshot: MeshSnapshot;
  proxy: ProxyNode;
  warnings: string[];
  /** What the routes are for: `mesh` (sidecars, the default) or the serving gateways as `namespace/name`. */
  scope?: readonly string[];
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
    routes: vs ? translateVirtualService(ctx, vs, service, port) : [defaultRoute(ctx, service, port)],
  };
}

/** The VirtualService bound to a host for sidecars: gateways absent or containing `mesh`. */
export function virtualServiceFor(snapshot: MeshSnapshot, hostname: string): VirtualService | undefined {
  return snapshot.virtualServices.find((vs) => {
    const gateways = vs.spec.gateways;
    if (gateways && gateways.length > 0 && !gateways.includes('mesh')) return false;
    return (vs.spec.hosts ?? []).some((h) => hostMatches(resolveHost(h, vs.metadata.namespace, snapshot), hostname));
  });
}

function defaultRoute(ctx: RouteContext, service: Service, port: ServicePort): EnvoyResource {
  const dr = destinationRuleFor(ctx.snapshot, service.hostname, ctx.proxy.metadata.namespace, service.namespace);
  const hash = hashPolicy(consistentHashFor(dr, '', port.number));
  return {
    name: 'default',
    match: { prefix: '/' },
    route: {
      cluster: outboundClusterName(port.number, '', service.hostname),
      timeout: duration(0),
      retry_policy: retryPolicy(undefined, '', []),
      ...(hash ? { hash_policy: [hash] } : {}),
    },
  };
}

/** A VirtualService's http rules as Envoy routes for one port; `service` gives the default route of a VirtualService without http rules. */
export function translateVirtualService(ctx: RouteContext, vs: VirtualService, service: Service | undefined, port: ServicePort): EnvoyResource[] {
  const routes: EnvoyResource[] = [];
  const http = expandDelegates(vs, ctx.snapshot.virtualServices, ctx.warnings);
  http.forEach((rule, i) => {
    const where = `VirtualService ${vs.metadata.namespace}/${vs.metadata.name}: spec.http[${i}]`;
    const action = routeAction(ctx, vs, rule, port, where);
    // gRPC's xDS client has no CORS filter and rejects config for filters it does not know.
    const cors = ctx.proxy.proxyless ? undefined : corsPerRouteConfig(rule.corsPolicy);
    const perFilter = { ...faultPerRouteConfig(rule.fault), ...cors };
    const perRoute = { ...headerMutations(rule.headers), ...(Object.keys(perFilter).length > 0 ? { typed_per_filter_config: perFilter } : {}) };
    const matches: (HTTPMatchRequest | undefined)[] = rule.match && rule.match.length > 0 ? rule.match : [undefined];
    for (const m of matches) {
      if (!matchAppliesHere(m, ctx.proxy, port.number, ctx.scope, vs.metadata.namespace)) continue;
      const forMatch = action.route ? { ...action, route: applyRewrite(action.route as EnvoyResource, rule.rewrite, m) } : action;
      const headers = action.destinationHeaders ? mergeHeaderMutations(perRoute, action.destinationHeaders as EnvoyResource) : perRoute;
      const { destinationHeaders: _unused, ...envoyAction } = forMatch;
      routes.push({ name: rule.name ?? `${vs.metadata.name}.${i}`, match: routeMatch(m), ...envoyAction, ...headers });
    }
  });
  if (http.length === 0 && service) routes.push(defaultRoute(ctx, service, port));
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
  const query = Object.entries(m?.queryParams ?? {}).map(([name, sm]) => queryParameterMatcher(name, sm));
  if (query.length > 0) match.query_parameters = query;
  return match;
}

function queryParameterMatcher(name: string, sm: StringMatch): EnvoyResource {
  if (sm.exact !== undefined) return { name, string_match: { exact: sm.exact } };
  if (sm.prefix !== undefined) return { name, string_match: { prefix: sm.prefix } };
  if (sm.regex !== undefined) return { name, string_match: { safe_regex: { regex: sm.regex } } };
  return { name, present_match: true };
}

function headerMatcher(name: string, sm: StringMatch, invert: boolean): EnvoyResource {
  const h: EnvoyResource = { name: name.toLowerCase() };
  if (sm.exact !== undefined) h.string_match = { exact: sm.exact };
  else if (sm.prefix !== undefined) {
    // Istio: an empty prefix means "header present".
    if (sm.prefix === '') h.present_match = true;
    else h.string_match = { prefix: sm.prefix };
  } else if (sm.regex !== undefined) {
    // Istio: `withoutHeaders: {x: {regex: "*"}}` means "header absent" (an inverted presence match).
    if (invert && sm.regex === '*') h.present_match = true;
    else h.string_match = { safe_regex: { regex: sm.regex } };
  }
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
  if (rule.redirect) return { redirect: redirectAction(rule.redirect, where, ctx.warnings, port.number) };
  const timeoutMs = rule.timeout !== undefined ? parseDuration(rule.timeout) ?? 0 : 0;
  const all = rule.route ?? [];
  if (all.length === 0) {
    ctx.warnings.push(`${where}: no route destination this version of Weft can apply; requests get 503`);
    return { direct_response: { status: 503, body: { inline_string: 'no healthy upstream' } } };
  }
  // Istio leaves out destinations of weight 0; a lone destination takes all traffic whatever its weight.
  const kept = all.length === 1 ? all : all.filter((d) => (d.weight ?? 0) > 0);
  const hashPolicies: EnvoyResource[] = [];
  const targets = kept.map((d) => {
    const cluster = destinationClusterName(ctx.snapshot, ctx.proxy, vs, d.destination, port.number);
    const hash = cluster !== undefined ? destinationHashPolicy(ctx, vs, d) : undefined;
    if (hash) hashPolicies.push(hash);
    if (cluster === undefined) {
      ctx.warnings.push(`${where}.route: ${d.destination.host}${d.destination.subset ? ` subset ${d.destination.subset}` : ''} is not a known service, port or DestinationRule subset; its share of traffic gets 503`);
    }
    return { cluster: cluster ?? blackHoleClusterName, weight: d.weight ?? 0, headers: headerMutations(d.headers) };
  });
  const retry = retryPolicy(rule.retries, where, ctx.warnings);
  const mirrors = mirrorPolicies(rule, (destination, field) => {
    const cluster = destinationClusterName(ctx.snapshot, ctx.proxy, vs, destination, port.number);
    if (cluster === undefined) ctx.warnings.push(`${where}.${field}: ${destination.host} is not a known service, port or subset; not mirrored`);
    return cluster;
  });
  const common = {
    timeout: duration(timeoutMs),
    ...(retry ? { retry_policy: retry } : {}),
    ...(mirrors.length > 0 ? { request_mirror_policies: mirrors } : {}),
    ...(hashPolicies.length > 0 ? { hash_policy: hashPolicies } : {}),
  };
  // A lone destination's header operations join the route's; with several, each rides its cluster.
  if (targets.length === 1) return { route: { cluster: targets[0].cluster, ...common }, destinationHeaders: targets[0].headers };
  return {
    route: {
      weighted_clusters: { clusters: targets.map((t) => ({ name: t.cluster, weight: { value: t.weight }, ...t.headers })) },
      ...common,
    },
  };
}

/** The hash policy of a destination's DestinationRule (consistent hash), if it has one. */
function destinationHashPolicy(ctx: RouteContext, vs: VirtualService, d: HTTPRouteDestination): EnvoyResource | undefined {
  const hostname = resolveHost(d.destination.host, vs.metadata.namespace, ctx.snapshot);
  const service = findService(ctx.snapshot, hostname);
  const dr = destinationRuleFor(ctx.snapshot, hostname, ctx.proxy.metadata.namespace, service?.namespace ?? vs.metadata.namespace);
  return hashPolicy(consistentHashFor(dr, d.destination.subset ?? '', d.destination.port?.number));
}

