// One envoy.extensions.filters.http.cors.v3.CorsPolicy as the CORS filter reads it per request
// (config.ts compiles it). Every header value the filter writes is a string computed here, so a request
// costs a header lookup and the origin match, nothing else.
//
// Envoy resolves each field from the most specific policy that sets it (route, then virtual host, then
// route configuration); filter_enabled / shadow_enabled come from the most specific policy only. The
// constructor takes the enclosing level's policy for that fallback (`inherited`); a field left unset
// here is taken from it.
import type { StringMatcher } from '../../routing/string-matcher.ts';

export class CorsPolicy {
  /** allow_origin_string_match; empty: no origin is allowed. */
  readonly origins: readonly StringMatcher[];
  /** A matcher matches the literal "*" (Envoy: then every origin is allowed). */
  readonly allowAnyOrigin: boolean;
  /** '' when unset (the header is not sent). */
  readonly allowMethods: string;
  readonly allowHeaders: string;
  readonly exposeHeaders: string;
  readonly maxAge: string;
  /** BoolValue fields: null when unset here and in the inherited policy. */
  readonly allowCredentialsValue: boolean | null;
  readonly allowPrivateNetworkAccessValue: boolean | null;
  readonly forwardNotMatchingPreflightsValue: boolean | null;
  /** Resolved: unset is false, false, true (Envoy's defaults). */
  readonly allowCredentials: boolean;
  readonly allowPrivateNetworkAccess: boolean;
  readonly forwardNotMatchingPreflights: boolean;
  /** filter_enabled (unset: enabled). */
  readonly enabled: boolean;
  /** shadow_enabled (unset: off): origins are checked and counted, nothing is enforced. */
  readonly shadowEnabled: boolean;
  /** Whether the filter looks at requests of this route at all. */
  readonly active: boolean;

  constructor(fields: {
    origins: readonly StringMatcher[]; allowMethods: string; allowHeaders: string; exposeHeaders: string; maxAge: string;
    allowCredentials: boolean | null; allowPrivateNetworkAccess: boolean | null; forwardNotMatchingPreflights: boolean | null;
    enabled: boolean; shadowEnabled: boolean;
  }, inherited: CorsPolicy | null) {
    this.origins = fields.origins.length > 0 || inherited === null ? fields.origins : inherited.origins;
    this.allowAnyOrigin = this.origins.some((m) => m.match('*'));
    this.allowMethods = fields.allowMethods || (inherited?.allowMethods ?? '');
    this.allowHeaders = fields.allowHeaders || (inherited?.allowHeaders ?? '');
    this.exposeHeaders = fields.exposeHeaders || (inherited?.exposeHeaders ?? '');
    this.maxAge = fields.maxAge || (inherited?.maxAge ?? '');
    this.allowCredentialsValue = fields.allowCredentials ?? inherited?.allowCredentialsValue ?? null;
    this.allowPrivateNetworkAccessValue = fields.allowPrivateNetworkAccess ?? inherited?.allowPrivateNetworkAccessValue ?? null;
    this.forwardNotMatchingPreflightsValue = fields.forwardNotMatchingPreflights ?? inherited?.forwardNotMatchingPreflightsValue ?? null;
    this.allowCredentials = this.allowCredentialsValue === true;
    this.allowPrivateNetworkAccess = this.allowPrivateNetworkAccessValue === true;
    this.forwardNotMatchingPreflights = this.forwardNotMatchingPreflightsValue !== false;
    this.enabled = fields.enabled;
    this.shadowEnabled = fields.shadowEnabled;
    this.active = fields.enabled || fields.shadowEnabled;
  }

  /** Envoy's isOriginAllowed: any matcher matching "*" or the origin. */
  isOriginAllowed(origin: string): boolean {
    if (this.allowAnyOrigin) return true;
    const origins = this.origins;
    for (let i = 0; i < origins.length; i++) if (origins[i].match(origin)) return true;
    return false;
  }
}
