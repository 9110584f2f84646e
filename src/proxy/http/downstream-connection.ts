// One accepted downstream connection of an http_connection_manager, whatever its codec: the socket,
// the HTTP/2 session once the connection turned out to speak HTTP/2, and its streams in flight (for
// draining and, on HTTP/2, the idle timeout: Envoy closes a connection with no active stream after
// common_http_protocol_options.idle_timeout; node:http's keep-alive timeout does it for HTTP/1.1).
import type { ServerHttp2Session } from 'node:http2';
import type { Socket } from 'node:net';
import { ConnectionFacts } from '../rbac/connection-facts.ts';

function onIdleTimeout(conn: DownstreamConnection): void {
  conn.idleTimer = null;
  if (conn.activeRequests === 0 && conn.session !== null) conn.session.close();
}

export class DownstreamConnection {
  readonly socket: Socket;
  /** The HTTP/2 session; null on HTTP/1.1 (and while the codec is not known yet). */
  session: ServerHttp2Session | null = null;
  /** Requests (HTTP/1.1) or streams (HTTP/2) under way. */
  activeRequests = 0;
  idleTimer: NodeJS.Timeout | null = null;
  /** What authorization reads of the connection (addresses, SNI, peer identity); made on first use. */
  private facts: ConnectionFacts | null = null;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  /**
   * The connection's addresses, SNI and verified peer identity (the principal of its client
   * certificate), each computed once for all the requests of the connection.
   */
  connectionFacts(): ConnectionFacts {
    if (this.facts === null) this.facts = new ConnectionFacts(this.socket);
    return this.facts;
  }

  /** A stream started: the connection is not idle. */
  streamStarted(): void {
    this.activeRequests++;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }

  /** HTTP/2: no stream is left; close the session (GOAWAY) if none starts within `idleTimeoutMs` (0: never). */
  startIdleTimer(idleTimeoutMs: number): void {
    if (idleTimeoutMs <= 0 || this.idleTimer !== null) return;
    this.idleTimer = setTimeout(onIdleTimeout, idleTimeoutMs, this);
    this.idleTimer.unref();
  }

  clearIdleTimer(): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }
}
