// One HTTP/2 connection to an endpoint (h2c with prior knowledge: a node:http2 ClientHttp2Session over
// a plain TCP socket; or h2 over TLS, offering ALPN h2, when the cluster has an UpstreamTlsContext) as
// its pool sees it: whether it can take another stream (the cluster's max_concurrent_streams, lowered
// by the endpoint's SETTINGS_MAX_CONCURRENT_STREAMS; none after a GOAWAY, once
// max_requests_per_connection streams were given to it, or when it idled out), the requests that wait
// for it to connect, its connect and idle timers (the connect timer covers the TLS handshake), and its
// stats.
import http2, { type ClientHttp2Session, type Settings } from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { errors } from './undici-parts.ts';
import { upstreamConnectOptions } from '../tls/upstream-tls-context.ts';
import type { PoolSettings } from './cluster-config.ts';
import type { Http2Exchange } from './http2-exchange.ts';
import type { Http2Pool } from './http2-pool.ts';

const kConnection = Symbol('weft.http2Connection');
type TrackedSession = ClientHttp2Session & { [kConnection]: Http2Connection };

/**
 * A socket that fails before it connects: the connection cannot be made (a TLS secret has not arrived).
 * The session waits for a handshake that never comes and fails as a connect failure, with no stream
 * started on it.
 */
function failedSocket(error: Error): tls.TLSSocket {
  // A TLS socket over a socket never connected: it stays in its handshake until destroyed.
  const socket = new tls.TLSSocket(new net.Socket(), { isServer: false });
  setImmediate(() => socket.destroy(error));
  return socket;
}

function onConnect(this: TrackedSession): void {
  this[kConnection].onConnect();
}

function onRemoteSettings(this: TrackedSession, settings: Settings): void {
  this[kConnection].onRemoteSettings(settings);
}

function onGoaway(this: TrackedSession): void {
  const conn = this[kConnection];
  conn.draining = true;
  if (conn.active === 0) this.close();
}

function onSessionError(this: TrackedSession, err: Error): void {
  this[kConnection].error ??= err;
}

function onSessionClose(this: TrackedSession): void {
  this[kConnection].onClose();
}

function onConnectTimeout(conn: Http2Connection): void {
  conn.connectTimer = null;
  if (!conn.connected) conn.session.destroy(new errors.ConnectTimeoutError());
}

function onIdleTimeout(conn: Http2Connection): void {
  conn.idleTimer = null;
  if (conn.active === 0) {
    conn.draining = true;
    conn.session.close();
  }
}

export class Http2Connection {
  /** Tells it from an HTTP/1.1 ConnectionSlot in PooledRequest.slot. */
  readonly http2 = true;
  readonly pool: Http2Pool;
  readonly session: ClientHttp2Session;
  /** :authority when a request has no host. */
  readonly authority: string;
  readonly settings: PoolSettings;
  connected = false;
  closed = false;
  /** Takes no new stream (GOAWAY, max_requests_per_connection reached, idled out, pool closing). */
  draining = false;
  /** Streams holding a slot: open, or assigned and waiting for the connection. */
  active = 0;
  /** Streams given to it over its life. */
  assigned = 0;
  maxStreams: number;
  /** Requests assigned while it connects. */
  waiting: Http2Exchange[] = [];
  error: Error | null = null;
  connectTimer: NodeJS.Timeout | null;
  idleTimer: NodeJS.Timeout | null = null;

  constructor(pool: Http2Pool, host: string, port: number, authority: string, settings: PoolSettings) {
    this.pool = pool;
    this.authority = authority;
    this.settings = settings;
    const protocol = settings.protocol;
    this.maxStreams = protocol.maxConcurrentStreams;
    const local: Settings = { enablePush: false };
    if (protocol.initialStreamWindowSize > 0) local.initialWindowSize = protocol.initialStreamWindowSize;
    const tcp = {
      host, port, noDelay: true,
      ...(settings.tcpKeepaliveMs !== null ? { keepAlive: true, keepAliveInitialDelay: settings.tcpKeepaliveMs } : {}),
    };
    const secure = settings.tls;
    this.session = http2.connect(`${secure === null ? 'http' : 'https'}://${authority}`, {
      settings: local,
      createConnection: secure === null
        ? () => net.connect(tcp)
        : () => {
          const options = upstreamConnectOptions(secure, ['h2']);
          if (options instanceof Error) return failedSocket(options);
          const socket = tls.connect({ host, port, ...options });
          socket.setNoDelay(true);
          if (settings.tcpKeepaliveMs !== null) socket.setKeepAlive(true, settings.tcpKeepaliveMs);
          return socket;
        },
    });
    const session = this.session as TrackedSession;
    session[kConnection] = this;
    session.on('connect', onConnect);
    session.on('remoteSettings', onRemoteSettings);
    session.on('goaway', onGoaway);
    session.on('error', onSessionError);
    session.on('close', onSessionClose);
    this.connectTimer = setTimeout(onConnectTimeout, settings.connectTimeoutMs, this);
  }

  /** Whether it can take one more stream now or once connected. */
  hasRoom(): boolean {
    return !this.draining && !this.closed && this.active < this.maxStreams;
  }

  /** A stream is assigned to it. */
  reserve(): void {
    this.active++;
    this.assigned++;
    const max = this.settings.maxRequestsPerConnection;
    if (max > 0 && this.assigned >= max) this.draining = true;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    if (this.active === 1) this.session.ref();
  }

  /** A stream gave its slot back. */
  streamClosed(): void {
    this.active--;
    this.pool.onStreamClosed(this);
  }

  /** No stream left: close now when it takes no more, else after the cluster's idle timeout. */
  idle(): void {
    if (this.closed) return;
    if (this.draining) {
      this.session.close();
      return;
    }
    // An idle pooled connection does not keep the process alive.
    this.session.unref();
    if (this.idleTimer === null) {
      this.idleTimer = setTimeout(onIdleTimeout, this.settings.idleTimeoutMs, this);
      this.idleTimer.unref();
    }
  }

  /** Graceful: no new stream; closes once the open ones are done. */
  close(): void {
    this.draining = true;
    if (this.active === 0 && !this.closed) this.session.close();
  }

  onConnect(): void {
    this.connected = true;
    this.clearConnectTimer();
    const window = this.settings.protocol.initialConnectionWindowSize;
    if (window > 0) this.session.setLocalWindowSize(window);
    this.pool.onConnected(this);
  }

  onRemoteSettings(settings: Settings): void {
    const remote = settings.maxConcurrentStreams;
    const configured = this.settings.protocol.maxConcurrentStreams;
    this.maxStreams = remote !== undefined && remote < configured ? remote : configured;
    this.pool.onRoom(this);
  }

  onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearConnectTimer();
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
    this.pool.onConnectionClosed(this);
  }

  private clearConnectTimer(): void {
    if (this.connectTimer !== null) {
      clearTimeout(this.connectTimer);
      this.connectTimer = null;
    }
  }
}
