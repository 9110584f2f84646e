// HTTPRoute: one rule of a VirtualService's `http` list, and its weighted destinations.
//
// What a rule does (Istio's validateHTTPRouteConflict): it forwards (`route`), redirects
// (`redirect`), answers itself (`directResponse`) or hands its requests to a delegate VirtualService
// (`delegate`). A redirect excludes route, directResponse, rewrite and fault; a direct response
// excludes route, rewrite and fault. A rule with a delegate (a "root" rule) may not set route or
// redirect: the delegate's rules supply them, and inherit the root rule's other fields (rewrite,
// timeout, retries, fault, mirror, CORS, headers, directResponse) where they set none.

import { array, duration, integer, object, report, string, type Context, type Schema } from '../schema.ts';
import { mirrorPercent, type Percent } from './common.ts';
import { checkWeights, destination, weight, type Destination } from './destination.ts';
import { httpMatchRequest, type HTTPMatchRequest } from './http-match.ts';
import {
  corsPolicy, delegate, headers, httpDirectResponse, httpFaultInjection, httpMirrorPolicy, httpRedirect,
  httpRetry, httpRewrite, type CorsPolicy, type Delegate, type Headers, type HTTPDirectResponse,
  type HTTPFaultInjection, type HTTPMirrorPolicy, type HTTPRedirect, type HTTPRetry, type HTTPRewrite,
} from './http-policies.ts';

export interface HTTPRouteDestination {
  destination: Destination;
  /** 0..100; may be omitted when the route has a single destination. */
  weight?: number;
  headers?: Headers;
}

export const httpRouteDestination: Schema<HTTPRouteDestination> = object<HTTPRouteDestination>({
  destination,
  weight: weight(),
  headers,
}, { required: ['destination'] });

export interface HTTPRoute {
  name?: string;
  match?: HTTPMatchRequest[];
  route?: HTTPRouteDestination[];
  redirect?: HTTPRedirect;
  directResponse?: HTTPDirectResponse;
  delegate?: Delegate;
  rewrite?: HTTPRewrite;
  timeout?: string;
  retries?: HTTPRetry;
  fault?: HTTPFaultInjection;
  mirror?: Destination;
  mirrors?: HTTPMirrorPolicy[];
  /** Deprecated: use mirrorPercentage. */
  mirrorPercent?: number;
  mirrorPercentage?: Percent;
  corsPolicy?: CorsPolicy;
  headers?: Headers;
}

function checkActions(r: HTTPRoute, path: string, ctx: Context): void {
  const conflict = (message: string) => report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, message);
  const hasRoute = r.route !== undefined && r.route.length > 0;
  if (r.delegate !== undefined) {
    for (const other of ['route', 'redirect'] as const) {
      if (r[other] !== undefined) conflict(`delegate cannot be combined with ${other} (the delegate VirtualService's rules decide where requests go)`);
    }
    return;
  }
  const action = r.redirect !== undefined ? 'redirect' : r.directResponse !== undefined ? 'directResponse' : undefined;
  if (action === undefined) {
    if (!hasRoute) report(ctx, 'WEFT_E_MISSING_FIELD', path, 'one of route, redirect, directResponse or delegate is required');
    return;
  }
  for (const other of ['rewrite', 'fault'] as const) {
    if (r[other] !== undefined) conflict(`${action} cannot be combined with ${other}`);
  }
}

const isAuthority = (name: string) => name.toLowerCase() === ':authority' || name.toLowerCase() === 'host';

/** Istio's validateAuthorityRewrite: the authority may be rewritten in one place only. */
function checkAuthority(r: HTTPRoute, path: string, ctx: Context): void {
  const places: string[] = [];
  if (r.rewrite?.authority) places.push('rewrite.authority');
  for (const op of ['set', 'add'] as const) {
    for (const name of Object.keys(r.headers?.request?.[op] ?? {})) {
      if (isAuthority(name)) places.push(`headers.request.${op}[${JSON.stringify(name)}]`);
    }
  }
  if (places.length > 1) {
    report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, `the authority is set more than once (${places.join(' and ')}); set it in one place`);
  }
}

/** Istio's validateHTTPRedirect: prefixRewrite replaces a matched prefix, so every uri match must be a prefix. */
function checkPrefixRewrite(r: HTTPRoute, path: string, ctx: Context): void {
  if (!r.redirect?.prefixRewrite) return;
  const j = (r.match ?? []).findIndex((m) => m.uri !== undefined && m.uri.prefix === undefined);
  if (j >= 0) {
    report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.redirect.prefixRewrite`,
      `needs every uri match of the rule to be a prefix match (match[${j}].uri is not)`);
  }
}

export const httpRoute: Schema<HTTPRoute> = object<HTTPRoute>({
  name: string(),
  match: array(httpMatchRequest),
  route: array(httpRouteDestination),
  redirect: httpRedirect,
  directResponse: httpDirectResponse,
  delegate,
  rewrite: httpRewrite,
  timeout: duration(),
  retries: httpRetry,
  fault: httpFaultInjection,
  mirror: destination,
  mirrors: array(httpMirrorPolicy),
  mirrorPercent: integer({ min: 0, max: 100 }),
  mirrorPercentage: mirrorPercent,
  corsPolicy,
  headers,
}, {
  oneOf: [['route', 'redirect', 'directResponse'], ['mirror', 'mirrors']],
  check(r, path, ctx) {
    checkActions(r, path, ctx);
    checkAuthority(r, path, ctx);
    checkPrefixRewrite(r, path, ctx);
    checkWeights(r.route, `${path}.route`, ctx);
  },
});
