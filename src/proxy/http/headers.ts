// Header handling between the HTTP/1.1 codec (node:http downstream, undici upstream) and the stream:
// request target parsing (origin-form and absolute-form), hop-by-hop stripping both ways, header
// names lower-cased as Envoy sends them. One pass over the raw headers, no header objects.

/** What the connection manager does with a request header. */
const Role = {
  Forward: 0, Drop: 1, Host: 2, Connection: 3, ContentLength: 4, TransferEncoding: 5, ForwardedProto: 6, RequestId: 7,
} as const;

const requestRoles = new Map<string, number>([
  ['host', Role.Host],
  ['connection', Role.Connection],
  ['keep-alive', Role.Drop],
  ['proxy-connection', Role.Drop],
  ['te', Role.Drop],
  ['trailer', Role.Drop],
  ['upgrade', Role.Drop],
  ['transfer-encoding', Role.TransferEncoding],
  // node:http answers `Expect: 100-continue` itself (as Envoy does by default), so it is not forwarded.
  ['expect', Role.Drop],
  ['content-length', Role.ContentLength],
  ['x-forwarded-proto', Role.ForwardedProto],
  ['x-request-id', Role.RequestId],
]);

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** The parts of a request the connection manager reads from the wire. */
export type ParsedRequest = {
  authority: string;
  path: string;
  /** Lower-cased names, hop-by-hop headers and host removed. */
  requestHeaders: string[];
  hasBody: boolean;
  hasForwardedProto: boolean;
  requestId: string | null;
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
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    const value = raw[i + 1];
    switch (requestRoles.get(name) ?? Role.Forward) {
      case Role.Forward: headers.push(name, value); break;
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
    }
  }
  out.authority = authority ?? host;
  out.requestHeaders = connection === null ? headers : dropConnectionTokens(headers, connection);
  out.hasBody = hasBody;
  out.hasForwardedProto = hasForwardedProto;
  out.requestId = requestId;
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
 * keeps every byte of a value as node:http will write it back.
 */
export function responseHeaders(raw: Buffer[]): string[] {
  const headers: string[] = [];
  let connection: string | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (hopByHop.has(name)) {
      if (name === 'connection') connection = raw[i + 1].toString('latin1');
      continue;
    }
    headers.push(name, raw[i + 1].toString('latin1'));
  }
  return connection === null ? headers : dropConnectionTokens(headers, connection);
}
