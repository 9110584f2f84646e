// HTTPRoute: one rule of a VirtualService's `http` list, and its weighted destinations.

import { array, duration, integer, object, report, string, type Schema } from '../schema.ts';
import { percent, type Percent } from './common.ts';
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

const ACTIONS = ['route', 'redirect', 'directResponse', 'delegate'] as const;

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
  mirrorPercentage: percent,
  corsPolicy,
  headers,
}, {
  oneOf: [[...ACTIONS], ['mirror', 'mirrors']],
  check(r, path, ctx) {
    const hasAction = (r.route !== undefined && r.route.length > 0) || ACTIONS.slice(1).some((a) => r[a] !== undefined);
    if (!hasAction) report(ctx, 'WEFT_E_MISSING_FIELD', path, 'one of route, redirect, directResponse or delegate is required');
    for (const other of ['rewrite', 'fault'] as const) {
      if (r.redirect !== undefined && r[other] !== undefined) {
        report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, `redirect cannot be combined with ${other}`);
      }
    }
    checkWeights(r.route, `${path}.route`, ctx);
  },
});
