// One HTTP request/response exchange (Envoy's ActiveStream): what the connection manager parsed, the
// config it captured when the request started (route table and cluster set: it finishes on them even
// if a swap happens meanwhile), the filter iteration, local replies and the response flags.
// Every field is set in the constructor (stable shape, DESIGN.md habit 7).
//
// The codec only shows where the response head and trailers are written: HTTP/1.1 through node:http's
// ServerResponse, HTTP/2 through the request's ServerHttp2Stream (codec-http2.ts), and an upgrade
// request (WebSocket) on its raw connection (upgrade.ts). Bodies are written with write()/end() on
// `res`, which all three offer. A local reply to a gRPC request takes gRPC's form, as Envoy's.
import type { StreamExchange } from './filters/metadata-exchange/exchange.ts';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { ServerHttp2Stream } from 'node:http2';
import type { HttpConnectionManagerStats } from '../telemetry/stat-objects.ts';
import type { ClusterSet } from '../upstream/cluster-manager.ts';
import { resetHttp2, respondHttp2, sendHttp2Trailers } from './codec-http2.ts';
import type { DownstreamConnection } from './downstream-connection.ts';
import { FilterStatus, type HttpFilter } from './filters/filter.ts';
import { encodeGrpcMessage, httpToGrpcStatus } from './grpc.ts';
import { trailerObject, type ParsedRequest } from './headers.ts';
import { hasHeader } from './header-list.ts';
import type { RequestView } from './routing/header-matcher.ts';
import type { HeaderMutations } from './routing/header-mutation.ts';
import type { Route, RouteTable } from './routing/route-table.ts';

/** The downstream protocol of a stream. */
export const Protocol = { Http1: 0, Http2: 1 } as const;
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

/** What a stream needs from the connection manager that owns it. */
export interface StreamOwner {
  readonly filters: readonly HttpFilter[];
  readonly stats: HttpConnectionManagerStats;
  readonly draining: boolean;
}

/** The upstream side of a stream (the router's upstream request), as the stream drives it. */
export interface StreamUpstream {
  /** The downstream went away, or the stream was reset: stop the upstream request. */
  onStreamReset(): void;
  /** Response headers an encoder filter had paused are now written: send the body. */
  onHeadersWritten(): void;
}

/**
 * The terminal step of an upgrade request (upgrade.ts): it takes the router's place once the decoder
 * filters before the router let the request through, and writes the response head on the raw connection.
 */
export interface StreamUpgrade {
  start(): void;
  writeHead(status: number, headers: string[]): void;
}

/** The downstream request: its body is the readable side. */
export type DownstreamRequest = IncomingMessage | ServerHttp2Stream;

/**
 * Where the response body goes: node:http's ServerResponse, the HTTP/2 stream, or an upgraded
 * connection's socket. 'close' ends the exchange, 'drain' follows a write() that returned false.
 */
export interface DownstreamResponse extends NodeJS.EventEmitter {
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: Buffer): unknown;
  destroy(): unknown;
  readonly writableFinished: boolean;
}

const emptyBody = Buffer.alloc(0);
const textPlain = 'text/plain';
/** The HttpStream of a ServerResponse or ServerHttp2Stream, for listeners shared by all streams. */
export const kHttpStream = Symbol('weft.httpStream');

type TrackedHttp2Stream = ServerHttp2Stream & { [kHttpStream]?: HttpStream };

function onWantTrailers(this: TrackedHttp2Stream): void {
  const stream = this[kHttpStream];
  if (stream !== undefined && stream.trailers !== null) sendHttp2Trailers(this, stream.trailers);
}

export class HttpStream implements RequestView, ParsedRequest {
  readonly owner: StreamOwner;
  readonly connection: DownstreamConnection;
  readonly protocol: Protocol;
  readonly req: DownstreamRequest;
  readonly res: DownstreamResponse;
  /** The HTTP/2 stream (also req and res); null on HTTP/1.1. */
  readonly h2: ServerHttp2Stream | null;
  readonly method: string;
  authority = '';
  path = '';
  requestHeaders: string[] = [];
  hasBody = false;
  hasForwardedProto = false;
  requestId: string | null = null;
  acceptsTrailers = false;
  grpc = false;
  /** Its part in Istio's metadata exchange (filters/metadata-exchange), when the connection manager runs it. */
  peerExchange: StreamExchange | null = null;
  /** An upgrade request (WebSocket) relayed by upgrade.ts instead of the router; null for others. */
  upgrade: StreamUpgrade | null = null;
  /** Captured at the start: the route table (null: RDS not arrived, NR) and the cluster set. */
  readonly routeTable: RouteTable | null;
  readonly clusters: ClusterSet;
  route: Route | null = null;
  /** ResponseFlag bits (telemetry/response-flags.ts). */
  responseFlags = 0;
  responseStatus = 0;
  responseHeaders: string[] | null = null;
  /**
   * The proxied response ends with its headers (no body, no trailers: a gRPC trailers-only response):
   * HTTP/2 then sends them with END_STREAM. Set by the router before encodeHeaders().
   */
  responseEndsAtHeaders = false;
  /** Upstream trailers waiting for the HTTP/2 stream to want them. */
  trailers: OutgoingHttpHeaders | null = null;
  /**
   * The route's response header mutations (of the chosen weighted cluster), set by the router once it
   * has a route: applied to the upstream response and to the router's local replies, as Envoy's
   * finalizeResponseHeaders. null: none (and for local replies of filters before the router).
   */
  responseMutations: HeaderMutations | null = null;
  /** The body of a local reply, written with the headers; null for a proxied response. */
  localBody: Buffer | null = null;
  /**
   * Extra headers (name, value pairs) a filter wants on the local reply it is about to send
   * (`www-authenticate` on a JWT 401, an external authorizer's headers on a denial); null: none.
   */
  localReplyHeaders: string[] | null = null;
  /**
   * Envoy's dynamic metadata: what filters learned about this request, by filter name (the JWT
   * filter's verified payload under `envoy.filters.http.jwt_authn`, read by RBAC's metadata
   * matchers). null until a filter sets some.
   */
  dynamicMetadata: Record<string, Record<string, unknown>> | null = null;
  /** Index of the filter decoding (or that stopped decoding). */
  decodeIndex = 0;
  /** Index of the filter that stopped encoding. */
  encodeIndex = 0;
  headersWritten = false;
  /** The response is finished or the stream was reset. */
  complete = false;
  upstream: StreamUpstream | null = null;
  /** performance.now() when the request arrived. */
  readonly startTime: number;
  // What telemetry (access logs, metrics, tracing) reads when the exchange is over; set by the router.
  /** The upstream cluster the route chose; null: none (a local reply before routing). */
  upstreamClusterName: string | null = null;
  /** The endpoint (`address:port`) of the last upstream attempt; null: none. */
  upstreamHost: string | null = null;
  /** The route's name (route.name), '' when unnamed or no route. */
  routeName = '';
  /** Request body bytes received from the downstream. */
  requestBodyBytes = 0;
  /** Response body bytes sent to the downstream. */
  responseBodyBytes = 0;
  /** performance.now() when the response headers were written; 0: not yet. */
  responseStartTime = 0;

  constructor(owner: StreamOwner, connection: DownstreamConnection, protocol: Protocol, req: DownstreamRequest, res: DownstreamResponse,
    h2: ServerHttp2Stream | null, method: string, routeTable: RouteTable | null, clusters: ClusterSet) {
    this.owner = owner;
    this.connection = connection;
    this.protocol = protocol;
    this.req = req;
    this.res = res;
    this.h2 = h2;
    this.method = method;
    this.routeTable = routeTable;
    this.clusters = clusters;
    this.startTime = performance.now();
    (res as DownstreamResponse & { [kHttpStream]?: HttpStream })[kHttpStream] = this;
  }

  /** Runs the decoder filters from `decodeIndex` until one stops; an upgrade runs its relay in the router's place. */
  decodeHeaders(): void {
    const filters = this.owner.filters;
    const upgrade = this.upgrade;
    const end = upgrade === null ? filters.length : filters.length - 1;
    for (let i = this.decodeIndex; i < end; i++) {
      this.decodeIndex = i;
      if (filters[i].decodeHeaders(this) === FilterStatus.StopIteration || this.complete) return;
    }
    if (upgrade !== null && !this.complete && !this.headersWritten) {
      this.decodeIndex = end;
      upgrade.start();
    }
  }

  /** A filter that returned StopIteration from decodeHeaders lets the stream go on. */
  continueDecoding(): void {
    if (this.complete || this.headersWritten) return;
    this.decodeIndex++;
    this.decodeHeaders();
  }

  /**
   * Runs the encoder filters (in reverse, from the one before the filter that produced the response)
   * and writes the headers. Returns false when a filter paused them (continueEncoding() resumes).
   */
  encodeHeaders(): boolean {
    return this.encodeFrom(this.decodeIndex - 1);
  }

  continueEncoding(): void {
    if (this.complete || this.headersWritten) return;
    if (this.encodeFrom(this.encodeIndex - 1) && this.localBody === null) this.upstream?.onHeadersWritten();
  }

  /**
   * Replies from the proxy itself (no route, no healthy upstream, timeouts, direct responses).
   * After the response started, the only thing left to do is to reset the stream. A gRPC request gets
   * the reply in gRPC's form (HTTP 200, grpc-status from the HTTP status, the body as grpc-message).
   */
  sendLocalReply(status: number, body: Buffer | null, flags: number, location: string | null = null): void {
    if (this.grpc) {
      this.sendGrpcLocalReply(httpToGrpcStatus(status), body === null ? '' : body.toString(), flags, location);
      return;
    }
    this.responseFlags |= flags;
    if (this.complete) return;
    if (this.headersWritten) {
      this.reset();
      return;
    }
    const payload = body ?? emptyBody;
    this.responseStatus = status;
    const extra = this.localReplyHeaders;
    // A filter's own content-type (an external authorizer's denial) replaces the default text/plain.
    const ownType = extra !== null && hasHeader(extra, 'content-type');
    const headers = payload.length > 0
      ? (ownType ? ['content-length', String(payload.length)] : ['content-length', String(payload.length), 'content-type', textPlain])
      : ['content-length', '0'];
    if (location !== null) headers.push('location', location);
    if (extra !== null) headers.push(...extra);
    if (this.responseMutations !== null) this.responseMutations.apply(headers);
    this.responseHeaders = headers;
    this.localBody = payload;
    this.encodeHeaders();
  }

  /**
   * A gRPC local reply: HTTP 200, content-type application/grpc, and grpc-status / grpc-message as a
   * trailers-only response (HTTP/2: HEADERS with END_STREAM; HTTP/1.1 has no trailers-only form: they
   * are sent as headers, with content-length 0).
   */
  sendGrpcLocalReply(grpcStatus: number, grpcMessage: string, flags: number, location: string | null = null): void {
    this.responseFlags |= flags;
    if (this.complete) return;
    if (this.headersWritten) {
      this.reset();
      return;
    }
    this.responseStatus = 200;
    const headers = ['content-type', 'application/grpc', 'grpc-status', String(grpcStatus)];
    if (grpcMessage !== '') headers.push('grpc-message', encodeGrpcMessage(grpcMessage));
    if (this.protocol === Protocol.Http1) headers.push('content-length', '0');
    if (location !== null) headers.push('location', location);
    if (this.localReplyHeaders !== null) headers.push(...this.localReplyHeaders);
    if (this.responseMutations !== null) this.responseMutations.apply(headers);
    this.responseHeaders = headers;
    this.localBody = emptyBody;
    this.encodeHeaders();
  }

  /**
   * The upstream response is complete: ends the downstream one, with the upstream's trailers where
   * the downstream can take them (HTTP/2 always; HTTP/1.1 when the request said `te: trailers` and the
   * response is chunked).
   */
  finishResponse(trailers: readonly (Buffer | string)[] | null): void {
    const h2 = this.h2;
    if (h2 === null) {
      if (trailers !== null && trailers.length > 0 && this.acceptsTrailers && this.upgrade === null) {
        const res = this.res as ServerResponse;
        const fields = res.chunkedEncoding ? trailerObject(trailers) : null;
        if (fields !== null) res.addTrailers(fields);
      }
      this.res.end();
      return;
    }
    if (trailers !== null && trailers.length > 0) {
      this.trailers = trailerObject(trailers);
      if (this.trailers !== null) h2.once('wantTrailers', onWantTrailers);
    }
    if (!h2.writableEnded) h2.end();
    // As node:http does after a response: read what is left of the request body, so the stream can close.
    if (!h2.readableEnded) h2.resume();
  }

  /** Aborts the downstream side (HTTP/1.1: closes the connection; HTTP/2: resets the stream). */
  reset(): void {
    if (this.complete) return;
    this.complete = true;
    if (this.h2 !== null) resetHttp2(this.h2);
    else this.res.destroy();
  }

  private encodeFrom(start: number): boolean {
    const filters = this.owner.filters;
    for (let i = start; i >= 0; i--) {
      if (filters[i].encodeHeaders(this) === FilterStatus.StopIteration) {
        this.encodeIndex = i;
        return false;
      }
      if (this.complete) return false;
    }
    this.writeHeaders();
    return true;
  }

  private writeHeaders(): void {
    const headers = this.responseHeaders!;
    this.headersWritten = true;
    this.responseStartTime = performance.now();
    this.owner.stats.recordResponse(this.responseStatus);
    const local = this.localBody;
    if (this.h2 !== null) {
      this.writeHttp2Headers(this.h2, headers, local);
      return;
    }
    if (this.upgrade !== null) {
      this.upgrade.writeHead(this.responseStatus, headers);
    } else {
      if (this.owner.draining) headers.push('connection', 'close');
      (this.res as ServerResponse).writeHead(this.responseStatus, headers);
      // node:http holds the head until the first body bytes: when none came with it (a long poll,
      // server-sent events), it goes out on its own, as Envoy sends it.
      if (local === null) process.nextTick(flushHeadOnly, this);
    }
    if (local !== null) {
      this.res.end(local);
      this.complete = true;
    }
  }

  private writeHttp2Headers(h2: ServerHttp2Stream, headers: string[], local: Buffer | null): void {
    const endStream = local === null ? this.responseEndsAtHeaders : local.length === 0;
    if (!respondHttp2(h2, this.responseStatus, headers, endStream, local === null)) {
      this.complete = true;
      return;
    }
    if (local === null) return;
    if (!endStream) h2.end(local);
    this.complete = true;
    if (!h2.readableEnded) h2.resume();
  }
}

/** After the tick that wrote the response head: send it now if no body bytes followed it. */
function flushHeadOnly(stream: HttpStream): void {
  const res = stream.res as ServerResponse;
  if (stream.responseBodyBytes === 0 && !res.writableEnded && !res.destroyed) res.flushHeaders();
}
