// VirtualService (networking.istio.io): routing rules for the hosts it names. HTTP routes are in
// http-route.ts; this file holds the spec, the TLS and TCP routes, and the checks across them.
//
// A VirtualService without hosts is a delegate: it holds HTTP rules that a root VirtualService
// pulls in with `http[].delegate`. Istio's validation can not know whether anything references it,
// so it accepts it and enforces what a delegate may not do: bind to gateways, carry TLS or TCP
// routes, or delegate again (Istio supports one level of delegation).

import { array, object, report, string, type Context, type Schema } from '../schema.ts';
import { hostsOverlap, hostSubsetOf } from '../hosts.ts';
import { ipOrCidrProblem, isIP, isIstioDnsLabel, isJwtClaimHeader, wildcardHostProblem } from '../names.ts';
import { exportTo, hostProblem, labels, portNumber } from './common.ts';
import { checkWeights, gatewayNameProblem, routeDestination, type RouteDestination } from './destination.ts';
import { httpRoute, type HTTPRoute } from './http-route.ts';

export interface L4MatchAttributes {
  destinationSubnets?: string[];
  port?: number;
  sourceSubnet?: string;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
}

export interface TLSMatchAttributes {
  sniHosts: string[];
  destinationSubnets?: string[];
  port?: number;
  sourceLabels?: Record<string, string>;
  gateways?: string[];
  sourceNamespace?: string;
}

export interface TCPRoute {
  match?: L4MatchAttributes[];
  route?: RouteDestination[];
}

export interface TLSRoute {
  match: TLSMatchAttributes[];
  route?: RouteDestination[];
}

export interface VirtualServiceSpec {
  /** Absent or empty: a delegate VirtualService. */
  hosts?: string[];
  gateways?: string[];
  http?: HTTPRoute[];
  tls?: TLSRoute[];
  tcp?: TCPRoute[];
  exportTo?: string[];
}

const subnet = () => string({ check: ipOrCidrProblem });
const gatewayNames = () => array(string({ check: gatewayNameProblem }));
const namespaceName = () => string({ check: (ns) => (isIstioDnsLabel(ns) ? undefined : `"${ns}" is not a valid namespace name`) });

export const l4MatchAttributes: Schema<L4MatchAttributes> = object<L4MatchAttributes>({
  destinationSubnets: array(subnet()),
  port: portNumber(),
  sourceSubnet: subnet(),
  sourceLabels: labels(),
  gateways: gatewayNames(),
  sourceNamespace: namespaceName(),
});

export const tlsMatchAttributes: Schema<TLSMatchAttributes> = object<TLSMatchAttributes>({
  sniHosts: array(string({ check: (h) => (isIP(h) ? undefined : wildcardHostProblem(h)) }), { minItems: 1 }),
  destinationSubnets: array(subnet()),
  port: portNumber(),
  sourceLabels: labels(),
  gateways: gatewayNames(),
  sourceNamespace: namespaceName(),
}, { required: ['sniHosts'] });

const l4Routes = () => array(routeDestination, { minItems: 1 });

export const tcpRoute: Schema<TCPRoute> = object<TCPRoute>({
  match: array(l4MatchAttributes),
  route: l4Routes(),
}, {
  required: ['route'],
  check: (r, path, ctx) => checkWeights(r.route, `${path}.route`, ctx),
});

export const tlsRoute: Schema<TLSRoute> = object<TLSRoute>({
  match: array(tlsMatchAttributes, { minItems: 1 }),
  route: l4Routes(),
}, {
  required: ['match', 'route'],
  check: (r, path, ctx) => checkWeights(r.route, `${path}.route`, ctx),
});

export { hostSubsetOf } from '../hosts.ts';

/** Bound to the mesh (sidecars): no gateways, or `mesh` among them. */
export function boundToMesh(vs: Pick<VirtualServiceSpec, 'gateways'>): boolean {
  return vs.gateways === undefined || vs.gateways.length === 0 || vs.gateways.includes('mesh');
}

function checkHosts(hosts: readonly string[], mesh: boolean, path: string, ctx: Context): void {
  hosts.forEach((h, i) => {
    if (h === '*' && mesh) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.hosts[${i}]`, 'the wildcard host "*" is only allowed for virtual services bound to gateways (not to the mesh)');
    }
    const j = hosts.findIndex((other, k) => k < i && hostsOverlap(other, h));
    if (j >= 0) {
      report(ctx, 'WEFT_E_DUPLICATE', `${path}.hosts[${i}]`,
        hosts[j] === h ? `duplicate host "${h}"` : `host "${h}" overlaps host "${hosts[j]}" (hosts[${j}]); list each name once`);
    }
  });
}

function checkDelegate(vs: VirtualServiceSpec, path: string, ctx: Context): void {
  const why = 'a VirtualService without hosts is a delegate';
  if (vs.gateways?.length) report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.gateways`, `${why}: it takes the gateways of the VirtualService that delegates to it and cannot set its own`);
  if (vs.tls?.length) report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.tls`, `${why}: it can only hold http routes`);
  if (vs.tcp?.length) report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.tcp`, `${why}: it can only hold http routes`);
  vs.http?.forEach((r, i) => {
    if (r.delegate !== undefined) report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.http[${i}].delegate`, `${why} and cannot delegate again (one level of delegation only)`);
  });
}

/** Istio routes on JWT claims (`@request.auth.claims.x` headers) only at gateways, where the token is validated. */
function checkJwtClaimMatches(vs: VirtualServiceSpec, path: string, ctx: Context): void {
  vs.http?.forEach((r, i) => r.match?.forEach((m, j) => {
    for (const field of ['headers', 'withoutHeaders'] as const) {
      for (const name of Object.keys(m[field] ?? {})) {
        if (!isJwtClaimHeader(name)) continue;
        report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.http[${i}].match[${j}].${field}[${JSON.stringify(name)}]`,
          'JWT claim based routing is only supported for virtual services bound to gateways (not to the mesh)');
      }
    }
  }));
}

function checkSpec(vs: VirtualServiceSpec, path: string, ctx: Context): void {
  const hosts = vs.hosts ?? [];
  const mesh = boundToMesh(vs);
  if (hosts.length === 0) checkDelegate(vs, path, ctx);
  checkHosts(hosts, mesh, path, ctx);
  if (mesh) checkJwtClaimMatches(vs, path, ctx);
  if (!vs.http?.length && !vs.tls?.length && !vs.tcp?.length) {
    report(ctx, 'WEFT_E_MISSING_FIELD', path, 'at least one of http, tls or tcp routes is required');
  }
  if (hosts.length === 0) return;
  vs.tls?.forEach((route, r) => route.match.forEach((m, j) => m.sniHosts.forEach((sni, k) => {
    if (!isIP(sni) && !hosts.some((h) => hostSubsetOf(sni, h))) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.tls[${r}].match[${j}].sniHosts[${k}]`,
        `SNI host "${sni}" is not one of the virtual service's hosts (${hosts.join(', ')})`);
    }
  })));
}

export const virtualServiceSpec: Schema<VirtualServiceSpec> = object<VirtualServiceSpec>({
  hosts: array(string({ check: hostProblem })),
  gateways: gatewayNames(),
  http: array(httpRoute),
  tls: array(tlsRoute),
  tcp: array(tcpRoute),
  exportTo: exportTo(),
}, {
  check: (vs, path, ctx) => checkSpec(vs, path, ctx),
});
