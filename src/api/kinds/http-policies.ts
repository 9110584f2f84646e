// The actions and policies of an HTTP route in a VirtualService: redirect, direct response,
// delegate, rewrite, fault injection, header manipulation, mirroring. Retries are in
// http-retry.ts, CORS in cors-policy.ts.

import { array, duration, enumOf, integer, map, object, report, string, type Schema } from '../schema.ts';
import { headerValueProblem } from '../header-value.ts';
import { headerOperationNameProblem, isDns1123Label, objectNameProblem } from '../names.ts';
import { mirrorPercent, percent, portNumber, type Percent } from './common.ts';
import { destination, type Destination } from './destination.ts';
import { regexString } from './http-match.ts';

export { corsPolicy, UNMATCHED_PREFLIGHTS, type CorsPolicy } from './cors-policy.ts';
export { httpRetry, type HTTPRetry } from './http-retry.ts';

export interface HeaderOperations {
  set?: Record<string, string>;
  add?: Record<string, string>;
  remove?: string[];
}

export interface Headers {
  request?: HeaderOperations;
  response?: HeaderOperations;
}

function headerOperations(onRequest: boolean): Schema<HeaderOperations> {
  const name = (n: string) => headerOperationNameProblem(n, onRequest);
  const values = () => map(string({ check: headerValueProblem }), { key: name });
  return object<HeaderOperations>({
    set: values(),
    add: values(),
    remove: array(string({ check: (n) => headerOperationNameProblem(n, false) })),
  });
}

export const headers: Schema<Headers> = object<Headers>({
  request: headerOperations(true),
  response: headerOperations(false),
});

export const REDIRECT_PORT_SELECTIONS = ['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT'] as const;

export interface HTTPRedirect {
  uri?: string;
  authority?: string;
  port?: number;
  derivePort?: (typeof REDIRECT_PORT_SELECTIONS)[number];
  scheme?: string;
  redirectCode?: number;
  prefixRewrite?: string;
}

export const httpRedirect: Schema<HTTPRedirect> = object<HTTPRedirect>({
  uri: string(),
  authority: string(),
  port: portNumber(),
  derivePort: enumOf(REDIRECT_PORT_SELECTIONS),
  scheme: string({ check: (s) => (s === 'http' || s === 'https' ? undefined : 'must be "http" or "https"') }),
  redirectCode: integer({ min: 300, max: 399 }),
  prefixRewrite: string(),
}, {
  oneOf: [['uri', 'prefixRewrite'], ['port', 'derivePort']],
  check(r, path, ctx) {
    const hasTarget = [r.uri, r.authority, r.port, r.derivePort, r.scheme, r.prefixRewrite].some((v) => v !== undefined && v !== '');
    if (!hasTarget) report(ctx, 'WEFT_E_MISSING_FIELD', path, 'a redirect must set uri, prefixRewrite, authority, scheme, port or derivePort');
  },
});

export interface HTTPBody {
  string?: string;
  /** Base64. */
  bytes?: string;
}

/** Istio refuses direct response bodies over 1MB (they are sent to every proxy in its config). */
const MAX_BODY_BYTES = 1024 * 1024;
const TOO_BIG = 'must be at most 1MB (a direct response body is part of every proxy\'s configuration)';

function base64DecodedLength(b: string): number {
  const padding = b.endsWith('==') ? 2 : b.endsWith('=') ? 1 : 0;
  return (b.length / 4) * 3 - padding;
}

export const httpBody: Schema<HTTPBody> = object<HTTPBody>({
  string: string({ check: (s) => (new TextEncoder().encode(s).length > MAX_BODY_BYTES ? TOO_BIG : undefined) }),
  bytes: string({
    check: (b) => {
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b) || b.length % 4 !== 0) return 'must be base64';
      return base64DecodedLength(b) > MAX_BODY_BYTES ? TOO_BIG : undefined;
    },
  }),
}, { oneOf: [['string', 'bytes']] });

export interface HTTPDirectResponse {
  status: number;
  body?: HTTPBody;
}

export const httpDirectResponse: Schema<HTTPDirectResponse> = object<HTTPDirectResponse>({
  status: integer({ min: 200, max: 599 }),
  body: httpBody,
}, { required: ['status'] });

/** The VirtualService (one without hosts) whose HTTP routes replace this route; namespace defaults to the rule's own. */
export interface Delegate {
  name?: string;
  namespace?: string;
}

export const delegate: Schema<Delegate> = object<Delegate>({
  name: string({ check: objectNameProblem }),
  namespace: string({ check: (ns) => (isDns1123Label(ns) ? undefined : `"${ns}" is not a valid namespace name`) }),
}, { required: ['name'] });

export interface RegexRewrite {
  match?: string;
  rewrite?: string;
}

export const regexRewrite: Schema<RegexRewrite> = object<RegexRewrite>({
  match: regexString(),
  rewrite: string({ check: (s) => (s === '' ? 'must not be empty' : undefined) }),
}, { required: ['match', 'rewrite'] });

export interface HTTPRewrite {
  uri?: string;
  authority?: string;
  uriRegexRewrite?: RegexRewrite;
}

export const httpRewrite: Schema<HTTPRewrite> = object<HTTPRewrite>({
  uri: string(),
  authority: string(),
  uriRegexRewrite: regexRewrite,
}, {
  oneOf: [['uri', 'uriRegexRewrite']],
  check(r, path, ctx) {
    if (!r.uri && !r.uriRegexRewrite && !r.authority) {
      report(ctx, 'WEFT_E_MISSING_FIELD', path, 'a rewrite must set uri, uriRegexRewrite or authority');
    }
  },
});

// gRPC status names, in code order: a name's index is its code
// (https://github.com/grpc/grpc/blob/master/doc/statuscodes.md).
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
const GRPC_STATUS = new Set(GRPC_STATUS_NAMES);

export interface HTTPFaultInjectionDelay {
  /** Deprecated: use percentage. */
  percent?: number;
  fixedDelay?: string;
  exponentialDelay?: string;
  percentage?: Percent;
}

export interface HTTPFaultInjectionAbort {
  httpStatus?: number;
  grpcStatus?: string;
  http2Error?: string;
  percentage?: Percent;
}

export interface HTTPFaultInjection {
  delay?: HTTPFaultInjectionDelay;
  abort?: HTTPFaultInjectionAbort;
}

const notSupported = (field: string) => () => `${field} is not supported (Istio rejects it too)`;

// A delay without fixedDelay, or an abort without a status, is valid Istio: the webhook accepts it
// (an abort without a status with a warning) and Istio leaves that fault out of the proxy config.
export const httpFaultInjection: Schema<HTTPFaultInjection> = object<HTTPFaultInjection>({
  delay: object<HTTPFaultInjectionDelay>({
    percent: integer({ min: 0, max: 100 }),
    fixedDelay: duration(),
    exponentialDelay: string({ check: notSupported('exponentialDelay') }),
    percentage: percent,
  }, { oneOf: [['fixedDelay', 'exponentialDelay']] }),
  abort: object<HTTPFaultInjectionAbort>({
    httpStatus: integer({ min: 200, max: 599 }),
    grpcStatus: string({ check: (s) => (GRPC_STATUS.has(s) ? undefined : `"${s}" is not a gRPC status name (e.g. UNAVAILABLE, NOT_FOUND)`) }),
    http2Error: string({ check: notSupported('http2Error') }),
    percentage: percent,
  }, { oneOf: [['httpStatus', 'grpcStatus', 'http2Error']] }),
}, {
  check(f, path, ctx) {
    if (f.delay === undefined && f.abort === undefined) report(ctx, 'WEFT_E_MISSING_FIELD', path, 'fault injection must set delay, abort or both');
  },
});

export interface HTTPMirrorPolicy {
  destination: Destination;
  percentage?: Percent;
}

export const httpMirrorPolicy: Schema<HTTPMirrorPolicy> = object<HTTPMirrorPolicy>({
  destination,
  percentage: mirrorPercent,
}, { required: ['destination'] });
