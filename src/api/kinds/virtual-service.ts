// VirtualService (networking.istio.io): routing rules for the hosts it names. HTTP routes are in
// http-route.ts; this file holds the spec, the TLS and TCP routes, and the checks across them.

import { array, object, report, string, type Context, type Schema } from '../schema.ts';
import { ipOrCidrProblem, isIP, isIstioDnsLabel, wildcardHostProblem } from '../names.ts';
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
  hosts: string[];
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

/** Istio's host.Name.SubsetOf: every name matched by `a` is matched by `b`. */
export function hostSubsetOf(a: string, b: string): boolean {
  if (a.startsWith('*')) return b.startsWith('*') && a.slice(1).endsWith(b.slice(1));
  if (b.startsWith('*')) return a.endsWith(b.slice(1));
  return a === b;
}

function checkSpec(vs: VirtualServiceSpec, path: string, ctx: Context): void {
  const boundToMesh = vs.gateways === undefined || vs.gateways.length === 0 || vs.gateways.includes('mesh');
  const seen = new Set<string>();
  vs.hosts.forEach((h, i) => {
    if (h === '*' && boundToMesh) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.hosts[${i}]`, 'the wildcard host "*" is only allowed for virtual services bound to gateways (not to the mesh)');
    }
    if (seen.has(h)) report(ctx, 'WEFT_E_DUPLICATE', `${path}.hosts[${i}]`, `duplicate host "${h}"`);
    seen.add(h);
  });
  if (!vs.http?.length && !vs.tls?.length && !vs.tcp?.length) {
    report(ctx, 'WEFT_E_MISSING_FIELD', path, 'at least one of http, tls or tcp routes is required');
  }
  vs.tls?.forEach((route, r) => route.match.forEach((m, j) => m.sniHosts.forEach((sni, k) => {
    if (!isIP(sni) && !vs.hosts.some((h) => hostSubsetOf(sni, h))) {
      report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.tls[${r}].match[${j}].sniHosts[${k}]`,
        `SNI host "${sni}" is not one of the virtual service's hosts (${vs.hosts.join(', ')})`);
    }
  })));
}

export const virtualServiceSpec: Schema<VirtualServiceSpec> = object<VirtualServiceSpec>({
  hosts: array(string({ check: hostProblem }), { minItems: 1 }),
  gateways: gatewayNames(),
  http: array(httpRoute),
  tls: array(tlsRoute),
  tcp: array(tcpRoute),
  exportTo: exportTo(),
}, {
  required: ['hosts'],
  check: (vs, path, ctx) => checkSpec(vs, path, ctx),
});
