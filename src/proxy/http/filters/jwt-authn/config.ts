// envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication → the JWT filter of a connection
// manager (Envoy's envoy.filters.http.jwt_authn), and PerRouteConfig as a route's per-filter config.
// Everything is compiled here, once: providers (JWKS parsed and keys imported), token locations,
// requirement trees, rule matches; a request only matches rules, reads headers and checks signatures.
//
// Supported: providers (issuer, audiences, subjects, require_expiration, max_lifetime, local_jwks from
// inline_string / inline_bytes / filename, forward, from_headers, from_params, from_cookies,
// forward_payload_header, pad_forward_payload_header, payload_in_metadata,
// normalize_payload_in_metadata, header_in_metadata, clock_skew_seconds, claim_to_headers,
// clear_route_cache, jwt_cache_config — accepted, every token is verified), rules (match: prefix, path,
// safe_regex, headers, query_parameters; requires or requirement_name), requirement_map,
// bypass_cors_preflight, strip_failure_response. Rejected, naming the field: remote_jwks (the control
// plane inlines JWKS as local_jwks), failed_status_in_metadata and filter_state_rules.
import {
  FieldPath, bool, checkFields, isPresent, message, repeated, type Message,
} from '../../../upstream/envoy-config.ts';
import type { HttpFilter } from '../filter.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';
import { JwtAuthnFilter } from './filter.ts';
import { compileJwtPerRoute, jwtPerRouteTypeUrl } from './per-route.ts';
import { compileProvider, type JwtProvider } from './provider.ts';
import { compileRule, type JwtRule } from './rules.ts';
import { jwtAuthnStatsOf } from './stats.ts';
import { ProviderSet, compileRequirement, type Verifier } from './verifier.ts';

export const jwtAuthnTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export { jwtPerRouteTypeUrl };

const configFields = new Set([
  '@type', 'type_url', 'providers', 'rules', 'bypass_cors_preflight', 'requirement_map', 'strip_failure_response',
]);

/** One JwtAuthentication, compiled. Immutable; shared by every request of its connection manager. */
export class JwtAuthnConfig {
  readonly providers: ProviderSet;
  readonly rules: readonly JwtRule[];
  readonly requirementMap: ReadonlyMap<string, Verifier>;
  readonly bypassCorsPreflight: boolean;
  readonly stripFailureResponse: boolean;

  constructor(providers: ProviderSet, rules: JwtRule[], requirementMap: Map<string, Verifier>, bypassCorsPreflight: boolean,
    stripFailureResponse: boolean) {
    this.providers = providers;
    this.rules = rules;
    this.requirementMap = requirementMap;
    this.bypassCorsPreflight = bypassCorsPreflight;
    this.stripFailureResponse = stripFailureResponse;
  }
}

/** A protobuf map<string, M> as protobufjs gives it: a plain object. */
function entries(at: FieldPath, value: unknown): [string, unknown][] {
  if (!isPresent(value)) return [];
  return Object.entries(message(at, value));
}

export function compileJwtAuthnConfig(config: Message, at: FieldPath): JwtAuthnConfig {
  if (isPresent(config.filter_state_rules)) at.field('filter_state_rules').reject('is not supported');
  checkFields(at, config, configFields);
  const pp = at.field('providers');
  const providers = new Map<string, JwtProvider>();
  for (const [name, value] of entries(pp, config.providers)) {
    const p = pp.field(name);
    providers.set(name, compileProvider(name, message(p, value), p));
  }
  const set = new ProviderSet(providers);
  const requirement = (rp: FieldPath, value: unknown): Verifier => compileRequirement(rp, value, set);
  const mp = at.field('requirement_map');
  const requirementMap = new Map<string, Verifier>();
  for (const [name, value] of entries(mp, config.requirement_map)) requirementMap.set(name, requirement(mp.field(name), value));
  const rp = at.field('rules');
  const rules = repeated(rp, config.rules).map((r, i) => compileRule(rp.item(i), r, requirement, requirementMap));
  return new JwtAuthnConfig(set, rules, requirementMap,
    bool(at.field('bypass_cors_preflight'), config.bypass_cors_preflight) ?? false,
    bool(at.field('strip_failure_response'), config.strip_failure_response) ?? false);
}

export function compileJwtAuthnFilter(config: Message, at: FieldPath, name: string): (context: HttpFilterContext) => HttpFilter {
  const compiled = compileJwtAuthnConfig(config, at);
  return (context) => {
    // Keys left out of a JWKS are not an error (Envoy skips them too) but tokens signed with them will fail.
    for (const p of compiled.providers.all) {
      if (p.jwks.skipped.length > 0) context.logger.warn('jwt_authn: JWKS keys left out', { filter: name, provider: p.name, keys: p.jwks.skipped });
    }
    return new JwtAuthnFilter(name, compiled, jwtAuthnStatsOf(context.stats));
  };
}

function rejectPerRouteAsFilter(_config: Message, at: FieldPath): never {
  return at.reject(`${jwtPerRouteTypeUrl} is a per-route config (typed_per_filter_config); http_filters takes ${jwtAuthnTypeUrl}`);
}

export function register(): void {
  registerHttpFilter(jwtAuthnTypeUrl, compileJwtAuthnFilter);
  registerHttpFilter(jwtPerRouteTypeUrl, rejectPerRouteAsFilter, compileJwtPerRoute);
}
