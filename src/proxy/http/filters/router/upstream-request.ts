// The router's request to one endpoint: the undici dispatch handler (legacy callback API, undici's
// native one: no wrapper objects, raw header buffers) that streams the response downstream with
// backpressure both ways, applies the route timeout, and turns failures into Envoy's local replies.
// One object per request, or per attempt when the route retries (retry-state.ts drives the attempts
// then, and this object's timer is the per-try timeout); its callbacks are prototype methods and the
// timer takes it as an argument, so no closure is allocated per request (DESIGN.md habit 7).
//
// The same handler runs on HTTP/1.1 connections (undici) and HTTP/2 ones (the pool's http2-exchange.ts),
// and writes to either downstream codec: trailers the upstream sends go downstream with the end of the
// response (HttpStream.finishResponse), and a response that ends with its headers (gRPC trailers-only)
// is flagged so that an HTTP/2 downstream gets it as one HEADERS frame with END_STREAM.
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { ResponseFlag } from '../../../telemetry/response-flags.ts';
import type { Cluster } from '../../../upstream/cluster.ts';
import type { ConnectionSlot, EndpointPool, PooledRequest } from '../../../upstream/endpoint-pool.ts';
import type { Http2Connection } from '../../../upstream/http2-connection.ts';
import type { Host } from '../../../upstream/host.ts';
import { responseHeaders } from '../../headers.ts';
import { DetachedBody } from '../../request-body.ts';
import type { Route } from '../../routing/route-table.ts';
import { Protocol, type HttpStream, type StreamUpstream } from '../../stream.ts';
import type { RetryState } from './retry-state.ts';
import { exchangeResponseHeaders, exchangeUpstreamHost } from '../metadata-exchange/exchange.ts';

const resetBefore = 'upstream connect error or disconnect/reset before headers. reset reason: ';
export const LocalReplyBody = {
  connectionFailure: Buffer.from(`${resetBefore}connection failure`),
  connectionTimeout: Buffer.from(`${resetBefore}connection timeout`),
  connectionTermination: Buffer.from(`${resetBefore}connection termination`),
  protocolError: Buffer.from(`${resetBefore}protocol error`),
  overflow: Buffer.from(`${resetBefore}overflow`),
  noHealthyUpstream: Buffer.from('no healthy upstream'),
  timeout: Buffer.from('upstream request timeout'),
} as const;

const cancelled = new Error('upstream request cancelled');

/** Why an attempt failed before its response started (for the retry decision). */
export const ResetKind = { ConnectFailure: 0, Reset: 1, PerTryTimeout: 2 } as const;
export type ResetKind = (typeof ResetKind)[keyof typeof ResetKind];

/**
 * The route timed out (Envoy UT): a response already under way is reset; otherwise the downstream
 * gets 504 `upstream request timeout`, charged to the cluster.
 */
export function answerTimeout(stream: HttpStream, stats: Cluster['stats'], responseStarted: boolean): void {
  if (responseStarted) {
    stream.responseFlags |= ResponseFlag.UpstreamRequestTimeout;
    stream.reset();
  } else {
    stats.recordCode(504);
    stream.sendLocalReply(504, LocalReplyBody.timeout, ResponseFlag.UpstreamRequestTimeout);
  }
}

function onRouteTimeout(request: UpstreamRequest): void {
  request.onTimeout();
}

/** Whether a flat header list has `content-length: 0` (an HTTP/1.1 response that ends with its headers). */
function hasZeroContentLength(headers: string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'content-length') return headers[i + 1] === '0';
  return false;
}

export class UpstreamRequest implements PooledRequest, StreamUpstream {
  readonly dispatchOptions: Dispatcher.DispatchOptions;
  slot: ConnectionSlot | Http2Connection | null = null;
  pending = false;
  cancelled = false;
  readonly downstreamHttp2: boolean;
  readonly teTrailers: boolean;
  responseEndsAtHeaders = false;
  readonly stream: HttpStream;
  readonly cluster: Cluster;
  readonly host: Host;
  readonly pool: EndpointPool;
  /** The retries of the request when its route has a retry policy; null on the plain path. */
  readonly retry: RetryState | null;
  /** The route timeout (plain path) or the per-try timeout (with a retry policy); 0: none. */
  readonly timeoutMs: number;
  timer: NodeJS.Timeout | null = null;
  abortUpstream: ((err?: Error) => void) | null = null;
  resumeUpstream: (() => void) | null = null;
  /** The request was written on a connection (undici onConnect). */
  connected = false;
  headersReceived = false;
  /** Done as far as the stream is concerned (completed, failed, timed out or cancelled). */
  finished = false;
  /** A body chunk that arrived while an encoder filter held the headers. */
  heldChunk: Buffer | null = null;
  /** The upstream completed while an encoder filter held the headers. */
  completedWhileHeld = false;
  /** The upstream's trailers when it completed while the headers were held. */
  heldTrailers: readonly (Buffer | string)[] | null = null;
  listeningForDrain = false;
  /** Inside onHeaders: a filter resuming synchronously must not resume undici's parser re-entrantly. */
  inOnHeaders = false;
  resumedInOnHeaders = false;

  /** `body`: the request body on the plain path (the downstream request, or a mirror tee's main side); null with a retry state. */
  constructor(stream: HttpStream, route: Route, cluster: Cluster, host: Host, retry: RetryState | null, body: Readable | null) {
    this.stream = stream;
    this.cluster = cluster;
    this.host = host;
    this.pool = host.pool;
    this.retry = retry;
    this.downstreamHttp2 = stream.protocol === Protocol.Http2;
    this.teTrailers = stream.acceptsTrailers;
    stream.upstreamHost = host.key;
    exchangeUpstreamHost(stream, host.workload);
    const action = route.action!;
    if (retry === null) {
      this.timeoutMs = action.timeoutMs;
      const headers = stream.requestHeaders;
      const authority = action.hostRewrite ?? stream.authority;
      if (authority !== '') headers.push('host', authority);
      this.dispatchOptions = {
        method: stream.method as Dispatcher.HttpMethod,
        path: route.rewritePath(stream.path),
        headers,
        // undici must not destroy an HTTP/2 downstream stream (it is the response too) when done with its body.
        body: body !== null && body === stream.h2 && !this.pool.speaksHttp2(true) ? new DetachedBody(body) : body,
      };
    } else {
      // The retry state added the host header and rewrote the path once for all attempts.
      this.timeoutMs = action.perTryTimeoutMs;
      this.dispatchOptions = {
        method: stream.method as Dispatcher.HttpMethod,
        path: retry.path,
        headers: stream.requestHeaders,
        body: retry.body === null ? null : retry.body.attach(),
      };
    }
  }

  /** Hands the request to the endpoint's pool. */
  start(): void {
    const stats = this.cluster.stats;
    stats.upstreamRqTotal++;
    stats.upstreamRqActive++;
    this.host.activeRequests++;
    if (this.retry === null) this.stream.upstream = this;
    if (!this.pool.dispatch(this)) {
      this.finished = true;
      stats.upstreamRqActive--;
      this.host.activeRequests--;
      stats.upstreamRqPendingOverflow++;
      stats.recordCode(503);
      this.retry?.onFinal();
      this.stream.sendLocalReply(503, LocalReplyBody.overflow, ResponseFlag.UpstreamOverflow);
      return;
    }
    // Envoy's route timeout runs from the end of the downstream request: a request without a body
    // has ended now; one with a body when it has all been sent (onRequestSent).
    if (!this.stream.hasBody && !this.finished) this.startTimer();
  }

  // ---- undici handler (called by the connection)

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    this.connected = true;
    this.pool.started(this);
    if (this.finished) abort(cancelled);
  }

  onRequestSent(): void {
    if (this.stream.hasBody && !this.finished) this.startTimer();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx informational: not forwarded
    const headers = responseHeaders(rawHeaders);
    if (headers === null) {
      // Not relayable: fail the attempt as a protocol error (onError), the connection with it.
      if (this.abortUpstream !== null) this.abortUpstream(invalidResponse);
      else this.onError(invalidResponse);
      return false;
    }
    this.host.recordResponse(statusCode);
    const retry = this.retry;
    if (retry !== null) {
      // Retried: this attempt was abandoned, and its response goes nowhere.
      if (retry.onAttemptHeaders(this, statusCode, rawHeaders)) return false;
      // As Envoy: once the response goes downstream the per-try timeout no longer applies.
      this.clearTimer();
      retry.onResponseStarted();
    }
    this.headersReceived = true;
    this.resumeUpstream = resume;
    this.cluster.stats.recordCode(statusCode);
    const stream = this.stream;
    stream.responseStatus = statusCode;
    if (stream.h2 !== null) {
      const slot = this.slot;
      stream.responseEndsAtHeaders = slot !== null && slot.http2 ? this.responseEndsAtHeaders : hasZeroContentLength(headers);
    }
    exchangeResponseHeaders(stream, headers);
    if (stream.responseMutations !== null) stream.responseMutations.apply(headers);
    stream.responseHeaders = headers;
    this.inOnHeaders = true;
    const written = stream.encodeHeaders();
    this.inOnHeaders = false;
    return written || this.resumedInOnHeaders;
  }

  onData(chunk: Buffer): boolean {
    const stream = this.stream;
    if (!stream.headersWritten) {
      this.heldChunk = chunk;
      return false;
    }
    stream.responseBodyBytes += chunk.length;
    if (stream.res.write(chunk)) return true;
    // Backpressure: pause the upstream parser until the downstream socket drains.
    if (!this.listeningForDrain) {
      this.listeningForDrain = true;
      stream.res.on('drain', this.resumeUpstream!);
    }
    return false;
  }

  /** `trailers`: raw (undici: Buffers; HTTP/2: strings); empty or null when none. */
  onComplete(trailers: string[] | null): void {
    this.clearTimer();
    this.pool.release(this);
    if (this.finished) return;
    this.finish();
    this.retry?.onFinal();
    if (this.stream.headersWritten) {
      this.stream.finishResponse(trailers);
    } else {
      this.completedWhileHeld = true;
      this.heldTrailers = trailers;
    }
  }

  onError(err: Error): void {
    this.clearTimer();
    this.pool.release(this);
    if (this.finished) return;
    this.finish();
    const stream = this.stream;
    const retry = this.retry;
    if (this.headersReceived) {
      // Reset after the response started: all that can be done is to abort the downstream too.
      retry?.onFinal();
      stream.responseFlags |= ResponseFlag.UpstreamRemoteReset;
      stream.reset();
      return;
    }
    this.host.recordLocalOriginFailure();
    if (retry !== null) {
      if (retry.onAttemptReset(this, this.connected ? ResetKind.Reset : ResetKind.ConnectFailure)) return;
      retry.onFinal();
    }
    if (isProtocolError(err)) {
      // Envoy: a response that is not valid HTTP/1.1 (smuggling attempts among them) is a 502.
      this.cluster.stats.recordCode(502);
      stream.sendLocalReply(502, LocalReplyBody.protocolError, ResponseFlag.UpstreamProtocolError);
      return;
    }
    this.cluster.stats.recordCode(503);
    if (!this.connected) {
      const timeout = (err as { code?: string }).code === 'UND_ERR_CONNECT_TIMEOUT';
      stream.sendLocalReply(503, timeout ? LocalReplyBody.connectionTimeout : LocalReplyBody.connectionFailure,
        ResponseFlag.UpstreamConnectionFailure);
    } else {
      stream.sendLocalReply(503, LocalReplyBody.connectionTermination, ResponseFlag.UpstreamConnectionTermination);
    }
  }

  // ---- driven by the stream

  onStreamReset(): void {
    if (this.finished) return;
    this.stream.responseFlags |= ResponseFlag.DownstreamConnectionTermination;
    this.cluster.stats.upstreamRqCancelled++;
    this.cancel();
  }

  onHeadersWritten(): void {
    if (this.inOnHeaders) {
      this.resumedInOnHeaders = true;
      return;
    }
    const chunk = this.heldChunk;
    this.heldChunk = null;
    if (chunk !== null) this.stream.responseBodyBytes += chunk.length;
    if (chunk !== null && !this.stream.res.write(chunk) && !this.completedWhileHeld) {
      this.listeningForDrain = true;
      this.stream.res.on('drain', this.resumeUpstream!);
      return;
    }
    if (this.completedWhileHeld) this.stream.finishResponse(this.heldTrailers);
    else this.resumeUpstream?.();
  }

  onTimeout(): void {
    this.timer = null;
    if (this.finished) return;
    if (this.retry !== null) {
      this.onPerTryTimeout(this.retry);
      return;
    }
    const stream = this.stream;
    const stats = this.cluster.stats;
    stats.upstreamRqTimeout++;
    const started = this.headersReceived;
    if (!started) this.host.recordLocalOriginFailure();
    this.cancel();
    answerTimeout(stream, stats, started);
  }

  /** Envoy's per-try timeout: a retriable reset (5xx, gateway-error, reset), else 504 UT. */
  private onPerTryTimeout(retry: RetryState): void {
    const stats = this.cluster.stats;
    stats.upstreamRqPerTryTimeout++;
    this.host.recordLocalOriginFailure();
    this.cancel();
    if (retry.onAttemptReset(this, ResetKind.PerTryTimeout)) return;
    retry.onFinal();
    stats.recordCode(504);
    this.stream.sendLocalReply(504, LocalReplyBody.timeout, ResponseFlag.UpstreamRequestTimeout);
  }

  /** Drops this attempt without answering the stream (it is retried, or the retry state answered). */
  abandon(): void {
    if (!this.finished) this.cancel();
  }

  // ----

  private startTimer(): void {
    // With a retry policy the route timeout is the retry state's (it spans all attempts); the timer
    // here is the per-try timeout.
    this.retry?.startRouteTimer();
    if (this.timeoutMs > 0 && this.timer === null) this.timer = setTimeout(onRouteTimeout, this.timeoutMs, this);
  }

  private clearTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private finish(): void {
    this.finished = true;
    this.cluster.stats.upstreamRqActive--;
    this.host.activeRequests--;
    if (this.listeningForDrain) this.stream.res.off('drain', this.resumeUpstream!);
  }

  /** Gives up on the upstream side: dequeues it, or aborts it on its connection. */
  private cancel(): void {
    this.clearTimer();
    this.finish();
    if (this.slot === null) this.pool.cancel(this);
    else if (this.abortUpstream !== null) this.abortUpstream(cancelled);
    // else: still connecting; onConnect aborts it.
  }
}

const invalidResponse = new Error('upstream response with an unsupported transfer-encoding');

/**
 * A response that is not valid HTTP/1.1: undici's parser errors (llhttp's, and a body longer or
 * shorter than its content-length), and one refused here (invalidResponse).
 */
function isProtocolError(err: Error): boolean {
  return err === invalidResponse || err.name === 'HTTPParserError' || (err as { code?: string }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH';
}
