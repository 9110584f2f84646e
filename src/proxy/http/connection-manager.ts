// envoy.filters.network.http_connection_manager at run time: the HTTP/1.1 codec (a node:http Server
// that never listens itself; the listener hands it accepted sockets), the per-request stream, Envoy's
// request header mutations, and draining. HTTP/2 will come as another codec behind the same stream.
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import type { Logger } from '../../common/log.ts';
import { ResponseFlag } from '../telemetry/response-flags.ts';
import type { HttpConnectionManagerStats } from '../telemetry/stat-objects.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import type { HttpConnectionManagerSpec } from './connection-manager-config.ts';
import type { HttpFilter } from './filters/filter.ts';
import { parseRequest } from './headers.ts';
import type { RouteSlot } from './routing/route-store.ts';
import { HttpStream, type StreamOwner } from './stream.ts';

const kConnection = Symbol('weft.downstreamConnection');
const kStream = Symbol('weft.stream');

class DownstreamConnection {
  readonly socket: Socket;
  activeRequests = 0;

  constructor(socket: Socket) {
    this.socket = socket;
  }
}

type TrackedSocket = Socket & { [kConnection]?: DownstreamConnection };
type TrackedResponse = ServerResponse & { [kStream]?: HttpStream };

/** res 'close': the exchange is over (finished, reset by us, or the downstream went away). */
function onResponseClose(this: TrackedResponse): void {
  const stream = this[kStream]!;
  if (!this.writableFinished) {
    if (!stream.complete) stream.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
    stream.upstream?.onStreamReset();
  }
  stream.complete = true;
  (stream.owner as HttpConnectionManager).onStreamDone(stream);
}

const forbiddenUpgrade = 'HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n';

export class HttpConnectionManager implements StreamOwner {
  readonly spec: HttpConnectionManagerSpec;
  readonly stats: HttpConnectionManagerStats;
  readonly filters: readonly HttpFilter[];
  readonly routes: RouteSlot;
  readonly clusters: ClusterManager;
  draining = false;
  private readonly server: http.Server;
  private readonly connections = new Set<DownstreamConnection>();
  private emptyWaiters: (() => void)[] = [];

  constructor(spec: HttpConnectionManagerSpec, routes: RouteSlot, clusters: ClusterManager, stats: HttpConnectionManagerStats, logger: Logger) {
    this.spec = spec;
    this.stats = stats;
    this.routes = routes;
    this.clusters = clusters;
    this.filters = spec.filters.map((create) => create({ stats, logger }));
    this.server = http.createServer({
      keepAliveTimeout: spec.idleTimeoutMs,
      // Envoy's default max_request_headers_kb.
      maxHeaderSize: 60 * 1024,
      noDelay: true,
    }, this.onRequest.bind(this));
    // No upgrade_configs yet (WebSocket comes later): Envoy answers an unconfigured upgrade with 403.
    this.server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => { socket.end(forbiddenUpgrade); });
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
      if (this.connections.size === 0 && this.emptyWaiters.length > 0) {
        const waiters = this.emptyWaiters;
        this.emptyWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
    this.server.emit('connection', socket);
    // Reserved listeners accept with pauseOnConnect; node:http does not resume such a socket itself.
    socket.resume();
  }

  /**
   * Stops keeping connections alive: idle ones close now, busy ones get `connection: close` on their
   * next response and close after it. Resolves when every connection is gone.
   */
  drain(): Promise<void> {
    this.draining = true;
    for (const conn of this.connections) if (conn.activeRequests === 0) conn.socket.destroySoon();
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => { this.emptyWaiters.push(resolve); });
  }

  /** Closes every connection now. */
  destroy(): void {
    this.draining = true;
    for (const conn of this.connections) conn.socket.destroy();
  }

  onStreamDone(stream: HttpStream): void {
    this.stats.downstreamRqActive--;
    const conn = (stream.req.socket as TrackedSocket | null)?.[kConnection];
    if (conn === undefined) return;
    conn.activeRequests--;
    if (this.draining && conn.activeRequests === 0) conn.socket.destroySoon();
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.stats.downstreamRqTotal++;
    this.stats.downstreamRqActive++;
    const conn = (req.socket as TrackedSocket)[kConnection];
    if (conn !== undefined) conn.activeRequests++;
    // Capture the config this request runs on: it finishes on it whatever swaps happen meanwhile.
    const stream = new HttpStream(this, req, res, this.routes.table, this.clusters.current);
    (res as TrackedResponse)[kStream] = stream;
    res.on('close', onResponseClose);
    parseRequest(req.url ?? '/', req.rawHeaders, stream);
    this.mutateRequestHeaders(stream);
    stream.route = stream.routeTable === null ? null : stream.routeTable.route(stream);
    stream.decodeHeaders();
  }

  /** Envoy's ConnectionManagerUtility::mutateRequestHeaders, for what is supported. */
  private mutateRequestHeaders(stream: HttpStream): void {
    const headers = stream.requestHeaders;
    if (this.spec.useRemoteAddress) {
      let remote = stream.req.socket.remoteAddress ?? '';
      if (remote.startsWith('::ffff:')) remote = remote.slice(7);
      appendForwardedFor(headers, remote);
      setHeader(headers, 'x-forwarded-proto', 'http');
    } else if (!stream.hasForwardedProto) {
      headers.push('x-forwarded-proto', 'http');
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
