// VirtualService http[].corsPolicy -> Envoy's CORS filter: an empty Cors in the HttpConnectionManager,
// and a CorsPolicy per route in typed_per_filter_config, as Istio emits them.
import type { CorsPolicy, StringMatch } from '../../api/index.ts';
import { parseDuration } from '../../api/hosts.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import type { EnvoyResource } from './envoy-types.ts';

export const corsFilterName = 'envoy.filters.http.cors';
export const corsFilter: EnvoyResource = { name: corsFilterName, typed_config: { '@type': TypeUrl.Cors } };

const corsPolicyType = 'type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy';

function originMatcher(m: StringMatch): EnvoyResource | undefined {
  if (m.exact !== undefined) return { exact: m.exact };
  if (m.prefix !== undefined) return { prefix: m.prefix };
  if (m.regex !== undefined) return { safe_regex: { regex: m.regex } };
  return undefined;
}

export function corsPerRouteConfig(cors: CorsPolicy | undefined): EnvoyResource | undefined {
  if (!cors) return undefined;
  const origins = [
    ...(cors.allowOrigins ?? []).map(originMatcher).filter((m): m is EnvoyResource => m !== undefined),
    // The deprecated allowOrigin list holds exact origins ("*" allows any).
    ...(cors.allowOrigin ?? []).map((o) => (o === '*' ? { prefix: '' } : { exact: o })),
  ];
  const policy: EnvoyResource = { '@type': corsPolicyType, allow_origin_string_match: origins };
  if (cors.allowMethods?.length) policy.allow_methods = cors.allowMethods.join(',');
  if (cors.allowHeaders?.length) policy.allow_headers = cors.allowHeaders.join(',');
  if (cors.exposeHeaders?.length) policy.expose_headers = cors.exposeHeaders.join(',');
  if (cors.maxAge !== undefined) policy.max_age = String(Math.floor((parseDuration(cors.maxAge) ?? 0) / 1000));
  if (cors.allowCredentials !== undefined) policy.allow_credentials = { value: cors.allowCredentials };
  if (cors.unmatchedPreflights === 'IGNORE') policy.forward_not_matching_preflights = { value: false };
  return { [corsFilterName]: policy };
}
