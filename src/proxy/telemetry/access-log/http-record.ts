// An HTTP exchange as an access log reads it (record.ts), made when the connection manager says the
// exchange is over. Only the duration is taken then; every other value is read from the stream when a
// format or filter asks for it.
import type { HttpStream } from '../../http/stream.ts';
import { Protocol } from '../../http/stream.ts';
import { ResponseFlag } from '../response-flags.ts';
import { headerIn, socketAddressText, type LogRecord } from './record.ts';
import { localAddressOf } from './socket-address.ts';

/**
 * Envoy's %RESPONSE_CODE_DETAILS% for the reason the proxy knows of: the flag that ended the exchange,
 * else 'via_upstream' for a proxied response (the first matching flag wins, as the most specific).
 */
const detailsByFlag: [number, string][] = [
  [ResponseFlag.NoRouteFound, 'route_not_found'],
  [ResponseFlag.NoClusterFound, 'cluster_not_found'],
  [ResponseFlag.FaultInjected, 'fault_filter_abort'],
  [ResponseFlag.UnauthorizedExternalService, 'ext_authz_denied'],
  [ResponseFlag.UpstreamOverflow, 'upstream_reset_before_response_started{overflow}'],
  [ResponseFlag.NoHealthyUpstream, 'no_healthy_upstream'],
  [ResponseFlag.UpstreamRequestTimeout, 'response_timeout'],
  [ResponseFlag.UpstreamConnectionFailure, 'upstream_reset_before_response_started{connection_failure}'],
  [ResponseFlag.UpstreamConnectionTermination, 'upstream_reset_before_response_started{connection_termination}'],
  [ResponseFlag.UpstreamRemoteReset, 'upstream_reset_after_response_started{remote_reset}'],
  [ResponseFlag.DownstreamConnectionTermination, 'downstream_remote_disconnect'],
];

export class HttpLogRecord implements LogRecord {
  readonly stream: HttpStream;
  readonly startTimeMs: number;
  readonly durationMs: number;
  readonly responseCode: number;
  readonly responseFlags: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;

  constructor(stream: HttpStream, now: number) {
    this.stream = stream;
    this.startTimeMs = performance.timeOrigin + stream.startTime;
    this.durationMs = Math.max(0, Math.floor(now - stream.startTime));
    this.responseCode = stream.responseStatus;
    this.responseFlags = stream.responseFlags;
    this.bytesReceived = stream.requestBodyBytes;
    // A local reply's body is written with its headers, not counted by the router.
    const local = stream.localBody;
    this.bytesSent = stream.responseBodyBytes === 0 && local !== null && stream.headersWritten ? local.length : stream.responseBodyBytes;
  }

  requestHeader(name: string): string | null {
    const s = this.stream;
    switch (name) {
      case ':method': return s.method;
      case ':path': return s.path === '' ? null : s.path;
      case ':authority': case 'host': return s.authority === '' ? null : s.authority;
      case ':scheme': return (s.connection.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
      case 'x-request-id': return s.requestId ?? headerIn(s.requestHeaders, name);
      default: return headerIn(s.requestHeaders, name);
    }
  }

  requestHeaderList(): readonly string[] {
    return this.stream.requestHeaders;
  }

  responseHeader(name: string): string | null {
    if (name === ':status') return this.responseCode === 0 ? null : String(this.responseCode);
    return headerIn(this.stream.responseHeaders, name);
  }

  responseHeaderList(): readonly string[] {
    return this.stream.responseHeaders ?? [];
  }

  responseTrailer(name: string): string | null {
    const trailers = this.stream.trailers;
    if (trailers === null) return null;
    const value = trailers[name];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(',') : String(value);
  }

  responseCodeDetails(): string | null {
    const flags = this.responseFlags;
    for (const [bit, details] of detailsByFlag) if ((flags & bit) !== 0) return details;
    if (this.responseCode === 0) return null;
    return this.stream.localBody === null ? 'via_upstream' : 'direct_response';
  }

  connectionTerminationDetails(): string | null {
    return null;
  }

  upstreamHost(): string | null {
    return this.stream.upstreamHost;
  }

  upstreamCluster(): string | null {
    return this.stream.upstreamClusterName;
  }

  upstreamLocalAddress(): string | null {
    return null;
  }

  upstreamTransportFailureReason(): string | null {
    return null;
  }

  downstreamRemoteAddress(): string | null {
    const socket = this.stream.connection.socket;
    return socketAddressText(socket.remoteAddress, socket.remotePort);
  }

  downstreamLocalAddress(): string | null {
    return localAddressOf(this.stream.connection.socket);
  }

  downstreamPeerUriSan(): string | null {
    const identity = this.stream.connection.connectionFacts().peerIdentity();
    return identity === null || identity.uriSans.length === 0 ? null : identity.uriSans.join(',');
  }

  downstreamMtls(): boolean {
    return this.stream.connection.connectionFacts().peerIdentity() !== null;
  }

  requestedServerName(): string | null {
    const sni = this.stream.connection.connectionFacts().requestedServerName();
    return sni === '' ? null : sni;
  }

  routeName(): string | null {
    // The router sets routeName; a route chosen but never reached by the router still has its name.
    const name = this.stream.routeName !== '' ? this.stream.routeName : (this.stream.route?.name ?? '');
    return name === '' ? null : name;
  }

  protocol(): string | null {
    if (this.stream.protocol === Protocol.Http2) return 'HTTP/2';
    const version = (this.stream.req as { httpVersion?: string }).httpVersion;
    return `HTTP/${version ?? '1.1'}`;
  }

  upstreamProtocol(): string | null {
    return null;
  }
}
