// Header handling between the codecs (node:http and node:http2 downstream, undici and node:http2
// upstream) and the stream: request target parsing (origin-form and absolute-form; HTTP/2
// pseudo-headers), hop-by-hop stripping both ways, header names lower-cased as Envoy sends them,
// `te: trailers` (noted, and sent on to HTTP/2 endpoints) and trailers. One pass over the raw headers,
// no header objects on the request path.
import type { OutgoingHttpHeaders } from 'node:http';
import { isGrpcContentType } from './grpc.ts';

/** What the connection manager does with a request header. */
const Role = {
  Forward: 0, Drop: 1, Host: 2, Connection: 3, ContentLength: 4, TransferEncoding: 5, ForwardedProto: 6, RequestId: 7,
  Te: 8, ContentType: 9, Cookie: 10,
} as const;

const requestRoles = new Map<string, number>([
  ['host', Role.Host],
  ['connection', Role.Connection],
  ['keep-alive', Role.Drop],
  ['proxy-connection', Role.Drop],
  ['te', Role.Te],
  ['trailer', Role.Drop],
  // An upgrade the connection manager does not take (h2c, as Envoy ignores it) goes on as a plain request.
  ['upgrade', Role.Drop],
  ['http2-settings', Role.Drop],
  ['transfer-encoding', Role.TransferEncoding],
  // node:http answers `Expect: 100-continue` itself (as Envoy does by default), so it is not forwarded.
  ['expect', Role.Drop],
  ['content-length', Role.ContentLength],
  ['x-forwarded-proto', Role.ForwardedProto],
  ['x-request-id', Role.RequestId],
  ['content-type', Role.ContentType],
  ['cookie', Role.Cookie],
]);

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
/** Header fields HTTP/2 forbids (RFC 9113 §8.2.2; node:http2 throws on them) besides te, and what must not be a trailer. */
export const connectionSpecific = new Set([...hopByHop, 'http2-settings', 'host']);

/** The parts of a request the connection manager reads from the wire. */
export type ParsedRequest = {
  authority: string;
  path: string;
  /** Lower-cased names, hop-by-hop headers and host removed. */
  requestHeaders: string[];
  hasBody: boolean;
  hasForwardedProto: boolean;
  requestId: string | null;
  /**
   * The request said `te: trailers`: an HTTP/1.1 response may carry trailers, and HTTP/2 endpoints get
   * `te: trailers` (TE is otherwise hop-by-hop and not in requestHeaders).
   */
  acceptsTrailers: boolean;
  /** content-type application/grpc[+…|;…]: local replies take gRPC's form. */
  grpc: boolean;
};

/**
 * Fills `out` from node:http's request line and raw headers. Absolute-form targets
 * (`GET http://reviews:9080/x`, an app using the sidecar as HTTP_PROXY) give the authority and path;
 * otherwise the Host header gives the authority.
 */
export function parseRequest(url: string, raw: string[], out: ParsedRequest): void {
  let authority: string | null = null;
  let path = url;
  if (url.charCodeAt(0) !== 47 /* / */ && url !== '*') {
    const scheme = url.indexOf('://');
    if (scheme !== -1) {
      const start = scheme + 3;
      let end = start;
      while (end < url.length) {
        const c = url.charCodeAt(end);
        if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) break;
        end++;
      }
      authority = url.slice(start, end);
      // userinfo is not part of the authority Envoy routes on.
      const at = authority.lastIndexOf('@');
      if (at !== -1) authority = authority.slice(at + 1);
      path = end === url.length ? '/' : url.charCodeAt(end) === 47 ? url.slice(end) : `/${url.slice(end)}`;
    }
  }
  out.path = path;

  const headers: string[] = [];
  let host = '';
  let connection: string | null = null;
  let hasBody = false;
  let hasForwardedProto = false;
  let requestId: string | null = null;
  let trailers = false;
  let grpc = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    switch (requestRoles.get(name) ?? Role.Forward) {
      case Role.Forward: case Role.Cookie: headers.push(name, value); break;
      case Role.Drop: break;
      case Role.Host: host = value; break;
      case Role.Connection: connection = connection === null ? value : `${connection},${value}`; break;
      case Role.TransferEncoding: hasBody = true; break;
      case Role.ContentLength:
        if (value !== '0') hasBody = true;
        headers.push(name, value);
        break;
      case Role.ForwardedProto: hasForwardedProto = true; headers.push(name, value); break;
      case Role.RequestId: requestId = value; headers.push(name, value); break;
      case Role.Te: if (hasToken(value, 'trailers')) trailers = true; break;
      case Role.ContentType: grpc = isGrpcContentType(value); headers.push(name, value); break;
    }
  }
  out.authority = authority ?? host;
  out.requestHeaders = connection === null ? headers : dropConnectionTokens(headers, connection);
  out.hasBody = hasBody;
  out.hasForwardedProto = hasForwardedProto;
  out.requestId = requestId;
  out.acceptsTrailers = trailers;
  out.grpc = grpc;
}

/**
 * Fills `out` from an HTTP/2 request's raw headers (node:http2's flat list; names arrive lower-cased,
 * and nghttp2 has already refused connection-specific fields). :authority (else host) and :path give
 * the authority and path; :method and :scheme are the stream's; split cookie fields are joined into
 * one (RFC 9113 §8.2.3) so that an HTTP/1.1 upstream gets a single Cookie header. `hasBody` is the
 * caller's (END_STREAM on the HEADERS frame).
 */
export function parseHttp2Request(raw: string[], out: ParsedRequest): void {
  const headers: string[] = [];
  let authority = '';
  let host = '';
  let path = '';
  let cookie: string | null = null;
  let hasForwardedProto = false;
  let requestId: string | null = null;
  let trailers = false;
  let grpc = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (name.charCodeAt(0) === 58 /* : */) {
      if (name === ':authority') authority = value;
      else if (name === ':path') path = value;
      continue;
    }
    switch (requestRoles.get(name) ?? Role.Forward) {
      case Role.Forward: case Role.ContentLength: headers.push(name, value); break;
      case Role.Host: host = value; break;
      case Role.Cookie: cookie = cookie === null ? value : `${cookie}; ${value}`; break;
      case Role.ForwardedProto: hasForwardedProto = true; headers.push(name, value); break;
      case Role.RequestId: requestId = value; headers.push(name, value); break;
      case Role.Te: if (hasToken(value, 'trailers')) trailers = true; break;
      case Role.ContentType: grpc = isGrpcContentType(value); headers.push(name, value); break;
      default: break;
    }
  }
  if (cookie !== null) headers.push('cookie', cookie);
  out.authority = authority === '' ? host : authority;
  out.path = path;
  out.requestHeaders = headers;
  out.hasForwardedProto = hasForwardedProto;
  out.requestId = requestId;
  out.acceptsTrailers = trailers;
  out.grpc = grpc;
}

/** Whether a comma-separated header value lists `token` (case-insensitive; parameters ignored). */
function hasToken(value: string, token: string): boolean {
  if (value === token) return true;
  for (const part of value.toLowerCase().split(',')) {
    const semi = part.indexOf(';');
    if ((semi === -1 ? part : part.slice(0, semi)).trim() === token) return true;
  }
  return false;
}

/** Removes the headers a Connection header names (RFC 9110 §7.6.1); rare beyond keep-alive/close, so it may allocate. */
function dropConnectionTokens(headers: string[], connection: string): string[] {
  if (connection.length <= 10) {
    const c = connection.toLowerCase();
    if (c === 'keep-alive' || c === 'close') return headers;
  }
  const tokens = new Set(connection.toLowerCase().split(',').map((t) => t.trim()).filter((t) => t !== '' && t !== 'close' && t !== 'keep-alive'));
  if (tokens.size === 0) return headers;
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) if (!tokens.has(headers[i])) kept.push(headers[i], headers[i + 1]);
  return kept;
}

/**
 * undici's raw response headers (Buffers, as received) → a flat [name, value, ...] list for
 * res.writeHead, names lower-cased, hop-by-hop headers and what Connection names removed. latin1
 * keeps every byte of a value as node:http will write it back. null for a response this proxy
 * cannot relay faithfully: a transfer-encoding other than `chunked` (`gzip, chunked`: the body
 * would go on still coded with nothing saying so), which Envoy answers with 502 too.
 */
export function responseHeaders(raw: Buffer[]): string[] | null {
  const headers: string[] = [];
  let connection: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (hopByHop.has(name)) {
      if (name === 'connection') connection = raw[i + 1].toString('latin1');
      else if (name === 'transfer-encoding' && raw[i + 1].toString('latin1').trim().toLowerCase() !== 'chunked') return null;
      continue;
    }
    headers.push(name, raw[i + 1].toString('latin1'));
  }
  return connection === null ? headers : dropConnectionTokens(headers, connection);
}

/**
 * Node's string raw headers (node:http's rawHeaders) → the same flat list as responseHeaders(). For
 * the rare paths that receive strings (a WebSocket upstream's non-101 answer).
 */
export function responseHeaderStrings(raw: string[]): string[] {
  const headers: string[] = [];
  let connection: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (hopByHop.has(name)) {
      if (name === 'connection') connection = raw[i + 1];
      continue;
    }
    headers.push(name, raw[i + 1]);
  }
  return connection === null ? headers : dropConnectionTokens(headers, connection);
}

/**
 * Trailers as an upstream delivered them (undici: raw Buffers; node:http2: strings) → a header object
 * for node's addTrailers / sendTrailers (repeated names as arrays), without pseudo-headers and fields
 * that cannot be trailers. null when none is left.
 */
export function trailerObject(raw: readonly (Buffer | string)[]): OutgoingHttpHeaders | null {
  let out: Record<string, string | string[]> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i];
    const name = (typeof n === 'string' ? n : n.toString('latin1')).toLowerCase();
    if (name.charCodeAt(0) === 58 /* : */ || connectionSpecific.has(name) || name === 'content-length') continue;
    const v = raw[i + 1];
    const value = typeof v === 'string' ? v : v.toString('latin1');
    out ??= {};
    const seen = out[name];
    if (seen === undefined) out[name] = value;
    else if (typeof seen === 'string') out[name] = [seen, value];
    else seen.push(value);
  }
  return out;
}
