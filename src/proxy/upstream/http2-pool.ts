// The HTTP/2 side of an endpoint's connection pool (endpoint-pool.ts): requests are multiplexed as
// streams over few connections, as Envoy's HTTP/2 pool does. A request goes to a connection with room
// (fewer open streams than its max_concurrent_streams); when none has room it waits (Envoy's pending
// request, bounded by max_pending_requests) for a connection being established, for a new one
// (max_connections allowing, counted across the cluster), or in the queue until a stream ends
// somewhere. max_requests (active streams) is the router's check, as for HTTP/1.1.
//
// Why node:http2 rather than undici's HTTP/2 client (allowH2 / useH2c on an undici Client): measured
// with undici 7.30, a Client keeps a connection "busy" while a request with a streaming body or a
// non-idempotent method (every gRPC call is a POST) is in flight, so a second such request waits for
// the first to complete instead of being multiplexed on the connection; long-lived gRPC streams would
// serialize. It does deliver trailers and is full duplex on one stream, but the multiplexing is the
// point of HTTP/2 here. node:http2's client is full duplex, multiplexes freely, reports trailers and
// the endpoint's SETTINGS and GOAWAY; the pool drives the same dispatch-handler interface with it
// (http2-exchange.ts), so the router, retries and mirroring do not know which protocol is spoken.
import { RingQueue } from './ring-queue.ts';
import type { PoolSettings } from './cluster-config.ts';
import type { EndpointPool, PooledRequest } from './endpoint-pool.ts';
import { Http2Connection } from './http2-connection.ts';
import { Http2Exchange } from './http2-exchange.ts';

export class Http2Pool {
  /** The endpoint pool: its resources (the cluster's circuit breakers) change with cluster updates. */
  readonly owner: EndpointPool;
  readonly host: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets): the default :authority. */
  readonly authority: string;
  readonly settings: PoolSettings;
  readonly connections: Http2Connection[] = [];
  /** Requests waiting for a stream when no connection has room and none may be opened. */
  private readonly queue = new RingQueue<PooledRequest>();
  private closing = false;
  private resolveClosed: (() => void) | null = null;

  constructor(owner: EndpointPool, host: string, port: number, authority: string, settings: PoolSettings) {
    this.owner = owner;
    this.host = host;
    this.port = port;
    this.authority = authority;
    this.settings = settings;
  }

  /** Returns false when the request would have to wait and max_pending_requests is reached (overflow). */
  dispatch(req: PooledRequest): boolean {
    let connecting: Http2Connection | null = null;
    const connections = this.connections;
    for (let i = 0; i < connections.length; i++) {
      const conn = connections[i];
      if (!conn.hasRoom()) continue;
      if (conn.connected) {
        this.assign(conn, req);
        return true;
      }
      connecting ??= conn;
    }
    const resources = this.owner.resources;
    if (!resources.canQueueRequest()) return false;
    req.pending = true;
    resources.stats.upstreamRqPendingActive++;
    if (connecting !== null) this.assign(connecting, req);
    // As for HTTP/1.1: over max_connections, still open one connection if the endpoint has none.
    else if (resources.canCreateConnection() || connections.length === 0) this.assign(this.createConnection(), req);
    else {
      resources.stats.upstreamCxOverflow++;
      this.queue.push(req);
    }
    return true;
  }

  /** Stops taking requests on new connections: each connection closes once its streams are done. */
  close(): Promise<void> {
    this.closing = true;
    for (const conn of [...this.connections]) if (conn.active === 0) conn.close();
    if (this.isClosed()) return Promise.resolve();
    return new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  /** Closes every connection now, failing what is in flight or queued. */
  destroy(): void {
    this.closing = true;
    const error = new Error('connection pool destroyed');
    let req: PooledRequest | undefined;
    while ((req = this.queue.shift()) !== undefined) {
      if (!req.cancelled) req.onError?.(error);
    }
    for (const conn of [...this.connections]) conn.session.destroy(error);
  }

  // ---- from connections

  onConnected(conn: Http2Connection): void {
    this.owner.resources.stats.upstreamCxTotal++;
    this.owner.resources.stats.upstreamCxActive++;
    const waiting = conn.waiting;
    conn.waiting = [];
    for (const exchange of waiting) exchange.start(conn.session, this.authority);
    this.onRoom(conn);
  }

  /** The connection may take more streams (its peer's settings, or a stream ended): serve the queue. */
  onRoom(conn: Http2Connection): void {
    while (conn.connected && conn.hasRoom()) {
      const next = this.nextQueued();
      if (next === undefined) break;
      this.assign(conn, next);
    }
  }

  onStreamClosed(conn: Http2Connection): void {
    if (conn.closed) return;
    this.onRoom(conn);
    if (conn.active > 0) return;
    if (this.closing) conn.close();
    else conn.idle();
  }

  onConnectionClosed(conn: Http2Connection): void {
    const stats = this.owner.resources.stats;
    if (conn.connected) stats.upstreamCxActive--;
    else stats.upstreamCxConnectFail++;
    const i = this.connections.indexOf(conn);
    if (i !== -1) this.connections.splice(i, 1);
    this.owner.resources.connections--;
    // Requests still waiting for it never got a stream: a connection failure.
    const waiting = conn.waiting;
    conn.waiting = [];
    const error = conn.error ?? new Error('upstream connection closed before it was established');
    for (const exchange of waiting) exchange.fail(error);
    this.serveQueueOnNewConnection();
    if (this.isClosed() && this.resolveClosed !== null) {
      const resolve = this.resolveClosed;
      this.resolveClosed = null;
      resolve();
    }
  }

  // ----

  private assign(conn: Http2Connection, req: PooledRequest): void {
    conn.reserve();
    req.slot = conn;
    const exchange = new Http2Exchange(req, conn);
    if (conn.connected) exchange.start(conn.session, this.authority);
    else conn.waiting.push(exchange);
  }

  private createConnection(): Http2Connection {
    const conn = new Http2Connection(this, this.host, this.port, this.authority, this.settings);
    this.connections.push(conn);
    this.owner.resources.connections++;
    return conn;
  }

  /** A connection went away: queued requests get a new one if allowed (or if none is left). */
  private serveQueueOnNewConnection(): void {
    if (this.queue.length === 0) return;
    const resources = this.owner.resources;
    if (!resources.canCreateConnection() && this.connections.some((c) => !c.closed)) return;
    const next = this.nextQueued();
    if (next !== undefined) this.assign(this.createConnection(), next);
  }

  private nextQueued(): PooledRequest | undefined {
    let req: PooledRequest | undefined;
    while ((req = this.queue.shift()) !== undefined) if (!req.cancelled) return req;
    return undefined;
  }

  private isClosed(): boolean {
    if (this.connections.length > 0) return false;
    for (;;) {
      const head = this.queue.peek();
      if (head === undefined) return true;
      if (!head.cancelled) return false;
      this.queue.shift();
    }
  }
}
