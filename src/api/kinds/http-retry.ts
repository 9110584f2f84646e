// HTTPRetry: the retry policy of an HTTP route in a VirtualService.
//
// retryOn is a comma-separated list of Envoy retry policies (x-envoy-retry-on and
// x-envoy-retry-grpc-on) and HTTP status codes; Istio accepts a number only when it is a status
// code Go's net/http knows (http.StatusText is not empty), so `503` is fine and `599` is not.

import { boolean, duration, integer, INT32_MAX, object, report, string, type Schema } from '../schema.ts';

const RETRY_ON = new Set([
  '5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream',
  'retriable-status-codes', 'retriable-headers', 'envoy-ratelimited', 'http3-post-connect-failure',
  'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable',
]);

// The status codes with a reason phrase in Go's net/http (IANA's registry, less 306 and 419-420).
const KNOWN_STATUS = new Set([
  100, 101, 102, 103,
  200, 201, 202, 203, 204, 205, 206, 207, 208, 226,
  300, 301, 302, 303, 304, 305, 307, 308,
  400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418,
  421, 422, 423, 424, 425, 426, 428, 429, 431, 451,
  500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
]);

function retryOnProblem(s: string): string | undefined {
  const bad = s.split(',').find((p) => !RETRY_ON.has(p) && !(/^\d+$/.test(p) && KNOWN_STATUS.has(Number(p))));
  if (bad === undefined) return undefined;
  return bad === '' ? 'has an empty entry (a stray comma?)' : `"${bad}" is not a valid retryOn policy (an Envoy retry-on name such as 5xx, connect-failure or unavailable, or an HTTP status code)`;
}

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
  retryOn: string({ check: retryOnProblem }),
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
