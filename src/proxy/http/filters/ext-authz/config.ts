// envoy.extensions.filters.http.ext_authz.v3.ExtAuthz with an HTTP authorization service (http_service),
// as Istio generates it for an AuthorizationPolicy with action CUSTOM and an envoyExtAuthzHttp extension
// provider, and ExtAuthzPerRoute in a route's typed_per_filter_config.
//
// Supported: http_service (server_uri.cluster and .timeout; .uri is required but, as in Envoy, not used
// to send the check), path_prefix, authorization_request.headers_to_add and allowed_headers (also the
// top-level allowed_headers / disallowed_headers), authorization_response.* (upstream, append, client,
// client on success, dynamic metadata), failure_mode_allow(_header_add), status_on_error, stat_prefix,
// filter_enabled (a fraction), filter_enabled_metadata, deny_at_disable, encode_raw_headers,
// enable_dynamic_metadata_ingestion, with_request_body (request-body.ts), and per route disabled and
// check_settings.disable_request_body_buffering / with_request_body. filter_enabled and
// deny_at_disable take their default_value: a runtime_key names a runtime override, and the proxy has
// no runtime, so the default is what Envoy would use too.
// Accepted with no effect on an HTTP service (Envoy documents them as gRPC-only or they describe the
// gRPC CheckRequest, which an HTTP service never receives): transport_api_version,
// metadata_context_namespaces, typed_metadata_context_namespaces, route_(typed_)metadata_context_namespaces,
// include_peer_certificate, include_tls_session, bootstrap_metadata_labels_key,
// with_request_body.pack_as_bytes, check_settings.context_extensions.
// Accepted: clear_route_cache (the route is chosen once, before the filters run, so there is no cached
// route to clear), validate_mutations (headers taken from the service's response were parsed from the
// wire, so they are valid header fields), charge_cluster_response_stats (no per-cluster ext_authz stats are kept).
// Rejected, naming the field: grpc_service, decoder_header_mutation_rules, and header values that
// cannot be sent.
import {
  FieldPath, bool, boolWrapper, checkFields, durationMs, integer, isPresent, optionalMessage, repeated, requiredString, string, type Message,
} from '../../../upstream/envoy-config.ts';
import { compileMetadataMatcher } from '../../metadata-matcher.ts';
import type { HttpFilter } from '../filter.ts';
import { compileFractionalPercent, type FractionalPercent } from '../fault/percentage.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';
import { ExtAuthzFilter } from './filter.ts';
import { compileListStringMatcher, namesOrAllExcept, namesOrNone, namesPlus } from './header-matchers.ts';
import { statusCode } from './http-status.ts';
import { BodySettings } from './request-body.ts';
import { ExtAuthzPerRoute, ExtAuthzSettings } from './settings.ts';
import { extAuthzStats } from './stats.ts';

export const extAuthzTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
export const extAuthzPerRouteTypeUrl = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute';

const extAuthzFields = new Set([
  '@type', 'type_url', 'http_service', 'grpc_service', 'transport_api_version', 'failure_mode_allow', 'failure_mode_allow_header_add',
  'with_request_body', 'clear_route_cache', 'status_on_error', 'validate_mutations', 'metadata_context_namespaces',
  'typed_metadata_context_namespaces', 'route_metadata_context_namespaces', 'route_typed_metadata_context_namespaces', 'filter_enabled',
  'filter_enabled_metadata', 'deny_at_disable', 'include_peer_certificate', 'stat_prefix', 'bootstrap_metadata_labels_key',
  'allowed_headers', 'disallowed_headers', 'include_tls_session', 'charge_cluster_response_stats', 'encode_raw_headers',
  'enable_dynamic_metadata_ingestion',
]);
const httpServiceFields = new Set(['server_uri', 'path_prefix', 'authorization_request', 'authorization_response']);
const httpUriFields = new Set(['uri', 'cluster', 'timeout']);
const authorizationRequestFields = new Set(['allowed_headers', 'headers_to_add']);
const authorizationResponseFields = new Set([
  'allowed_upstream_headers', 'allowed_upstream_headers_to_append', 'allowed_client_headers', 'allowed_client_headers_on_success',
  'dynamic_metadata_from_headers',
]);
const headerValueFields = new Set(['key', 'value', 'raw_value']);
const httpStatusFields = new Set(['code']);
const runtimePercentFields = new Set(['default_value', 'runtime_key']);
const featureFlagFields = new Set(['default_value', 'runtime_key']);
const perRouteFields = new Set(['@type', 'type_url', 'disabled', 'check_settings']);
const checkSettingsFields = new Set(['context_extensions', 'disable_request_body_buffering', 'with_request_body']);
const bufferSettingsFields = new Set(['max_request_bytes', 'allow_partial_message', 'pack_as_bytes']);

/** Envoy always sends these request headers to an HTTP service (Host, Method and Path are the check's own). */
const alwaysSentHeaders = ['authorization'];
/** Envoy adds these to a set allowed_client_headers list (its :status and :path have no counterpart here). */
const alwaysToClient = ['location', 'www-authenticate'];
/** With no allowed_client_headers, every service header but the authority goes to the client. */
const neverToClient = ['host'];

/** A header name or value node:http would refuse to write. */
const invalidHeaderName = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const invalidHeaderValue = /[^\t\x20-\x7e\x80-\xff]/;
const statusOnErrorDefault = 403;

export function compileExtAuthzSettings(config: Message, at: FieldPath): ExtAuthzSettings {
  if (isPresent(config.grpc_service)) at.field('grpc_service').reject('is not supported: only http_service is supported');
  if (isPresent(config.decoder_header_mutation_rules)) at.field('decoder_header_mutation_rules').reject('is not supported');
  checkFields(at, config, extAuthzFields);

  const sp = at.field('http_service');
  const service = optionalMessage(sp, config.http_service);
  if (service === undefined) throw sp.error('is required (only http_service is supported)');
  checkFields(sp, service, httpServiceFields);
  const up = sp.field('server_uri');
  const uri = optionalMessage(up, service.server_uri);
  if (uri === undefined) throw up.error('is required');
  checkFields(up, uri, httpUriFields);
  requiredString(up.field('uri'), uri.uri);
  const cluster = requiredString(up.field('cluster'), uri.cluster);
  if (!isPresent(uri.timeout)) up.field('timeout').reject('is required');
  const timeoutMs = durationMs(up.field('timeout'), uri.timeout)!;
  const pathPrefix = string(sp.field('path_prefix'), service.path_prefix) ?? '';
  if (pathPrefix !== '' && !pathPrefix.startsWith('/')) sp.field('path_prefix').reject(`${JSON.stringify(pathPrefix)} must start with "/"`);
  if (invalidHeaderValue.test(pathPrefix) || pathPrefix.includes(' ')) sp.field('path_prefix').reject('is not a valid path');

  const rp = sp.field('authorization_request');
  const request = optionalMessage(rp, service.authorization_request) ?? {};
  checkFields(rp, request, authorizationRequestFields);
  const legacyAllowed = compileListStringMatcher(rp.field('allowed_headers'), request.allowed_headers);
  const allowed = compileListStringMatcher(at.field('allowed_headers'), config.allowed_headers);
  if (allowed !== null && legacyAllowed !== null) {
    at.field('allowed_headers').reject('and http_service.authorization_request.allowed_headers must not both be set');
  }
  const disallowed = compileListStringMatcher(at.field('disallowed_headers'), config.disallowed_headers);

  const ap = sp.field('authorization_response');
  const response = optionalMessage(ap, service.authorization_response) ?? {};
  checkFields(ap, response, authorizationResponseFields);
  const list = (name: string) => compileListStringMatcher(ap.field(name), response[name]);

  const ingestMetadata = boolWrapper(at.field('enable_dynamic_metadata_ingestion'), config.enable_dynamic_metadata_ingestion) ?? true;
  const metadataHeaders = namesOrNone(list('dynamic_metadata_from_headers'));

  for (const name of ['transport_api_version', 'stat_prefix', 'bootstrap_metadata_labels_key']) string(at.field(name), config[name]);
  for (const name of ['metadata_context_namespaces', 'typed_metadata_context_namespaces', 'route_metadata_context_namespaces',
    'route_typed_metadata_context_namespaces']) {
    repeated(at.field(name), config[name]).forEach((v, i) => string(at.field(name).item(i), v));
  }
  for (const name of ['clear_route_cache', 'validate_mutations', 'include_peer_certificate', 'include_tls_session']) bool(at.field(name), config[name]);
  boolWrapper(at.field('charge_cluster_response_stats'), config.charge_cluster_response_stats);

  return new ExtAuthzSettings({
    cluster,
    pathPrefix,
    timeoutMs,
    requestHeaders: namesPlus(allowed ?? legacyAllowed, alwaysSentHeaders),
    disallowedHeaders: namesOrNone(disallowed),
    headersToAdd: compileHeadersToAdd(rp.field('headers_to_add'), request.headers_to_add),
    encodeRawHeaders: bool(at.field('encode_raw_headers'), config.encode_raw_headers) ?? false,
    upstreamHeaders: namesOrNone(list('allowed_upstream_headers')),
    upstreamHeadersToAppend: namesOrNone(list('allowed_upstream_headers_to_append')),
    clientHeaders: namesOrAllExcept(list('allowed_client_headers'), alwaysToClient, neverToClient),
    clientHeadersOnSuccess: namesOrNone(list('allowed_client_headers_on_success')),
    dynamicMetadataHeaders: ingestMetadata ? metadataHeaders : null,
    failureModeAllow: bool(at.field('failure_mode_allow'), config.failure_mode_allow) ?? false,
    failureModeAllowHeaderAdd: bool(at.field('failure_mode_allow_header_add'), config.failure_mode_allow_header_add) ?? false,
    statusOnError: compileStatusOnError(at.field('status_on_error'), config.status_on_error),
    enabled: compileFilterEnabled(at.field('filter_enabled'), config.filter_enabled),
    enabledMetadata: isPresent(config.filter_enabled_metadata)
      ? compileMetadataMatcher(at.field('filter_enabled_metadata'), config.filter_enabled_metadata) : null,
    denyAtDisable: compileFeatureFlag(at.field('deny_at_disable'), config.deny_at_disable),
    withBody: compileBufferSettings(at.field('with_request_body'), config.with_request_body),
    statPrefix: string(at.field('stat_prefix'), config.stat_prefix) ?? '',
  });
}

/** headers_to_add (config.core.v3.HeaderValue) → name, value pairs; a later entry for a name replaces an earlier one. */
function compileHeadersToAdd(at: FieldPath, value: unknown): string[] {
  const out: string[] = [];
  repeated(at, value).forEach((entry, i) => {
    const hp = at.item(i);
    const header = optionalMessage(hp, entry) ?? {};
    checkFields(hp, header, headerValueFields);
    if (isPresent(header.raw_value)) hp.field('raw_value').reject('is not supported (use value)');
    const key = requiredString(hp.field('key'), header.key).toLowerCase();
    if (invalidHeaderName.test(key)) hp.field('key').reject(`${JSON.stringify(key)} is not a valid header name`);
    const v = string(hp.field('value'), header.value) ?? '';
    if (invalidHeaderValue.test(v)) hp.field('value').reject('is not a valid header value');
    const existing = out.indexOf(key);
    if (existing !== -1 && existing % 2 === 0) out[existing + 1] = v;
    else out.push(key, v);
  });
  return out;
}

function compileStatusOnError(at: FieldPath, value: unknown): number {
  const status = optionalMessage(at, value);
  if (status === undefined) return statusOnErrorDefault;
  checkFields(at, status, httpStatusFields);
  if (!isPresent(status.code)) return at.field('code').reject('is required');
  const code = statusCode(at.field('code'), status.code);
  if (code < 200) at.field('code').reject(`${code} cannot be a final response`);
  return code;
}

/** BufferSettings; null when unset. pack_as_bytes only shapes a gRPC CheckRequest. */
function compileBufferSettings(at: FieldPath, value: unknown): BodySettings | null {
  const b = optionalMessage(at, value);
  if (b === undefined) return null;
  checkFields(at, b, bufferSettingsFields);
  const max = integer(at.field('max_request_bytes'), b.max_request_bytes) ?? 0;
  if (max <= 0 || max > 0xffffffff) at.field('max_request_bytes').reject(`${max} must be greater than 0 (a uint32)`);
  bool(at.field('pack_as_bytes'), b.pack_as_bytes);
  return new BodySettings(max, bool(at.field('allow_partial_message'), b.allow_partial_message) ?? false);
}

/** config.core.v3.RuntimeFractionalPercent; null when every request is checked. */
function compileFilterEnabled(at: FieldPath, value: unknown): FractionalPercent | null {
  const p = optionalMessage(at, value);
  if (p === undefined) return null;
  checkFields(at, p, runtimePercentFields);
  string(at.field('runtime_key'), p.runtime_key);
  if (!isPresent(p.default_value)) at.field('default_value').reject('is required');
  const percent = compileFractionalPercent(at.field('default_value'), p.default_value);
  return percent.numerator >= percent.denominator ? null : percent;
}

/** config.core.v3.RuntimeFeatureFlag → its default_value. */
function compileFeatureFlag(at: FieldPath, value: unknown): boolean {
  const flag = optionalMessage(at, value);
  if (flag === undefined) return false;
  checkFields(at, flag, featureFlagFields);
  string(at.field('runtime_key'), flag.runtime_key);
  const enabled = boolWrapper(at.field('default_value'), flag.default_value);
  if (enabled === undefined) throw at.field('default_value').error('is required');
  return enabled;
}

export function compileExtAuthzPerRoute(config: Message, at: FieldPath): ExtAuthzPerRoute {
  checkFields(at, config, perRouteFields);
  const disabled = bool(at.field('disabled'), config.disabled);
  const settings = optionalMessage(at.field('check_settings'), config.check_settings);
  if ((disabled !== undefined) === (settings !== undefined)) at.reject('must set exactly one of disabled, check_settings');
  if (disabled === false) at.field('disabled').reject('must be true when set');
  if (settings === undefined) return new ExtAuthzPerRoute(true, false, null);
  const cp = at.field('check_settings');
  checkFields(cp, settings, checkSettingsFields);
  optionalMessage(cp.field('context_extensions'), settings.context_extensions);
  const noBody = bool(cp.field('disable_request_body_buffering'), settings.disable_request_body_buffering) ?? false;
  const body = compileBufferSettings(cp.field('with_request_body'), settings.with_request_body);
  if (noBody && body !== null) cp.reject('must not set both disable_request_body_buffering and with_request_body');
  return new ExtAuthzPerRoute(false, noBody || body !== null, body);
}

export function compileExtAuthzConfig(config: Message, at: FieldPath, name: string): (context: HttpFilterContext) => HttpFilter {
  const settings = compileExtAuthzSettings(config, at);
  return (context) => new ExtAuthzFilter(name, settings, extAuthzStats(context.stats, settings.statPrefix));
}

function rejectPerRouteAsFilter(_config: Message, at: FieldPath): never {
  return at.reject(`${extAuthzPerRouteTypeUrl} is a per-route config (typed_per_filter_config); http_filters takes ${extAuthzTypeUrl}`);
}

export function register(): void {
  // Routes carry an ExtAuthzPerRoute under the filter's name; http_filters carries the ExtAuthz.
  registerHttpFilter(extAuthzTypeUrl, compileExtAuthzConfig);
  registerHttpFilter(extAuthzPerRouteTypeUrl, rejectPerRouteAsFilter, compileExtAuthzPerRoute);
}
