// The connection pool of one endpoint: keep-alive HTTP/1.1 connections, each an undici Client with
// pipelining 1 (one request at a time per connection, as Envoy's HTTP/1 pool), and, when the cluster
// speaks HTTP/2 to its endpoints (ClusterSpec.pool.protocol; with use_downstream_protocol_config, for
// requests that came in over HTTP/2), multiplexed HTTP/2 connections (http2-pool.ts). This is the
// "endpoint" layer of the outbound path (DESIGN.md habit 6).
//
// Why undici: measured with bench/http-machinery.ts (node 24.21, 2 vCPUs: the proxy pinned to one,
// load generator and upstream to the other; 50 keep-alive connections, closed loop, 100-byte
// responses; best of 2 rounds of 4 s; two runs, figures rounded):
//   direct, no proxy                          ~41,500 req/s
//   node:http server + http.Agent, piped      ~22,600 req/s  (55 % of direct)
//   node:http server + undici Pool.dispatch   ~34,000-35,800 req/s  (82-86 %)
//   Weft DataPlane (this pool, full routing)  ~33,200-34,400 req/s  (80-83 %)
// undici's client is ~50 % faster than node:http's for the same server side, so upstream requests go
// through undici's dispatch API with a raw handler (no Readable wrappers, no header objects). The
// DataPlane, with routing, header mutations, request ids and stats, stays within noise of the bare
// undici proxy. Runs on a shared VM vary by up to 2x; compare variants within one run.
//
// Not undici's Pool: the pool is ours so that it can (1) bound idle connections (maxIdle; the oldest
// idle connection is closed first), (2) enforce the cluster-wide circuit breakers (max_connections
// across all endpoints of a cluster, max_pending_requests) as Envoy does, and (3) close connections
// when the endpoint leaves while letting in-flight requests finish.
import type { Dispatcher, buildConnector as BuildConnector, Client as UndiciClient } from 'undici';
import { Client, buildConnector } from './undici-parts.ts';
import { upstreamConnectOptions, type UpstreamTlsSpec } from '../tls/upstream-tls-context.ts';
import type { SecureContext } from 'node:tls';
import type { ClusterResources } from './circuit-breakers.ts';
import type { PoolSettings } from './cluster-config.ts';
import type { Http2Connection } from './http2-connection.ts';
import { Http2Pool } from './http2-pool.ts';
import { RingQueue } from './ring-queue.ts';

/**
 * A request as the pool sees it: an undici dispatch handler (HTTP/1.1 connections are undici Clients;
 * the HTTP/2 pool drives the same callbacks) plus the fields the pool keeps on it.
 */
export interface PooledRequest extends Dispatcher.DispatchHandler {
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  /** The connection it was given (HTTP/1.1 slot or HTTP/2 connection); null while waiting in the pool's queue. */
  slot: ConnectionSlot | Http2Connection | null;
  /** True while it waits for a connection (Envoy's "pending"), counted in upstream_rq_pending_active. */
  pending: boolean;
  /** Set by cancel() while queued: skipped when its turn comes. */
  cancelled: boolean;
  /** The request (and its body) is all written on the connection (undici calls it too, untyped). */
  onRequestSent?(): void;
  /** The downstream request came in over HTTP/2 (use_downstream_protocol_config picks HTTP/2 then). */
  readonly downstreamHttp2: boolean;
  /** The downstream sent `te: trailers`: an HTTP/2 endpoint gets it too (gRPC servers look for it). */
  readonly teTrailers: boolean;
  /**
   * Set by the HTTP/2 pool before onHeaders: the response ended with its headers (HEADERS with
   * END_STREAM: no body, no trailers, e.g. gRPC's trailers-only response).
   */
  responseEndsAtHeaders: boolean;
}

/** One upstream connection (an undici Client that carries one request at a time). */
export class ConnectionSlot {
  /** Tells it from an HTTP/2 connection in PooledRequest.slot. */
  readonly http2 = false;
  readonly client: UndiciClient;
  request: PooledRequest | null = null;
  connected = false;
  /** Its connection failed or closed: it takes no new request. */
  dead = false;
  retired = false;

  constructor(client: UndiciClient) {
    this.client = client;
  }
}

/**
 * How an HTTP/1.1 connection is made: plain TCP, or TLS when the endpoint's transport socket has an
 * UpstreamTlsContext (offering ALPN http/1.1; undici's TLS path is taken by presenting the origin as
 * https). The TLS connector is rebuilt when the secure context changes (an SDS secret update), which
 * also drops undici's TLS session cache: a resumed session would carry the old certificates.
 */
function http1Connector(settings: PoolSettings): BuildConnector.connector {
  // Without upstream_connection_options.tcp_keepalive, undici's own keepalive (60 s) stays on.
  const tcp = settings.tcpKeepaliveMs === null
    ? { timeout: settings.connectTimeoutMs }
    : { timeout: settings.connectTimeoutMs, keepAlive: true, keepAliveInitialDelay: settings.tcpKeepaliveMs };
  const tls = settings.tls;
  if (tls === null) return buildConnector(tcp);
  let builtFor: SecureContext | undefined;
  let connect: BuildConnector.connector | null = null;
  return (options, callback) => {
    const connectOptions = upstreamConnectOptions(tls, ['http/1.1']);
    if (connectOptions instanceof Error) {
      callback(connectOptions, null);
      return;
    }
    if (connect === null || builtFor !== connectOptions.secureContext) {
      connect = buildConnector({ ...tcp, ...connectOptions } as BuildConnector.BuildOptions);
      builtFor = connectOptions.secureContext;
    }
    connect({ ...options, protocol: 'https:' }, callback);
  };
}

export class EndpointPool {
  readonly origin: string;
  /** The endpoint's transport socket: TLS, or null for plaintext. */
  readonly tls: UpstreamTlsSpec | null;
  resources: ClusterResources;
  readonly maxIdle: number;
  /** Idle connections, oldest first (reused from the end, so cold ones idle out). */
  private readonly idle: ConnectionSlot[] = [];
  private readonly slots = new Set<ConnectionSlot>();
  /** Requests waiting for a connection when the cluster's max_connections is reached. */
  private readonly queue = new RingQueue<PooledRequest>();
  private readonly clientOptions: UndiciClient.Options;
  /** The HTTP/2 connections; null when the cluster speaks only HTTP/1.1. */
  private readonly http2: Http2Pool | null;
  /** Every request goes over HTTP/2 (else only those whose downstream did, with use_downstream_protocol_config). */
  private readonly alwaysHttp2: boolean;
  private closing = false;
  private resolveClosed: (() => void) | null = null;

  constructor(origin: string, settings: PoolSettings, resources: ClusterResources, maxIdle: number) {
    this.origin = origin;
    this.tls = settings.tls;
    this.resources = resources;
    this.maxIdle = maxIdle;
    const protocol = settings.protocol;
    this.alwaysHttp2 = protocol.http2;
    this.http2 = null;
    if (protocol.http2 || protocol.useDownstreamProtocol) {
      const url = new URL(origin);
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      this.http2 = new Http2Pool(this, host, Number(url.port || 80), url.host, settings);
    }
    this.clientOptions = {
      connect: http1Connector(settings),
      pipelining: 1,
      keepAliveTimeout: settings.idleTimeoutMs,
      keepAliveMaxTimeout: settings.idleTimeoutMs,
      // headersTimeout / bodyTimeout keep undici's 300 s: Envoy's default stream idle timeout (5 min).
      ...(settings.maxRequestsPerConnection > 0 ? { maxRequestsPerClient: settings.maxRequestsPerConnection } : {}),
    };
  }

  /** Open connections (busy or idle). */
  get size(): number {
    return this.slots.size + (this.http2 === null ? 0 : this.http2.connections.length);
  }

  /** Whether a request whose downstream spoke HTTP/2 (or not) goes to the endpoint over HTTP/2. */
  speaksHttp2(downstreamHttp2: boolean): boolean {
    return this.http2 !== null && (this.alwaysHttp2 || downstreamHttp2);
  }

  /**
   * Sends `req` on an idle connection, a new one, or queues it (HTTP/2: on a connection with room for
   * another stream). Returns false when the request would have to wait for a connection and the
   * cluster's max_pending_requests is reached (overflow).
   */
  dispatch(req: PooledRequest): boolean {
    const http2 = this.http2;
    if (http2 !== null && (this.alwaysHttp2 || req.downstreamHttp2)) return http2.dispatch(req);
    const slot = this.idle.pop();
    if (slot !== undefined) {
      this.send(slot, req);
      return true;
    }
    if (!this.resources.canQueueRequest()) return false;
    req.pending = true;
    this.resources.stats.upstreamRqPendingActive++;
    // As Envoy: over max_connections, still open one connection if this endpoint has none, so that
    // queued requests can always make progress.
    if (this.resources.canCreateConnection() || this.slots.size === 0) {
      this.send(this.createSlot(), req);
    } else {
      this.resources.stats.upstreamCxOverflow++;
      this.queue.push(req);
    }
    return true;
  }

  /** The request was written on its connection (undici onConnect): no longer pending. */
  started(req: PooledRequest): void {
    if (req.pending) {
      req.pending = false;
      this.resources.stats.upstreamRqPendingActive--;
    }
  }

  /** The owner gives up on a request that may still be queued. A request on a connection must be aborted instead. */
  cancel(req: PooledRequest): void {
    if (req.slot === null && !req.cancelled) {
      req.cancelled = true;
      this.started(req);
    }
  }

  /**
   * The request finished (complete or error): its connection serves the next one or goes idle. (An
   * HTTP/2 stream gives its slot back when it closes; the HTTP/2 pool sees to that.)
   */
  release(req: PooledRequest): void {
    this.started(req);
    const slot = req.slot;
    if (slot === null || slot.http2 || slot.request !== req) return;
    req.slot = null;
    slot.request = null;
    if (slot.dead) {
      this.retire(slot);
      this.serveQueue();
      return;
    }
    const next = this.nextQueued();
    if (next !== undefined) this.send(slot, next);
    else if (this.closing) this.retire(slot);
    else {
      this.idle.push(slot);
      if (this.idle.length > this.maxIdle) this.retire(this.idle[0]);
    }
  }

  /** Stops reusing connections: idle ones close now, busy ones when their request ends. */
  close(): Promise<void> {
    this.closing = true;
    const http2 = this.http2 === null ? Promise.resolve() : this.http2.close();
    for (const slot of [...this.idle]) this.retire(slot);
    if (this.slots.size === 0 && !this.hasWaiting()) return http2;
    const http1 = new Promise<void>((resolve) => { this.resolveClosed = resolve; });
    return Promise.all([http1, http2]).then(() => {});
  }

  /** Closes every connection now, failing what is in flight. */
  destroy(): void {
    this.closing = true;
    this.http2?.destroy();
    let req: PooledRequest | undefined;
    const error = new Error('connection pool destroyed');
    while ((req = this.queue.shift()) !== undefined) {
      if (!req.cancelled) req.onError?.(error);
    }
    for (const slot of [...this.slots]) {
      this.retire(slot);
      void slot.client.destroy(error).catch(() => {});
    }
  }

  private send(slot: ConnectionSlot, req: PooledRequest): void {
    slot.request = req;
    req.slot = slot;
    slot.client.dispatch(req.dispatchOptions, req);
  }

  private nextQueued(): PooledRequest | undefined {
    let req: PooledRequest | undefined;
    while ((req = this.queue.shift()) !== undefined) if (!req.cancelled) return req;
    return undefined;
  }

  /** Whether a request that is not cancelled waits in the queue (drops cancelled ones at its head). */
  private hasWaiting(): boolean {
    for (;;) {
      const head = this.queue.peek();
      if (head === undefined) return false;
      if (!head.cancelled) return true;
      this.queue.shift();
    }
  }

  /** After a connection went away: give a waiting request a new connection if allowed. */
  private serveQueue(): void {
    if (this.queue.length === 0) return;
    if (!this.resources.canCreateConnection() && this.slots.size > 0) return;
    const next = this.nextQueued();
    if (next !== undefined) this.send(this.createSlot(), next);
  }

  private createSlot(): ConnectionSlot {
    const client = new Client(this.origin, this.clientOptions);
    const slot = new ConnectionSlot(client);
    this.slots.add(slot);
    this.resources.connections++;
    // One set of listeners per connection (not per request).
    client.on('connect', () => {
      slot.connected = true;
      this.resources.stats.upstreamCxTotal++;
      this.resources.stats.upstreamCxActive++;
    });
    client.on('disconnect', () => {
      if (slot.connected) {
        slot.connected = false;
        this.resources.stats.upstreamCxActive--;
      }
      this.markDead(slot);
    });
    client.on('connectionError', () => {
      this.resources.stats.upstreamCxConnectFail++;
      this.markDead(slot);
    });
    // Errors reach the request's handler; this only keeps a stray 'error' from crashing the process.
    (client as unknown as NodeJS.EventEmitter).on('error', () => {});
    return slot;
  }

  private markDead(slot: ConnectionSlot): void {
    slot.dead = true;
    if (slot.request === null && !slot.retired) {
      this.retire(slot);
      this.serveQueue();
    }
  }

  private retire(slot: ConnectionSlot): void {
    if (slot.retired) return;
    slot.retired = true;
    slot.dead = true;
    const i = this.idle.indexOf(slot);
    if (i !== -1) this.idle.splice(i, 1);
    this.slots.delete(slot);
    this.resources.connections--;
    if (!slot.client.closed && !slot.client.destroyed) void slot.client.close().catch(() => {});
    if (this.closing && this.slots.size === 0 && this.resolveClosed && !this.hasWaiting()) {
      const resolve = this.resolveClosed;
      this.resolveClosed = null;
      resolve();
    }
  }
}
