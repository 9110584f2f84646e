// A route's redirect (envoy.config.route.v3.RedirectAction), and the Location Envoy puts on a redirect
// or on a direct_response whose status is 201 or 3xx (Envoy's Http::Utility::newUri):
//   scheme: scheme_redirect, else https when https_redirect, else the request's scheme;
//   port:   `:<port_redirect>` when set, else none (the request's port stays in its host);
//   host:   host_redirect when set, else the request's host, whose port is dropped when port_redirect
//           is set, or when the scheme changes and the port was the default of the request's
//           x-forwarded-proto (:80 for http, :443 for https);
//   path:   path_redirect (keeping the request's query unless path_redirect has its own, which then
//           wins and is never stripped), else the request's path after prefix_rewrite / regex_rewrite;
//           strip_query drops the request's query.
// The request's scheme is its x-forwarded-proto when that is http or https, else http (a plaintext
// HTTP/1.1 listener; the connection manager always sets x-forwarded-proto before routing).
import { FieldPath, bool, checkFields, integer, optionalMessage, string, type Message } from '../../upstream/envoy-config.ts';
import { compileRegexRewrite, type RegexRewrite } from './regex-rewrite.ts';

const redirectFields = new Set([
  'https_redirect', 'scheme_redirect', 'host_redirect', 'port_redirect', 'path_redirect', 'prefix_rewrite', 'regex_rewrite',
  'response_code', 'strip_query',
]);

const responseCodes: Record<string, number> = {
  MOVED_PERMANENTLY: 301, FOUND: 302, SEE_OTHER: 303, TEMPORARY_REDIRECT: 307, PERMANENT_REDIRECT: 308,
};
const responseCodeByNumber = [301, 302, 303, 307, 308];

/** What building a Location reads from the request. */
export type RedirectRequest = { readonly authority: string; readonly path: string; readonly requestHeaders: readonly string[] };

export class Redirect {
  /** null: the request's scheme. */
  readonly scheme: string | null;
  readonly host: string | null;
  /** `:<port>` or ''. */
  readonly port: string;
  readonly pathRedirect: string | null;
  readonly pathRedirectHasQuery: boolean;
  readonly prefixRewrite: string | null;
  readonly regexRewrite: RegexRewrite | null;
  readonly stripQuery: boolean;
  readonly status: number;

  constructor(scheme: string | null, host: string | null, port: string, pathRedirect: string | null, prefixRewrite: string | null,
    regexRewrite: RegexRewrite | null, stripQuery: boolean, status: number) {
    this.scheme = scheme;
    this.host = host;
    this.port = port;
    this.pathRedirect = pathRedirect;
    this.pathRedirectHasQuery = pathRedirect !== null && pathRedirect.includes('?');
    this.prefixRewrite = prefixRewrite;
    this.regexRewrite = regexRewrite;
    this.stripQuery = stripQuery;
    this.status = status;
  }

  /** `matchedLength`: the length of the route's matched prefix or path (for prefix_rewrite). */
  location(request: RedirectRequest, matchedLength: number): string {
    const forwardedProto = forwardedProtoOf(request.requestHeaders);
    const scheme = this.scheme ?? requestScheme(forwardedProto);
    const host = this.host ?? requestHost(request.authority, forwardedProto, scheme, this.port);
    let path: string;
    const original = request.path;
    if (this.pathRedirect !== null) {
      if (this.pathRedirectHasQuery) return `${scheme}://${host}${this.port}${withSlash(this.pathRedirect)}`;
      const q = original.indexOf('?');
      path = q === -1 ? this.pathRedirect : this.pathRedirect + original.slice(q);
    } else if (this.prefixRewrite !== null) {
      path = this.prefixRewrite + original.slice(matchedLength);
    } else if (this.regexRewrite !== null) {
      path = this.regexRewrite.rewrite(original);
    } else {
      path = original;
    }
    path = withSlash(path);
    if (this.stripQuery) {
      const q = path.indexOf('?');
      if (q !== -1) path = path.slice(0, q);
    }
    return `${scheme}://${host}${this.port}${path}`;
  }
}

/** The Location of a direct_response with status 201 or 3xx: the request's own URL. */
export function requestUrl(request: RedirectRequest): string {
  const forwardedProto = forwardedProtoOf(request.requestHeaders);
  const scheme = requestScheme(forwardedProto);
  return `${scheme}://${requestHost(request.authority, forwardedProto, scheme, '')}${withSlash(request.path)}`;
}

export function compileRedirect(at: FieldPath, r: Message): Redirect {
  checkFields(at, r, redirectFields);
  const https = bool(at.field('https_redirect'), r.https_redirect) ?? false;
  const schemeRedirect = string(at.field('scheme_redirect'), r.scheme_redirect) || null;
  if (https && schemeRedirect !== null) at.reject('must set at most one of https_redirect, scheme_redirect');
  if (schemeRedirect !== null && !/^[a-zA-Z][a-zA-Z0-9+.-]*$/.test(schemeRedirect)) at.field('scheme_redirect').reject('is not a valid scheme');
  const host = string(at.field('host_redirect'), r.host_redirect) || null;
  if (host !== null && !/^[\x21-\x7e]+$/.test(host)) at.field('host_redirect').reject('is not a valid host');
  const portNumber = integer(at.field('port_redirect'), r.port_redirect) ?? 0;
  if (portNumber < 0 || portNumber > 65535) at.field('port_redirect').reject('must be a port (0 to 65535)');
  const pathRedirect = string(at.field('path_redirect'), r.path_redirect) || null;
  const prefixRewrite = string(at.field('prefix_rewrite'), r.prefix_rewrite) || null;
  const regexMessage = optionalMessage(at.field('regex_rewrite'), r.regex_rewrite);
  const pathKinds = [pathRedirect !== null, prefixRewrite !== null, regexMessage !== undefined].filter(Boolean).length;
  if (pathKinds > 1) at.reject('must set at most one of path_redirect, prefix_rewrite, regex_rewrite');
  for (const [field, value] of [['path_redirect', pathRedirect], ['prefix_rewrite', prefixRewrite]] as const) {
    if (value !== null && !/^[\x21-\x7e]*$/.test(value)) at.field(field).reject('contains characters not allowed in a path');
  }
  const regexRewrite = regexMessage === undefined ? null : compileRegexRewrite(at.field('regex_rewrite'), regexMessage);
  const stripQuery = bool(at.field('strip_query'), r.strip_query) ?? false;
  const rawCode = r.response_code ?? 'MOVED_PERMANENTLY';
  const status = typeof rawCode === 'number' ? responseCodeByNumber[rawCode] : responseCodes[String(rawCode)];
  if (status === undefined) at.field('response_code').reject(`${String(rawCode)} is not a known redirect response code`);
  return new Redirect(https ? 'https' : schemeRedirect, host, portNumber === 0 ? '' : `:${portNumber}`, pathRedirect, prefixRewrite,
    regexRewrite, stripQuery, status);
}

function forwardedProtoOf(headers: readonly string[]): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'x-forwarded-proto') return headers[i + 1];
  return '';
}

function requestScheme(forwardedProto: string): string {
  const lower = forwardedProto.toLowerCase();
  return lower === 'http' || lower === 'https' ? forwardedProto : 'http';
}

/** Envoy's processRequestHost: the request's host, its port dropped as the file comment says. */
function requestHost(authority: string, forwardedProto: string, scheme: string, newPort: string): string {
  if (authority === '') return authority;
  let end: number;
  if (authority.charCodeAt(0) === 91 /* [ */) {
    end = authority.lastIndexOf(']:');
    if (end !== -1) end += 1;
  } else {
    end = authority.lastIndexOf(':');
  }
  if (end === -1) return authority;
  const port = authority.slice(end);
  let removePort = newPort !== '';
  if (scheme !== forwardedProto) {
    removePort ||= (forwardedProto === 'https' && port === ':443') || (forwardedProto === 'http' && port === ':80');
  }
  return removePort ? authority.slice(0, end) : authority;
}

function withSlash(path: string): string {
  return path.charCodeAt(0) === 47 /* / */ ? path : `/${path}`;
}
