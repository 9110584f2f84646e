// envoy.filters.http.cors, configured as Envoy v3 and Istio configure it: an empty
// envoy.extensions.filters.http.cors.v3.Cors in http_filters (before the router), and an
// envoy.extensions.filters.http.cors.v3.CorsPolicy in the typed_per_filter_config of a route, virtual
// host or route configuration, under the filter's name (the most specific one applies).
//
// CorsPolicy supported: allow_origin_string_match (StringMatcher: exact, prefix, suffix, contains,
// safe_regex, ignore_case), allow_methods, allow_headers, expose_headers, max_age, allow_credentials,
// allow_private_network_access, forward_not_matching_preflights, and filter_enabled / shadow_enabled
// when they are a fixed 0% or 100% (there is no runtime: a runtime_key or any other percentage is
// rejected, naming the field). Header values are checked here, so writing them cannot fail later.
import { TypeUrl } from '../../../../xds/type-urls.ts';
import {
  FieldPath, boolWrapper, checkFields, integer, optionalMessage, repeated, string, type Message,
} from '../../../upstream/envoy-config.ts';
import { compileStringMatcher } from '../../routing/string-matcher.ts';
import type { HttpFilter } from '../filter.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';
import { CorsFilter } from './filter.ts';
import { CorsPolicy } from './policy.ts';

export const corsPolicyTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

const corsFields = new Set(['@type', 'type_url']);
const policyFields = new Set([
  '@type', 'type_url', 'allow_origin_string_match', 'allow_methods', 'allow_headers', 'expose_headers', 'max_age',
  'allow_credentials', 'filter_enabled', 'shadow_enabled', 'allow_private_network_access', 'forward_not_matching_preflights',
]);
const runtimePercentFields = new Set(['default_value', 'runtime_key']);
const fractionalPercentFields = new Set(['numerator', 'denominator']);
const denominators: Record<string, number> = { HUNDRED: 100, TEN_THOUSAND: 10_000, MILLION: 1_000_000 };

/** What node:http refuses in a header value (it would throw when the response is written). */
const invalidHeaderValue = /[^\t\x20-\x7e\x80-\xff]/;

function headerValueField(at: FieldPath, value: unknown): string {
  const s = string(at, value) ?? '';
  if (invalidHeaderValue.test(s)) at.reject('is not a valid header value');
  return s;
}

/**
 * config.core.v3.RuntimeFractionalPercent → whether the filter is on. Only fixed percentages of 0 or
 * 100 can be honoured without a runtime; `absent` is the value when the field is not set.
 */
function onOrOff(at: FieldPath, value: unknown, absent: boolean): boolean {
  const p = optionalMessage(at, value);
  if (p === undefined) return absent;
  checkFields(at, p, runtimePercentFields);
  const key = string(at.field('runtime_key'), p.runtime_key);
  if (key !== undefined && key !== '') at.field('runtime_key').reject('is not supported (there is no runtime)');
  const dp = at.field('default_value');
  const d = optionalMessage(dp, p.default_value);
  if (d === undefined) throw dp.error('is required');
  checkFields(dp, d, fractionalPercentFields);
  const numerator = integer(dp.field('numerator'), d.numerator) ?? 0;
  const name = (d.denominator ?? 'HUNDRED') as unknown;
  const denominator = typeof name === 'number' ? [100, 10_000, 1_000_000][name] : denominators[String(name)];
  if (denominator === undefined) dp.field('denominator').reject(`${String(name)} is not one of HUNDRED, TEN_THOUSAND, MILLION`);
  if (numerator < 0) dp.field('numerator').reject('must not be negative');
  if (numerator === 0) return false;
  if (numerator >= denominator) return true;
  return dp.reject(`${numerator}/${denominator} is not supported (only 0% or 100%)`);
}

/**
 * A CorsPolicy (a typed_per_filter_config entry). `inherited`, when given, is the enclosing level's
 * compiled policy: fields unset here are taken from it, as Envoy resolves them.
 */
export function compileCorsPolicy(config: Message, at: FieldPath, inherited?: object): CorsPolicy {
  checkFields(at, config, policyFields);
  const op = at.field('allow_origin_string_match');
  const origins = repeated(op, config.allow_origin_string_match).map((m, i) => compileStringMatcher(op.item(i), m));
  return new CorsPolicy({
    origins,
    allowMethods: headerValueField(at.field('allow_methods'), config.allow_methods),
    allowHeaders: headerValueField(at.field('allow_headers'), config.allow_headers),
    exposeHeaders: headerValueField(at.field('expose_headers'), config.expose_headers),
    maxAge: headerValueField(at.field('max_age'), config.max_age),
    allowCredentials: boolWrapper(at.field('allow_credentials'), config.allow_credentials) ?? null,
    allowPrivateNetworkAccess: boolWrapper(at.field('allow_private_network_access'), config.allow_private_network_access) ?? null,
    forwardNotMatchingPreflights: boolWrapper(at.field('forward_not_matching_preflights'), config.forward_not_matching_preflights) ?? null,
    enabled: onOrOff(at.field('filter_enabled'), config.filter_enabled, true),
    shadowEnabled: onOrOff(at.field('shadow_enabled'), config.shadow_enabled, false),
  }, inherited instanceof CorsPolicy ? inherited : null);
}

/** The Cors message of http_filters: it has no fields. */
export function compileCorsConfig(config: Message, at: FieldPath, name: string): (context: HttpFilterContext) => HttpFilter {
  checkFields(at, config, corsFields);
  return (context) => new CorsFilter(name, context.stats.corsStats());
}

function rejectPolicyAsFilter(_config: Message, at: FieldPath): never {
  return at.reject(`${corsPolicyTypeUrl} is a per-route config (typed_per_filter_config); http_filters takes ${TypeUrl.Cors}`);
}

export function register(): void {
  registerHttpFilter(TypeUrl.Cors, compileCorsConfig);
  registerHttpFilter(corsPolicyTypeUrl, rejectPolicyAsFilter, compileCorsPolicy);
}
