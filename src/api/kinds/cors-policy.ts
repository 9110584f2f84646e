// CorsPolicy of an HTTP route in a VirtualService. Istio's rules: every allowOrigins entry names a
// non-empty exact, prefix or regex; methods are the ones Go's net/http knows, or `*`; header names
// are tokens or `*`; maxAge is a duration in whole seconds (Access-Control-Max-Age counts seconds).

import { array, boolean, duration, enumOf, object, report, string, type Schema } from '../schema.ts';
import { parseDuration } from '../duration.ts';
import { stringMatch, type StringMatch } from './http-match.ts';

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

const corsHeaderName = () => string({
  check: (h) => (h === '*' || /^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$/.test(h) ? undefined : `"${h}" is not a valid header name`),
});

export const corsPolicy: Schema<CorsPolicy> = object<CorsPolicy>({
  allowOrigin: array(string()),
  allowOrigins: array(stringMatch),
  allowMethods: array(string({ check: (m) => (CORS_METHODS.has(m) ? undefined : `"${m}" is not a supported HTTP method`) })),
  allowHeaders: array(corsHeaderName()),
  exposeHeaders: array(corsHeaderName()),
  maxAge: duration(),
  allowCredentials: boolean(),
  unmatchedPreflights: enumOf(UNMATCHED_PREFLIGHTS),
}, {
  check(c, path, ctx) {
    c.allowOrigins?.forEach((o, i) => {
      if (o.exact === '' || (o.exact === undefined && o.prefix === undefined && o.regex === undefined)) {
        report(ctx, 'WEFT_E_INVALID_VALUE', `${path}.allowOrigins[${i}]`, 'must set a non-empty exact, prefix or regex');
      }
    });
    const ms = c.maxAge === undefined ? undefined : parseDuration(c.maxAge);
    if (ms !== undefined && ms >= 1 && ms % 1000 !== 0) {
      report(ctx, 'WEFT_E_INVALID_DURATION', `${path}.maxAge`, `must be a whole number of seconds (got "${c.maxAge}"; Access-Control-Max-Age has seconds precision)`);
    }
  },
});
