// One HTTP request/response exchange (Envoy's ActiveStream): what the connection manager parsed, the
// config it captured when the request started (route table and cluster set: it finishes on them even
// if a swap happens meanwhile), the filter iteration, local replies and the response flags.
// Every field is set in the constructor (stable shape, DESIGN.md habit 7).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpConnectionManagerStats } from '../telemetry/stat-objects.ts';
import type { ClusterSet } from '../upstream/cluster-manager.ts';
import { FilterStatus, type HttpFilter } from './filters/filter.ts';
import type { ParsedRequest } from './headers.ts';
import type { RequestView } from './routing/header-matcher.ts';
import type { HeaderMutations } from './routing/header-mutation.ts';
import type { Route, RouteTable } from './routing/route-table.ts';

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

const emptyBody = Buffer.alloc(0);
const textPlain = 'text/plain';

export class HttpStream implements RequestView, ParsedRequest {
  readonly owner: StreamOwner;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly method: string;
  authority = '';
  path = '';
  requestHeaders: string[] = [];
  hasBody = false;
  hasForwardedProto = false;
  requestId: string | null = null;
  /** Captured at the start: the route table (null: RDS not arrived, NR) and the cluster set. */
  readonly routeTable: RouteTable | null;
  readonly clusters: ClusterSet;
  route: Route | null = null;
  /** ResponseFlag bits (telemetry/response-flags.ts). */
  responseFlags = 0;
  responseStatus = 0;
  responseHeaders: string[] | null = null;
  /**
   * The route's response header mutations (of the chosen weighted cluster), set by the router once it
   * has a route: applied to the upstream response and to the router's local replies, as Envoy's
   * finalizeResponseHeaders. null: none (and for local replies of filters before the router).
   */
  responseMutations: HeaderMutations | null = null;
  /** The body of a local reply, written with the headers; null for a proxied response. */
  localBody: Buffer | null = null;
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

  constructor(owner: StreamOwner, req: IncomingMessage, res: ServerResponse, routeTable: RouteTable | null, clusters: ClusterSet) {
    this.owner = owner;
    this.req = req;
    this.res = res;
    this.method = req.method ?? 'GET';
    this.routeTable = routeTable;
    this.clusters = clusters;
    this.startTime = performance.now();
  }

  /** Runs the decoder filters from `decodeIndex` until one stops. */
  decodeHeaders(): void {
    const filters = this.owner.filters;
    for (let i = this.decodeIndex; i < filters.length; i++) {
      this.decodeIndex = i;
      if (filters[i].decodeHeaders(this) === FilterStatus.StopIteration || this.complete) return;
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
   * After the response started, the only thing left to do is to reset the stream.
   */
  sendLocalReply(status: number, body: Buffer | null, flags: number, location: string | null = null): void {
    this.responseFlags |= flags;
    if (this.complete) return;
    if (this.headersWritten) {
      this.reset();
      return;
    }
    const payload = body ?? emptyBody;
    this.responseStatus = status;
    const headers = payload.length > 0
      ? ['content-length', String(payload.length), 'content-type', textPlain]
      : ['content-length', '0'];
    if (location !== null) headers.push('location', location);
    if (this.responseMutations !== null) this.responseMutations.apply(headers);
    this.responseHeaders = headers;
    this.localBody = payload;
    this.encodeHeaders();
  }

  /**
   * A gRPC local reply: HTTP 200, content-type application/grpc, and grpc-status / grpc-message as a
   * trailers-only response (HTTP/1.1 has no trailers-only form: they are sent as headers, no body).
   */
  sendGrpcLocalReply(grpcStatus: number, grpcMessage: string, flags: number): void {
    this.responseFlags |= flags;
    if (this.complete) return;
    if (this.headersWritten) {
      this.reset();
      return;
    }
    this.responseStatus = 200;
    this.responseHeaders = [
      'content-type', 'application/grpc', 'grpc-status', String(grpcStatus), 'grpc-message', grpcMessage, 'content-length', '0',
    ];
    if (this.responseMutations !== null) this.responseMutations.apply(this.responseHeaders);
    this.localBody = emptyBody;
    this.encodeHeaders();
  }

  /** Aborts the downstream side (HTTP/1.1: closes the connection). */
  reset(): void {
    if (this.complete) return;
    this.complete = true;
    this.res.destroy();
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
    if (this.owner.draining) headers.push('connection', 'close');
    this.headersWritten = true;
    this.owner.stats.recordResponse(this.responseStatus);
    this.res.writeHead(this.responseStatus, headers);
    if (this.localBody !== null) {
      this.res.end(this.localBody);
      this.complete = true;
    }
  }
}
