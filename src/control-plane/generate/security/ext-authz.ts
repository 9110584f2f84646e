// A mesh extension provider (envoyExtAuthzHttp) → the config of Envoy's ext_authz HTTP filter, as
// Istio builds it. The filter calls the authorizer only for requests that a CUSTOM policy selected:
// the RBAC filter before it records the matching policy in dynamic metadata, and
// filter_enabled_metadata tests that record (see custom-action.ts).
import type { EnvoyExternalAuthorizationHttpProvider } from '../../../api/index.ts';
import { parseDuration } from '../../../api/hosts.ts';
import type { MeshSnapshot, Service } from '../../registry/model.ts';
import { outboundClusterName } from '../names.ts';
import { rbacHttpFilterName } from './envoy-shapes.ts';
import { statusCodeName } from './http-status.ts';
import { exact, prefix, suffix } from './string-matchers.ts';

export const extAuthzFilterName = 'envoy.filters.http.ext_authz';
export const extAuthzType = 'type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz';
/** Policy names of CUSTOM rules start with this, then `<provider>-`. */
export const extAuthzPolicyPrefix = 'istio-ext-authz';
/** The RBAC shadow stat prefix of CUSTOM rules; the matched policy lands in `<prefix>shadow_effective_policy_id`. */
export const extAuthzShadowStatPrefix = 'istio_ext_authz_';

const defaultTimeoutMs = 600_000;

/**
 * The registry service an extension provider names: `<namespace>/<host>`, a host as registered, or a
 * cluster-local short form (`name.namespace`, `name.namespace.svc`, or `name` when unambiguous).
 */
export function findProviderService(mesh: MeshSnapshot, service: string): Service | undefined {
  const slash = service.indexOf('/');
  const [namespace, host] = slash >= 0 ? [service.slice(0, slash), service.slice(slash + 1)] : [undefined, service];
  const candidates = mesh.services.filter((s) => namespace === undefined || s.namespace === namespace);
  const exactly = candidates.filter((s) => s.hostname === host);
  if (exactly.length > 0) return exactly.length === 1 ? exactly[0] : undefined;
  const local = `.svc.${mesh.config.domainSuffix}`;
  const short = candidates.filter((s) => {
    if (!s.hostname.endsWith(local)) return false;
    const base = s.hostname.slice(0, -local.length); // name.namespace
    return host === base || host === `${base}.svc` || host === base.split('.')[0];
  });
  return short.length === 1 ? short[0] : undefined;
}

function listMatcher(headers: string[] | undefined): Record<string, unknown> | undefined {
  if (!headers?.length) return undefined;
  return {
    patterns: headers.map((h) => {
      if (h.startsWith('*')) return suffix(h.slice(1), true);
      if (h.endsWith('*')) return prefix(h.slice(0, -1), true);
      return exact(h, true);
    }),
  };
}

function durationOf(ms: number): { seconds: number; nanos?: number } {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  return nanos ? { seconds, nanos } : { seconds };
}

/** The ext_authz filter config for a provider, or the problems that make it unusable. */
export function extAuthzHttpConfig(
  mesh: MeshSnapshot, providerName: string, p: EnvoyExternalAuthorizationHttpProvider,
): Record<string, unknown> | { errors: string[] } {
  const errors: string[] = [];
  const service = findProviderService(mesh, p.service);
  if (!service) errors.push(`service "${p.service}" is not in the mesh registry`);
  if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) errors.push(`port must be in 1-65535, found ${p.port}`);
  const status = p.statusOnError === undefined ? undefined : statusCodeName(p.statusOnError);
  if (p.statusOnError !== undefined && status === undefined) errors.push(`statusOnError "${p.statusOnError}" is not an HTTP status Envoy knows`);
  const timeoutMs = p.timeout === undefined ? defaultTimeoutMs : parseDuration(p.timeout);
  if (timeoutMs === undefined) errors.push(`timeout "${p.timeout}" is not a duration`);
  if (p.pathPrefix !== undefined && p.pathPrefix !== '' && !p.pathPrefix.startsWith('/')) errors.push(`pathPrefix must begin with "/", found "${p.pathPrefix}"`);
  const wildcardFields = {
    includeRequestHeadersInCheck: p.includeRequestHeadersInCheck,
    headersToUpstreamOnAllow: p.headersToUpstreamOnAllow,
    headersToDownstreamOnDeny: p.headersToDownstreamOnDeny,
    headersToDownstreamOnAllow: p.headersToDownstreamOnAllow,
  };
  for (const [field, values] of Object.entries(wildcardFields)) {
    if (values?.includes('*')) errors.push(`${field}: a lone "*" is not supported, use a prefix or suffix match`);
  }
  if (errors.length > 0 || !service || timeoutMs === undefined) return { errors };

  const httpService: Record<string, unknown> = {
    // The uri is required by Envoy but unused: the cluster is what ext_authz calls.
    server_uri: { uri: `http://${service.hostname}`, cluster: outboundClusterName(p.port, '', service.hostname), timeout: durationOf(timeoutMs) },
  };
  if (p.pathPrefix) httpService.path_prefix = p.pathPrefix;
  const additional = Object.keys(p.includeAdditionalHeadersInCheck ?? {}).sort();
  if (additional.length > 0) {
    httpService.authorization_request = {
      headers_to_add: additional.map((key) => ({ key, value: p.includeAdditionalHeadersInCheck![key] })),
    };
  }
  if (p.headersToUpstreamOnAllow?.length || p.headersToDownstreamOnDeny?.length || p.headersToDownstreamOnAllow?.length) {
    const response: Record<string, unknown> = {};
    const upstream = listMatcher(p.headersToUpstreamOnAllow);
    const onDeny = listMatcher(p.headersToDownstreamOnDeny);
    const onAllow = listMatcher(p.headersToDownstreamOnAllow);
    if (upstream) response.allowed_upstream_headers = upstream;
    if (onDeny) response.allowed_client_headers = onDeny;
    if (onAllow) response.allowed_client_headers_on_success = onAllow;
    httpService.authorization_response = response;
  }

  const config: Record<string, unknown> = {
    '@type': extAuthzType,
    http_service: httpService,
    transport_api_version: 'V3',
    filter_enabled_metadata: {
      filter: rbacHttpFilterName,
      path: [{ key: `${extAuthzShadowStatPrefix}shadow_effective_policy_id` }],
      value: { string_match: { prefix: `${extAuthzPolicyPrefix}-${providerName}` } },
    },
  };
  if (p.failOpen) config.failure_mode_allow = true;
  if (status) config.status_on_error = { code: status };
  // The request headers sent to the authorizer (Envoy's top-level allowed_headers; the field of the
  // same name in authorization_request is deprecated).
  const allowed = listMatcher(p.includeRequestHeadersInCheck);
  if (allowed) config.allowed_headers = allowed;
  const body = p.includeRequestBodyInCheck;
  if (body) {
    const withBody: Record<string, unknown> = {};
    if (body.maxRequestBytes !== undefined) withBody.max_request_bytes = body.maxRequestBytes;
    if (body.allowPartialMessage) withBody.allow_partial_message = true;
    if (body.packAsBytes) withBody.pack_as_bytes = true;
    config.with_request_body = withBody;
  }
  return config;
}
