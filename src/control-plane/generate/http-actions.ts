// VirtualService header operations, redirects and rewrites -> Envoy route fields, as Istio maps them:
//   headers.*.set -> *_headers_to_add with OVERWRITE_IF_EXISTS_OR_ADD, add -> APPEND_IF_EXISTS_OR_ADD,
//   remove -> *_headers_to_remove; per-destination headers go on the chosen weighted cluster.
//   redirect -> RedirectAction; rewrite.uri -> prefix_rewrite (regex_rewrite of the whole path when
//   the match is a regex); rewrite.authority -> host_rewrite_literal; uriRegexRewrite -> regex_rewrite.
import type { HeaderOperations, Headers, HTTPMatchRequest, HTTPRedirect, HTTPRewrite } from '../../api/index.ts';
import type { EnvoyResource } from './envoy-types.ts';

function headersToAdd(ops: HeaderOperations | undefined): EnvoyResource[] {
  const out: EnvoyResource[] = [];
  for (const [key, value] of Object.entries(ops?.set ?? {})) out.push({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  for (const [key, value] of Object.entries(ops?.add ?? {})) out.push({ header: { key, value }, append_action: 'APPEND_IF_EXISTS_OR_ADD' });
  return out;
}

/** The header fields for a route (or a weighted cluster); empty lists are left out. */
export function headerMutations(headers: Headers | undefined): EnvoyResource {
  const out: EnvoyResource = {};
  const reqAdd = headersToAdd(headers?.request);
  const resAdd = headersToAdd(headers?.response);
  if (reqAdd.length > 0) out.request_headers_to_add = reqAdd;
  if (headers?.request?.remove?.length) out.request_headers_to_remove = [...headers.request.remove];
  if (resAdd.length > 0) out.response_headers_to_add = resAdd;
  if (headers?.response?.remove?.length) out.response_headers_to_remove = [...headers.response.remove];
  return out;
}

/** Merges header fields of a lone destination into the route's, the destination's applied after. */
export function mergeHeaderMutations(a: EnvoyResource, b: EnvoyResource): EnvoyResource {
  const out: EnvoyResource = { ...a };
  for (const k of ['request_headers_to_add', 'request_headers_to_remove', 'response_headers_to_add', 'response_headers_to_remove']) {
    const list = [...((a[k] as unknown[] | undefined) ?? []), ...((b[k] as unknown[] | undefined) ?? [])];
    if (list.length > 0) out[k] = list;
  }
  return out;
}

const redirectCodes: Record<number, string> = {
  301: 'MOVED_PERMANENTLY', 302: 'FOUND', 303: 'SEE_OTHER', 307: 'TEMPORARY_REDIRECT', 308: 'PERMANENT_REDIRECT',
};

/** `routePort`: the port the routes are generated for (derivePort FROM_REQUEST_PORT redirects to it). */
export function redirectAction(r: HTTPRedirect, where: string, warnings: string[], routePort: number): EnvoyResource {
  const action: EnvoyResource = { response_code: redirectCodes[r.redirectCode ?? 301] ?? 'MOVED_PERMANENTLY' };
  if (r.redirectCode !== undefined && !redirectCodes[r.redirectCode]) {
    warnings.push(`${where}.redirect.redirectCode: ${r.redirectCode} is not a redirect code Envoy can send; 301 is used`);
  }
  if (r.uri !== undefined) action.path_redirect = r.uri;
  else if (r.prefixRewrite !== undefined) action.prefix_rewrite = r.prefixRewrite;
  if (r.authority !== undefined) action.host_redirect = r.authority;
  // Envoy cannot read the port from the request, but the routes are generated for one port, as in Istio.
  // FROM_PROTOCOL_DEFAULT is Envoy's default (no port).
  const port = r.port ?? (r.derivePort === 'FROM_REQUEST_PORT' ? routePort : undefined);
  // As Istio: no explicit :80 for http or :443 for https (the sidecar's listeners are plaintext).
  const scheme = r.scheme ?? 'http';
  if (port !== undefined && !(port === 80 && scheme === 'http') && !(port === 443 && scheme === 'https')) action.port_redirect = port;
  if (r.scheme !== undefined) action.scheme_redirect = r.scheme;
  return action;
}

/** Adds Istio's rewrite to a route action, for one match of the rule. */
export function applyRewrite(action: EnvoyResource, rewrite: HTTPRewrite | undefined, match: HTTPMatchRequest | undefined): EnvoyResource {
  if (!rewrite) return action;
  const out: EnvoyResource = { ...action };
  if (rewrite.uriRegexRewrite?.match !== undefined) {
    out.regex_rewrite = { pattern: { regex: rewrite.uriRegexRewrite.match }, substitution: rewrite.uriRegexRewrite.rewrite ?? '' };
  } else if (rewrite.uri !== undefined) {
    // Envoy allows prefix_rewrite only with prefix and path matches: a regex match rewrites the whole path.
    if (match?.uri?.regex !== undefined) out.regex_rewrite = { pattern: { regex: match.uri.regex }, substitution: rewrite.uri };
    else out.prefix_rewrite = rewrite.uri;
  }
  if (rewrite.authority !== undefined) out.host_rewrite_literal = rewrite.authority;
  return out;
}
