// envoy.filters.http.cors: Cross-Origin Resource Sharing on the routes whose typed_per_filter_config
// carries a CorsPolicy for this filter's name, with Envoy's semantics (cors_filter.cc):
// - a route without a policy, without a route action (redirect, direct response) or a request without
//   an Origin header is left untouched; origins are counted valid / invalid (stats.ts);
// - a preflight (OPTIONS with Origin and Access-Control-Request-Method) whose origin is allowed is
//   answered here with 200 and the access-control-allow-* headers, never forwarded; one whose origin is
//   not allowed is forwarded, or, with forward_not_matching_preflights false, answered here with 200
//   without access-control-allow-origin (so the browser refuses it);
// - any other response (upstream or local reply) to a request with an allowed origin gets
//   access-control-allow-origin (the request's origin), -allow-credentials and -expose-headers;
// - in shadow mode (filter_enabled off, shadow_enabled on) origins are only counted.
//
// The filter object is shared by the requests of a connection manager and the stream has no slot for
// per-filter state, so encodeHeaders checks the origin again rather than remembering the decision;
// both reads allocate nothing for a request without Origin or a route without a policy.
import type { HttpStream } from '../../stream.ts';
import { FilterStatus, PassThroughFilter } from '../filter.ts';
import { firstHeader, setHeader } from '../../header-list.ts';
import { CorsPolicy } from './policy.ts';
import type { CorsFilterStats } from './stats.ts';

const emptyBody = Buffer.alloc(0);

export class CorsFilter extends PassThroughFilter {
  readonly stats: CorsFilterStats;

  /** `name` is the filter's name in http_filters: the key of its per-route config. */
  constructor(name: string, stats: CorsFilterStats) {
    super(name);
    this.stats = stats;
  }

  /** The route's policy, or null when the filter has nothing to do for this stream. */
  private policyOf(stream: HttpStream): CorsPolicy | null {
    const route = stream.route;
    if (route === null || route.action === null) return null;
    const perRoute = route.perFilterConfig;
    if (perRoute === null) return null;
    const policy = perRoute.get(this.name);
    return policy instanceof CorsPolicy && policy.active ? policy : null;
  }

  override decodeHeaders(stream: HttpStream): FilterStatus {
    const policy = this.policyOf(stream);
    if (policy === null) return FilterStatus.Continue;
    const headers = stream.requestHeaders;
    const origin = firstHeader(headers, 'origin');
    if (origin === '') return FilterStatus.Continue;
    const allowed = policy.isOriginAllowed(origin);
    if (allowed) this.stats.originValid++;
    else this.stats.originInvalid++;
    if (!policy.enabled || stream.method !== 'OPTIONS') return FilterStatus.Continue;
    const requestMethod = firstHeader(headers, 'access-control-request-method');
    if (requestMethod === '') return FilterStatus.Continue;
    if (!allowed && policy.forwardNotMatchingPreflights) return FilterStatus.Continue;
    this.answerPreflight(stream, policy, allowed ? origin : null, requestMethod);
    return FilterStatus.StopIteration;
  }

  override encodeHeaders(stream: HttpStream): FilterStatus {
    const policy = this.policyOf(stream);
    if (policy === null || !policy.enabled) return FilterStatus.Continue;
    const origin = firstHeader(stream.requestHeaders, 'origin');
    if (origin === '' || !policy.isOriginAllowed(origin)) return FilterStatus.Continue;
    const headers = stream.responseHeaders!;
    setHeader(headers, 'access-control-allow-origin', origin);
    if (policy.allowCredentials) setHeader(headers, 'access-control-allow-credentials', 'true');
    if (policy.exposeHeaders !== '') setHeader(headers, 'access-control-expose-headers', policy.exposeHeaders);
    return FilterStatus.Continue;
  }

  /** The local 200 to a preflight; `origin` null: not allowed (no access-control-allow-origin). */
  private answerPreflight(stream: HttpStream, policy: CorsPolicy, origin: string | null, requestMethod: string): void {
    if (stream.complete || stream.headersWritten) return;
    const request = stream.requestHeaders;
    const headers = ['content-length', '0'];
    if (origin !== null) headers.push('access-control-allow-origin', origin);
    if (policy.allowCredentials) headers.push('access-control-allow-credentials', 'true');
    const methods = policy.allowMethods;
    if (methods !== '') headers.push('access-control-allow-methods', methods === '*' ? requestMethod : methods);
    const allowHeaders = policy.allowHeaders;
    if (allowHeaders !== '') {
      headers.push('access-control-allow-headers', allowHeaders === '*' ? firstHeader(request, 'access-control-request-headers') : allowHeaders);
    }
    if (policy.maxAge !== '') headers.push('access-control-max-age', policy.maxAge);
    if (policy.allowPrivateNetworkAccess && firstHeader(request, 'access-control-request-private-network') === 'true') {
      headers.push('access-control-allow-private-network', 'true');
    }
    // A local reply as stream.sendLocalReply makes one (which takes no extra headers): encoded by the
    // filters before this one, then written with an empty body.
    stream.responseStatus = 200;
    stream.responseHeaders = headers;
    stream.localBody = emptyBody;
    stream.encodeHeaders();
  }
}
