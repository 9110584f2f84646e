// The actions and policies of an HTTP route in a VirtualService: redirect, direct response,
// rewrite, retries, fault injection, CORS, header manipulation, mirroring.

import {
  array, boolean, duration, enumOf, integer, INT32_MAX, map, object, report, string, type Schema,
} from '../schema.ts';
import { headerOperationNameProblem } from '../names.ts';
import { percent, portNumber, type Percent } from './common.ts';
import { destination, type Destination } from './destination.ts';
import { regexString, stringMatch, type StringMatch } from './http-match.ts';

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
  return object<HeaderOperations>({
    set: map(string(), { key: name }),
    add: map(string(), { key: name }),
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
  oneOf: [['port', 'derivePort']],
  check(r, path, ctx) {
    const hasTarget = [r.uri, r.authority, r.port, r.derivePort, r.scheme, r.prefixRewrite].some((v) => v !== undefined && v !== '');
    if (!hasTarget) report(ctx, 'WEFT_E_MISSING_FIELD', path, 'a redirect must set uri, authority, scheme, port or derivePort');
  },
});

export interface HTTPBody {
  string?: string;
  /** Base64. */
  bytes?: string;
}

const MAX_BODY_BYTES = 1024 * 1024;

export const httpBody: Schema<HTTPBody> = object<HTTPBody>({
  string: string({ check: (s) => (s.length > MAX_BODY_BYTES ? 'must be at most 1MB' : undefined) }),
  bytes: string({
    check: (b) => (/^[A-Za-z0-9+/]*={0,2}$/.test(b) && b.length % 4 === 0 ? undefined : 'must be base64'),
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

export interface Delegate {
  name?: string;
  namespace?: string;
}

export const delegate: Schema<Delegate> = object<Delegate>({ name: string(), namespace: string() }, { required: ['name'] });

export interface RegexRewrite {
  match?: string;
  rewrite?: string;
}

export const regexRewrite: Schema<RegexRewrite> = object<RegexRewrite>({
  match: regexString(),
  rewrite: string(),
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

// Envoy's retry-on policies (x-envoy-retry-on and x-envoy-retry-grpc-on), as Istio accepts them.
const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

export interface HTTPRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
  retryRemoteLocalities?: boolean;
  retryIgnorePreviousHosts?: boolean;
  backoff?: string;
}

export const httpRetry: Schema<HTTPRetry> = object<HTTPRetry>({
  attempts: integer({ min: 0, max: INT32_MAX }),
  perTryTimeout: duration(),
  retryOn: string({
    check: (s) => {
      const bad = s.split(',').find((p) => !RETRY_ON.has(p) && !/^[1-5]\d\d$/.test(p));
      return bad === undefined ? undefined : `"${bad}" is not a valid retryOn policy`;
    },
  }),
  retryRemoteLocalities: boolean(),
  retryIgnorePreviousHosts: boolean(),
  backoff: duration(),
}, {
  check(r, path, ctx) {
    if ((r.attempts ?? 0) === 0 && (r.perTryTimeout !== undefined || r.retryOn !== undefined || r.retryRemoteLocalities !== undefined)) {
      report(ctx, 'WEFT_E_CONFLICTING_FIELDS', path, 'retry settings are given but attempts is 0 (retries disabled)');
    }
  },
});

export const UNMATCHED_PREFLIGHTS = ['UNSPECIFIED', 'FORWARD', 'IGNORE'] as const;
const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', '*']);

export interface CorsPolicy {
  /** Deprecated: use allowOrigins. */
  allowOrigin?: string[];
  allowOrigins?: StringMatch[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: string;
  allowCredentials?: boolean;
  unmatchedPreflights?: (typeof UNMATCHED_PREFLIGHTS)[number];
}

const corsHeaderName = () => string({ check: (h) => (h === '*' || /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/.test(h) ? undefined : `"${h}" is not a valid header name`) });

export const corsPolicy: Schema<CorsPolicy> = object<CorsPolicy>({
  allowOrigin: array(string()),
  allowOrigins: array(stringMatch),
  allowMethods: array(string({ check: (m) => (CORS_METHODS.has(m) ? undefined : `"${m}" is not a supported HTTP method`) })),
  allowHeaders: array(corsHeaderName()),
  exposeHeaders: array(corsHeaderName()),
  maxAge: duration(),
  allowCredentials: boolean(),
  unmatchedPreflights: enumOf(UNMATCHED_PREFLIGHTS),
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
  percentage: percent,
}, { required: ['destination'] });
