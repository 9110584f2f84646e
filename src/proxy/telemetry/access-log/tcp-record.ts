// A closed tcp_proxy connection as an access log reads it (record.ts): HTTP-only values are null
// ('-' in a log line, as Envoy prints them for a TCP connection).
import type { TcpSessionInfo } from '../../tcp/tcp-observers.ts';
import { ConnectionFacts } from '../../rbac/connection-facts.ts';
import { socketAddressText, type LogRecord } from './record.ts';
import { localAddressOf } from './socket-address.ts';

const noHeaders: readonly string[] = [];

export class TcpLogRecord implements LogRecord {
  readonly info: TcpSessionInfo;
  readonly startTimeMs: number;
  readonly durationMs: number;
  readonly responseCode = 0;
  readonly responseFlags: number;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  private facts: ConnectionFacts | null = null;

  constructor(info: TcpSessionInfo, nowMs: number) {
    this.info = info;
    this.startTimeMs = info.startTime;
    this.durationMs = Math.max(0, nowMs - info.startTime);
    this.responseFlags = info.responseFlags;
    this.bytesReceived = info.bytesReceived;
    this.bytesSent = info.bytesSent;
  }

  requestHeader(): string | null {
    return null;
  }

  requestHeaderList(): readonly string[] {
    return noHeaders;
  }

  responseHeader(): string | null {
    return null;
  }

  responseHeaderList(): readonly string[] {
    return noHeaders;
  }

  responseTrailer(): string | null {
    return null;
  }

  responseCodeDetails(): string | null {
    return null;
  }

  connectionTerminationDetails(): string | null {
    return null;
  }

  upstreamHost(): string | null {
    return this.info.upstreamHost;
  }

  upstreamCluster(): string | null {
    return this.info.clusterName === '' ? null : this.info.clusterName;
  }

  upstreamLocalAddress(): string | null {
    return null;
  }

  upstreamTransportFailureReason(): string | null {
    return null;
  }

  downstreamRemoteAddress(): string | null {
    const socket = this.info.downstream;
    return socketAddressText(socket.remoteAddress, socket.remotePort);
  }

  downstreamLocalAddress(): string | null {
    return localAddressOf(this.info.downstream);
  }

  downstreamPeerUriSan(): string | null {
    const identity = this.connectionFacts().peerIdentity();
    return identity === null || identity.uriSans.length === 0 ? null : identity.uriSans.join(',');
  }

  downstreamMtls(): boolean {
    return this.connectionFacts().peerIdentity() !== null;
  }

  requestedServerName(): string | null {
    const sni = this.connectionFacts().requestedServerName();
    return sni === '' ? null : sni;
  }

  routeName(): string | null {
    return null;
  }

  protocol(): string | null {
    return null;
  }

  upstreamProtocol(): string | null {
    return null;
  }

  private connectionFacts(): ConnectionFacts {
    if (this.facts === null) this.facts = new ConnectionFacts(this.info.downstream);
    return this.facts;
  }
}
