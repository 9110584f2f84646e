// envoy.filters.network.http_connection_manager at run time: the codecs (HTTP/1.1: a node:http
// Server; HTTP/2: a node:http2 server, codec-http2.ts; neither listens itself, the listener hands the
// connection manager accepted sockets and codec_type / the first bytes choose the codec,
// codec-selection.ts), the per-request stream, Envoy's request header mutations, upgrades (upgrade.ts)
// and draining (HTTP/1.1: `connection: close` on the next response; HTTP/2: GOAWAY, in-flight streams
// finish).
import type { ObserverContext, StreamObserver } from './stream-observers.ts';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import http from '../../common/node-http.ts';
import http2, { type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Logger } from '../../common/log.ts';
import { ResponseFlag } from '../telemetry/response-flags.ts';
import type { HttpConnectionManagerStats } from '../telemetry/stat-objects.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import { createHttp2Server, ignore } from './codec-http2.ts';
import { codecByAlpn, sniffCodec } from './codec-selection.ts';
import { Codec, type HttpConnectionManagerSpec } from './connection-manager-config.ts';
import { DownstreamConnection } from './downstream-connection.ts';
import type { HttpFilter } from './filters/filter.ts';
import { parseHttp2Request, parseRequest } from './headers.ts';
import { PathOutcome, normalizeRequestPath } from './path-normalization.ts';
import type { RouteSlot } from './routing/route-store.ts';
import { HttpStream, Protocol, kHttpStream, type DownstreamResponse, type StreamOwner } from './stream.ts';
import { UpgradeRelay, upgradeAllowed } from './upgrade.ts';

const kConnection = Symbol('weft.downstreamConnection');
/** A connection answered with a protocol error: what its parser says next is not answered again. */
const kRefused = Symbol('weft.protocolErrorSent');
const { NGHTTP2_FLAG_END_STREAM } = http2.constants;

type TrackedSocket = Socket & { [kConnection]?: DownstreamConnection };
type TrackedSession = ServerHttp2Session & { [kConnection]?: DownstreamConnection };
type TrackedResponse = DownstreamResponse & { [kHttpStream]?: HttpStream };

/** res 'close' (HTTP/2: the stream's): the exchange is over (finished, reset by us, or the downstream went away). */
function onResponseClose(this: TrackedResponse): void {
  const stream = this[kHttpStream]!;
  if (!this.writableFinished) {
    if (!stream.complete) stream.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
    stream.upstream?.onStreamReset();
  }
  stream.complete = true;
  (stream.owner as HttpConnectionManager).onStreamDone(stream);
}

/**
 * An HTTP/2 stream reset by the client while the response was under way: node ends its readable side
 * (as if the request body were complete) before 'close', so the upstream is reset now, before a
 * truncated body could look complete to it.
 */
function onHttp2Aborted(this: TrackedResponse): void {
  const stream = this[kHttpStream]!;
  if (!stream.complete) stream.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
  stream.upstream?.onStreamReset();
}

/** Envoy ignores an `Upgrade: h2c` request (it is served as HTTP/1.1); other upgrades go to onUpgrade. */
function takesUpgrade(req: IncomingMessage): boolean {
  if (req.method === 'CONNECT') return true;
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.toLowerCase() !== 'h2c';
}

export class HttpConnectionManager implements StreamOwner {
  readonly spec: HttpConnectionManagerSpec;
  readonly stats: HttpConnectionManagerStats;
  readonly filters: readonly HttpFilter[];
  /** Access logs, tracing, metrics: told of every exchange (stream-observers.ts). */
  readonly observers: readonly StreamObserver[];
  readonly routes: RouteSlot;
  readonly clusters: ClusterManager;
  draining = false;
  /** The HTTP/1.1 codec; null when codec_type is HTTP2. */
  private readonly server: HttpServer | null;
  /** The HTTP/2 codec; null when codec_type is HTTP1. */
  private readonly http2Server: http2.Http2Server | null;
  private readonly connections = new Set<DownstreamConnection>();
  private emptyWaiters: (() => void)[] = [];
  /** The connection being handed to the HTTP/2 server (its 'session' event comes synchronously). */
  private handingOver: DownstreamConnection | null = null;

  constructor(spec: HttpConnectionManagerSpec, routes: RouteSlot, clusters: ClusterManager, stats: HttpConnectionManagerStats, logger: Logger,
    observerContext: ObserverContext | null = null) {
    this.spec = spec;
    this.stats = stats;
    this.routes = routes;
    this.clusters = clusters;
    this.filters = spec.filters.map((create) => create({ stats, logger }));
    this.observers = observerContext === null ? [] : spec.observers.map((create) => create(observerContext));
    this.server = null;
    this.http2Server = null;
    if (spec.codec !== Codec.Http2) {
      this.server = http.createServer({
        keepAliveTimeout: spec.idleTimeoutMs,
        // Envoy's default max_request_headers_kb.
        maxHeaderSize: 60 * 1024,
        noDelay: true,
        shouldUpgradeCallback: takesUpgrade,
      }, this.onRequest.bind(this));
      const onUpgrade = this.onUpgrade.bind(this);
      this.server.on('upgrade', onUpgrade);
      // CONNECT (node:http's 'connect') is never enabled (upgrade_configs rejects it): it gets the 403.
      this.server.on('connect', onUpgrade);
      this.server.on('clientError', this.onClientError.bind(this));
    }
    if (spec.codec !== Codec.Http1) {
      this.http2Server = createHttp2Server(spec.http2, this.onHttp2Stream.bind(this), this.onHttp2Session.bind(this));
    }
  }

  /**
   * Bytes that are not a valid HTTP/1.1 request (node's parser refused them: smuggling attempts among
   * them). As Envoy's codec: the status its error maps to, `connection: close`, and the connection is
   * closed, so nothing after the bad bytes is ever read as a request.
   */
  private onClientError(err: Error & { code?: string; reason?: string }, socket: Duplex): void {
    const tracked = socket as TrackedSocket & { [kRefused]?: true };
    if (err.code === 'ECONNRESET' || tracked[kRefused]) {
      // The client went away (node reports socket errors here too), or this connection was refused
      // already and the parser met the rest of its bytes: nothing more to answer.
      socket.destroy();
      return;
    }
    tracked[kRefused] = true;
    this.stats.downstreamCxProtocolError++;
    const status = protocolErrorStatus(err);
    if (socket.writable && !(socket as Socket).destroyed) {
      const text = http.STATUS_CODES[status] ?? 'Bad Request';
      socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-length: ${text.length}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${text}`);
      socket.once('finish', () => socket.destroy());
    } else {
      socket.destroy();
    }
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** An accepted socket from the listener. */
  handleConnection(socket: Socket): void {
    const conn = new DownstreamConnection(socket);
    (socket as TrackedSocket)[kConnection] = conn;
    this.connections.add(conn);
    this.stats.downstreamCxTotal++;
    this.stats.downstreamCxActive++;
    socket.once('close', () => {
      this.connections.delete(conn);
      this.stats.downstreamCxActive--;
      conn.clearIdleTimer();
      if (this.connections.size === 0 && this.emptyWaiters.length > 0) {
        const waiters = this.emptyWaiters;
        this.emptyWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
    const codec = this.spec.codec !== Codec.Auto ? this.spec.codec : codecByAlpn(socket);
    if (codec === Codec.Http1) this.startHttp1(conn);
    else if (codec === Codec.Http2) this.startHttp2(conn);
    else sniffCodec(socket, this.spec.idleTimeoutMs, (chosen) => {
      if (chosen === Codec.Http2 && this.http2Server !== null) this.startHttp2(conn);
      else this.startHttp1(conn);
    });
  }

  private startHttp1(conn: DownstreamConnection): void {
    if (this.server === null) {
      conn.socket.destroy();
      return;
    }
    this.stats.downstreamCxHttp1Total++;
    this.server.emit('connection', conn.socket);
    // Reserved listeners accept with pauseOnConnect, and sniffed connections are paused; node:http does
    // not resume such a socket itself.
    conn.socket.resume();
  }

  private startHttp2(conn: DownstreamConnection): void {
    if (this.http2Server === null) {
      conn.socket.destroy();
      return;
    }
    this.stats.downstreamCxHttp2Total++;
    // The session reads what the socket already holds (the preface put back) itself: no resume here.
    this.handingOver = conn;
    try {
      this.http2Server.emit('connection', conn.socket);
    } finally {
      this.handingOver = null;
    }
  }

  /**
   * Stops keeping connections alive: idle HTTP/1.1 ones close now, busy ones get `connection: close`
   * on their next response and close after it; HTTP/2 ones get GOAWAY and close once their streams are
   * done. Resolves when every connection is gone.
   */
  drain(): Promise<void> {
    this.draining = true;
    for (const conn of this.connections) {
      if (conn.session !== null) conn.session.close();
      else if (conn.activeRequests === 0) conn.socket.destroySoon();
    }
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => { this.emptyWaiters.push(resolve); });
  }

  /** Closes every connection now. */
  destroy(): void {
    this.draining = true;
    for (const conn of this.connections) {
      conn.session?.destroy();
      conn.socket.destroy();
    }
  }

  onStreamDone(stream: HttpStream): void {
    this.stats.downstreamRqActive--;
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i].onComplete(stream);
    const conn = stream.connection;
    conn.activeRequests--;
    if (conn.activeRequests !== 0) return;
    if (conn.session !== null) {
      if (!this.draining) conn.startIdleTimer(this.spec.idleTimeoutMs);
    } else if (this.draining || stream.upgrade !== null) {
      conn.socket.destroySoon();
    }
  }

  private observeRequest(stream: HttpStream): void {
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i].onRequest(stream);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.stats.downstreamRqTotal++;
    this.stats.downstreamRqActive++;
    const conn = (req.socket as TrackedSocket)[kConnection]!;
    conn.activeRequests++;
    // Capture the config this request runs on: it finishes on it whatever swaps happen meanwhile.
    const stream = new HttpStream(this, conn, Protocol.Http1, req, res, null, req.method ?? 'GET', this.routes.table, this.clusters.current);
    res.on('close', onResponseClose);
    parseRequest(req.url ?? '/', req.rawHeaders, stream);
    if (this.spec.pathNormalization !== null && this.pathRefused(stream)) return;
    this.mutateRequestHeaders(stream);
    stream.route = stream.routeTable === null ? null : stream.routeTable.route(stream);
    this.observeRequest(stream);
    stream.decodeHeaders();
  }

  private onHttp2Session(session: ServerHttp2Session): void {
    const conn = this.handingOver;
    if (conn === null) {
      session.destroy();
      return;
    }
    conn.session = session;
    (session as TrackedSession)[kConnection] = conn;
    if (this.draining) session.close();
    else conn.startIdleTimer(this.spec.idleTimeoutMs);
  }

  private onHttp2Stream(h2: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
    const conn = (h2.session as TrackedSession | undefined)?.[kConnection];
    h2.on('error', ignore);
    if (conn === undefined) {
      h2.close(http2.constants.NGHTTP2_REFUSED_STREAM);
      return;
    }
    this.stats.downstreamRqTotal++;
    this.stats.downstreamRqActive++;
    conn.streamStarted();
    const method = headers[':method'] ?? 'GET';
    const stream = new HttpStream(this, conn, Protocol.Http2, h2, h2, h2, method, this.routes.table, this.clusters.current);
    h2.on('close', onResponseClose);
    h2.on('aborted', onHttp2Aborted);
    parseHttp2Request(rawHeaders, stream);
    stream.hasBody = (flags & NGHTTP2_FLAG_END_STREAM) === 0;
    if (this.spec.pathNormalization !== null && this.pathRefused(stream)) return;
    this.mutateRequestHeaders(stream);
    stream.route = stream.routeTable === null ? null : stream.routeTable.route(stream);
    this.observeRequest(stream);
    stream.decodeHeaders();
  }

  /**
   * An upgrade request (node:http hands the connection over with it): a stream whose terminal step is
   * the upgrade relay, or 403 when neither the connection manager nor the route enables the type.
   */
  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const downstream = socket as TrackedSocket;
    const conn = downstream[kConnection]!;
    this.stats.downstreamRqTotal++;
    this.stats.downstreamRqActive++;
    conn.activeRequests++;
    // node:http no longer watches the connection: its errors end the relay (through 'close').
    downstream.on('error', ignore);
    const stream = new HttpStream(this, conn, Protocol.Http1, req, downstream, null, req.method ?? 'GET', this.routes.table, this.clusters.current);
    parseRequest(req.url ?? '/', req.rawHeaders, stream);
    const normalized = this.spec.pathNormalization === null || normalizeRequestPath(this.spec.pathNormalization, stream) === PathOutcome.Continue;
    this.mutateRequestHeaders(stream);
    stream.route = stream.routeTable === null ? null : stream.routeTable.route(stream);
    const upgradeHeader = req.method === 'CONNECT' ? 'CONNECT' : req.headers.upgrade ?? '';
    stream.upgrade = new UpgradeRelay(stream, this.stats, downstream, head, upgradeHeader);
    downstream.once('close', onResponseClose);
    if (!normalized) {
      // A path refused or to be redirected: an upgrade is not followed through a redirect either.
      stream.sendLocalReply(400, null, 0);
      return;
    }
    if (!upgradeAllowed(this.spec.upgrades, stream.route, upgradeHeader.toLowerCase())) {
      stream.sendLocalReply(403, null, 0);
      return;
    }
    this.observeRequest(stream);
    stream.decodeHeaders();
  }

  /**
   * normalize_path / merge_slashes / path_with_escaped_slashes_action on the request's path, before
   * routing. Returns true when the request was answered instead: 400 for a path refused, 307 to the
   * unescaped path for UNESCAPE_AND_REDIRECT (a gRPC request cannot follow a redirect: it is refused,
   * INTERNAL, as Envoy does).
   */
  private pathRefused(stream: HttpStream): boolean {
    const outcome = normalizeRequestPath(this.spec.pathNormalization!, stream);
    if (outcome === PathOutcome.Continue) return false;
    if (outcome === PathOutcome.Redirect && !stream.grpc) stream.sendLocalReply(307, null, 0, stream.path);
    else stream.sendLocalReply(400, null, 0);
    return true;
  }

  /** Envoy's ConnectionManagerUtility::mutateRequestHeaders, for what is supported. */
  private mutateRequestHeaders(stream: HttpStream): void {
    const headers = stream.requestHeaders;
    // A TLS-terminated connection's socket is a TLSSocket (encrypted).
    const proto = (stream.connection.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    if (this.spec.useRemoteAddress) {
      let remote = stream.connection.socket.remoteAddress ?? '';
      if (remote.startsWith('::ffff:')) remote = remote.slice(7);
      appendForwardedFor(headers, remote);
      setHeader(headers, 'x-forwarded-proto', proto);
    } else if (!stream.hasForwardedProto) {
      headers.push('x-forwarded-proto', proto);
    }
    if (stream.requestId === null && this.spec.generateRequestId) {
      stream.requestId = randomUUID();
      headers.push('x-request-id', stream.requestId);
    }
  }
}

function appendForwardedFor(headers: string[], address: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'x-forwarded-for') {
      headers[i + 1] = `${headers[i + 1]},${address}`;
      return;
    }
  }
  headers.push('x-forwarded-for', address);
}

function setHeader(headers: string[], name: string, value: string): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === name) {
      headers[i + 1] = value;
      return;
    }
  }
  headers.push(name, value);
}

/**
 * Envoy's answer to a request its HTTP/1.1 codec refuses: 431 for a header section over the limit,
 * 501 for a Transfer-Encoding other than `chunked` (but 400 when it comes with a Content-Length: the
 * conflict is the error then), 400 for everything else.
 */
export function protocolErrorStatus(err: { code?: string; reason?: string; message?: string }): number {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 431;
  if (err.code === 'HPE_INVALID_TRANSFER_ENCODING' && !/content-length/i.test(err.reason ?? err.message ?? '')) return 501;
  return 400;
}
