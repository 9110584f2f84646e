// One ExtAuthz (HTTP authorization service) as the filter reads it per request (config.ts compiles it).
// Immutable and shared by every request of the connection managers that run it.
import type { MetadataMatcher } from '../../metadata-matcher.ts';
import type { FractionalPercent } from '../fault/percentage.ts';
import type { HeaderNameMatcher } from './header-matchers.ts';
import type { BodySettings } from './request-body.ts';

export class ExtAuthzSettings {
  /** http_service.server_uri.cluster: where checks go. */
  readonly cluster: string;
  /** http_service.path_prefix: the check's path is this plus the request's path (with its query). */
  readonly pathPrefix: string;
  /** http_service.server_uri.timeout in ms; 0: none. */
  readonly timeoutMs: number;
  /** Request headers sent to the service (allowed_headers plus Authorization). */
  readonly requestHeaders: HeaderNameMatcher;
  /** disallowed_headers: never sent, even when allowed; null: none. */
  readonly disallowedHeaders: HeaderNameMatcher | null;
  /** authorization_request.headers_to_add as name, value pairs (names lower-cased); they replace request headers of the same name. */
  readonly headersToAdd: readonly string[];
  /** encode_raw_headers: repeated request headers are sent as they came, not joined with commas. */
  readonly encodeRawHeaders: boolean;
  /** On an allowed check: service headers that replace request headers; null: none. */
  readonly upstreamHeaders: HeaderNameMatcher | null;
  /** On an allowed check: service headers appended to request headers; null: none. */
  readonly upstreamHeadersToAppend: HeaderNameMatcher | null;
  /** On a denied check: service headers that go to the client with the denial. */
  readonly clientHeaders: HeaderNameMatcher;
  /** On an allowed check: service headers added to the response; null: none. */
  readonly clientHeadersOnSuccess: HeaderNameMatcher | null;
  /** Service headers put into the stream's dynamic metadata (envoy.filters.http.ext_authz); null: none. */
  readonly dynamicMetadataHeaders: HeaderNameMatcher | null;
  readonly failureModeAllow: boolean;
  /** With failureModeAllow: a failed check lets the request go on with x-envoy-auth-failure-mode-allowed: true. */
  readonly failureModeAllowHeaderAdd: boolean;
  /** The status of a failed check's local reply (and of deny_at_disable). */
  readonly statusOnError: number;
  /** filter_enabled: the share of requests checked; null: all. */
  readonly enabled: FractionalPercent | null;
  /** filter_enabled_metadata: only requests whose dynamic metadata matches are checked; null: all. */
  readonly enabledMetadata: MetadataMatcher | null;
  /** deny_at_disable: a request the filter is disabled for is answered statusOnError instead of let through. */
  readonly denyAtDisable: boolean;
  /** with_request_body: the start of the request body goes to the service; null: no body. */
  readonly withBody: BodySettings | null;
  readonly statPrefix: string;

  constructor(fields: {
    cluster: string; pathPrefix: string; timeoutMs: number; requestHeaders: HeaderNameMatcher; disallowedHeaders: HeaderNameMatcher | null;
    headersToAdd: string[]; encodeRawHeaders: boolean; upstreamHeaders: HeaderNameMatcher | null; upstreamHeadersToAppend: HeaderNameMatcher | null;
    clientHeaders: HeaderNameMatcher; clientHeadersOnSuccess: HeaderNameMatcher | null; dynamicMetadataHeaders: HeaderNameMatcher | null;
    failureModeAllow: boolean; failureModeAllowHeaderAdd: boolean; statusOnError: number; enabled: FractionalPercent | null;
    enabledMetadata: MetadataMatcher | null; denyAtDisable: boolean; withBody: BodySettings | null; statPrefix: string;
  }) {
    this.cluster = fields.cluster;
    this.pathPrefix = fields.pathPrefix;
    this.timeoutMs = fields.timeoutMs;
    this.requestHeaders = fields.requestHeaders;
    this.disallowedHeaders = fields.disallowedHeaders;
    this.headersToAdd = fields.headersToAdd;
    this.encodeRawHeaders = fields.encodeRawHeaders;
    this.upstreamHeaders = fields.upstreamHeaders;
    this.upstreamHeadersToAppend = fields.upstreamHeadersToAppend;
    this.clientHeaders = fields.clientHeaders;
    this.clientHeadersOnSuccess = fields.clientHeadersOnSuccess;
    this.dynamicMetadataHeaders = fields.dynamicMetadataHeaders;
    this.failureModeAllow = fields.failureModeAllow;
    this.failureModeAllowHeaderAdd = fields.failureModeAllowHeaderAdd;
    this.statusOnError = fields.statusOnError;
    this.enabled = fields.enabled;
    this.enabledMetadata = fields.enabledMetadata;
    this.denyAtDisable = fields.denyAtDisable;
    this.withBody = fields.withBody;
    this.statPrefix = fields.statPrefix;
  }
}

/**
 * A route's ExtAuthzPerRoute (typed_per_filter_config): `disabled` skips the check on that route;
 * check_settings may turn the request body off (disable_request_body_buffering) or set its own
 * with_request_body.
 */
export class ExtAuthzPerRoute {
  readonly disabled: boolean;
  /** The route decides about the request body (else the filter's with_request_body applies). */
  readonly overridesBody: boolean;
  /** With overridesBody: the route's body settings; null: no body. */
  readonly withBody: BodySettings | null;

  constructor(disabled: boolean, overridesBody: boolean, withBody: BodySettings | null) {
    this.disabled = disabled;
    this.overridesBody = overridesBody;
    this.withBody = withBody;
  }
}
