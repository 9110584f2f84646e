// What an access log reads of one finished exchange (an HTTP request or a tcp_proxy connection): the
// seam between the formatter, the filters and the CEL expressions on one side and the proxy's own
// objects on the other. Each value is read only when a format or filter asks for it; a value that does
// not apply (an HTTP header of a TCP connection, an upstream that was never reached) is null, which
// the formatter prints as '-'.

export interface LogRecord {
  /** Milliseconds since the epoch when the request (or connection) started. */
  readonly startTimeMs: number;
  /** The total duration in milliseconds, measured when the exchange was over. */
  readonly durationMs: number;
  /** A request header by lower-case name (':method', ':path', ':authority', ':scheme' included). */
  requestHeader(name: string): string | null;
  /** Every request header as [name, value, ...] (names in lower case); empty for TCP. */
  requestHeaderList(): readonly string[];
  responseHeader(name: string): string | null;
  responseHeaderList(): readonly string[];
  responseTrailer(name: string): string | null;
  /** The HTTP status sent downstream; 0 when none (and for TCP). */
  readonly responseCode: number;
  /** ResponseFlag bits (../response-flags.ts). */
  readonly responseFlags: number;
  responseCodeDetails(): string | null;
  connectionTerminationDetails(): string | null;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  upstreamHost(): string | null;
  upstreamCluster(): string | null;
  upstreamLocalAddress(): string | null;
  upstreamTransportFailureReason(): string | null;
  /** `address:port` of the downstream peer ('[v6]:port' for IPv6). */
  downstreamRemoteAddress(): string | null;
  downstreamLocalAddress(): string | null;
  /** The URI SAN of the downstream peer's verified certificate. */
  downstreamPeerUriSan(): string | null;
  /** Whether the downstream presented a certificate the proxy verified (CEL connection.mtls). */
  downstreamMtls(): boolean;
  requestedServerName(): string | null;
  routeName(): string | null;
  /** 'HTTP/1.1', 'HTTP/2'; null for TCP. */
  protocol(): string | null;
  upstreamProtocol(): string | null;
}

/** `address:port` as Envoy prints a socket address. */
export function socketAddressText(address: string | undefined, port: number | undefined): string | null {
  if (address === undefined || address === '') return null;
  return address.includes(':') ? `[${address}]:${port ?? 0}` : `${address}:${port ?? 0}`;
}

/**
 * The value of `name` (lower case) in a flat [name, value, ...] list, names compared without case, or
 * null; several values are joined with ','.
 */
export function headerIn(headers: readonly string[] | null, name: string): string | null {
  if (headers === null) return null;
  let found: string | null = null;
  for (let i = 0; i < headers.length; i += 2) {
    const h = headers[i];
    if (h.length !== name.length || (h !== name && h.toLowerCase() !== name)) continue;
    found = found === null ? headers[i + 1] : `${found},${headers[i + 1]}`;
  }
  return found;
}
