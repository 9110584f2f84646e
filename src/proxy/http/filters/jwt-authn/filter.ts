// envoy.filters.http.jwt_authn: checks the JWTs of a request against the requirement of its route
// (a route's PerRouteConfig, else the first matching rule), as Envoy's jwt_authn Filter:
// - CORS preflights pass untouched with bypass_cors_preflight;
// - a request whose requirement is met goes on (after its verified tokens changed its headers and
//   left their payloads in dynamic metadata); one that fails is answered here: 401 with Envoy's
//   reason as the body ("Jwt is expired", "Jwt is missing", ...) — 403 when the token's audiences are
//   not allowed, as Envoy does — and `www-authenticate: Bearer realm="<scheme>://<authority><path>"`,
//   plus `, error="invalid_token"` unless the token was missing;
// - a PerRouteConfig naming a requirement that does not exist is answered with 403.
// Verification waits only to check signatures: a request without a token in the requirement's
// locations is decided at once, without jose. While a signature is checked the filter chain is
// paused (StopIteration) and resumed with stream.continueDecoding().
import type { HttpStream } from '../../stream.ts';
import { FilterStatus, PassThroughFilter } from '../filter.ts';
import type { JwtAuthnConfig } from './config.ts';
import { VerifyContext } from './context.ts';
import { JwtPerRoute } from './per-route.ts';
import { verifierFor } from './rules.ts';
import type { JwtAuthnStats } from './stats.ts';
import { JwtStatus } from './status.ts';
import type { Verifier } from './verifier.ts';

/** The namespace of the filter's dynamic metadata (RBAC's metadata matchers read the payload here). */
export const jwtAuthnMetadataNamespace = 'envoy.filters.http.jwt_authn';
/** Envoy's limit on the path in the realm. */
const maxRealmPathLength = 256;

function firstHeader(headers: readonly string[], name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return '';
}

function isCorsPreflight(stream: HttpStream): boolean {
  if (stream.method !== 'OPTIONS') return false;
  const headers = stream.requestHeaders;
  return firstHeader(headers, 'origin') !== '' && firstHeader(headers, 'access-control-request-method') !== '';
}

/** Envoy's buildOriginalUri: the scheme (x-forwarded-proto), the authority and the path (query included, capped). */
function realm(stream: HttpStream): string {
  const scheme = firstHeader(stream.requestHeaders, 'x-forwarded-proto') || 'http';
  const path = stream.path.length > maxRealmPathLength ? stream.path.slice(0, maxRealmPathLength) : stream.path;
  return `${scheme}://${stream.authority}${path}`;
}

export class JwtAuthnFilter extends PassThroughFilter {
  readonly config: JwtAuthnConfig;
  readonly stats: JwtAuthnStats;

  /** `name` is the filter's name in http_filters: the key of its per-route config. */
  constructor(name: string, config: JwtAuthnConfig, stats: JwtAuthnStats) {
    super(name);
    this.config = config;
    this.stats = stats;
  }

  override decodeHeaders(stream: HttpStream): FilterStatus {
    const config = this.config;
    if (config.bypassCorsPreflight && isCorsPreflight(stream)) {
      this.stats.corsPreflightBypassed++;
      this.stats.allowed++;
      return FilterStatus.Continue;
    }
    let verifier: Verifier | null;
    const perRoute = stream.route?.perFilterConfig?.get(this.name);
    if (perRoute instanceof JwtPerRoute) {
      if (perRoute.disabled) {
        verifier = null;
      } else {
        const named = config.requirementMap.get(perRoute.requirementName);
        if (named === undefined) {
          this.stats.denied++;
          const reason = `Wrong requirement_name is specified: ${perRoute.requirementName}`;
          stream.sendLocalReply(403, Buffer.from(`Failed JWT authentication: ${reason}`), 0);
          return FilterStatus.StopIteration;
        }
        verifier = named;
      }
    } else {
      verifier = verifierFor(config.rules, stream);
    }
    if (verifier === null) {
      this.stats.allowed++;
      return FilterStatus.Continue;
    }
    const ctx = new VerifyContext(stream);
    const result = verifier.verify(ctx);
    if (typeof result === 'string') return this.complete(ctx, result, false) ? FilterStatus.Continue : FilterStatus.StopIteration;
    result.then(
      (status) => this.complete(ctx, status, true),
      // A failure inside jose (not a bad signature, which is a status) must still answer the request.
      () => this.complete(ctx, JwtStatus.VerificationFail, true),
    );
    return FilterStatus.StopIteration;
  }

  /** Applies the outcome; returns whether the request goes on. `resume`: the chain was paused. */
  private complete(ctx: VerifyContext, status: JwtStatus, resume: boolean): boolean {
    const stream = ctx.stream;
    if (stream.complete || stream.headersWritten) return false;
    if (ctx.extracted !== null) {
      // Envoy writes the extracted data whatever the outcome; entries merge into the namespace.
      const metadata = stream.dynamicMetadata ??= {};
      const own = metadata[jwtAuthnMetadataNamespace] ??= {};
      Object.assign(own, ctx.extracted);
    }
    if (status !== JwtStatus.Ok) {
      this.stats.denied++;
      this.deny(stream, status);
      return false;
    }
    this.stats.allowed++;
    if (ctx.clearRouteCache) stream.route = stream.routeTable === null ? null : stream.routeTable.route(stream);
    if (resume) stream.continueDecoding();
    return true;
  }

  private deny(stream: HttpStream, status: JwtStatus): void {
    const code = status === JwtStatus.AudienceNotAllowed ? 403 : 401;
    if (this.config.stripFailureResponse) {
      stream.sendLocalReply(code, null, 0);
      return;
    }
    let challenge = `Bearer realm="${realm(stream)}"`;
    if (status !== JwtStatus.Missing) challenge += ', error="invalid_token"';
    const extra = ['www-authenticate', challenge];
    stream.localReplyHeaders = stream.localReplyHeaders === null ? extra : [...stream.localReplyHeaders, ...extra];
    stream.sendLocalReply(code, Buffer.from(status), 0);
  }
}
