// One request on an HTTP/2 connection to an endpoint: the pool's request, an undici-style dispatch
// handler (onConnect, onHeaders, onData, onComplete, onError: what UpstreamRequest and MirrorRequest
// implement), driven by a node:http2 ClientHttp2Stream. Full duplex: the request body is piped into
// the stream with backpressure while the response (headers, data, trailers) comes back, as gRPC's
// client, server and bidi streaming need; a paused handler pauses the stream (HTTP/2 flow control
// then holds the endpoint back).
//
// The stream's listeners are shared functions (the exchange hangs off the stream), so a request
// allocates the exchange, its two callbacks for the handler and its header list, not a closure per event.
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { Readable } from 'node:stream';
import type { PooledRequest } from './endpoint-pool.ts';
import type { Http2Connection } from './http2-connection.ts';

const { NGHTTP2_CANCEL, NGHTTP2_FLAG_END_STREAM, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM } = http2.constants;
const kExchange = Symbol('weft.http2Exchange');

type TrackedStream = ClientHttp2Stream & { [kExchange]: Http2Exchange };

/** Request header fields HTTP/2 forbids (RFC 9113 §8.2.2; te is added back as `te: trailers` when the downstream sent it). */
const dropped = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'te']);

/** The router's request (method, path, flat header list with `host`) → node:http2's raw header list. */
function requestHeaders(request: PooledRequest, defaultAuthority: string, scheme: string): string[] {
  const options = request.dispatchOptions;
  const out = [':method', options.method, ':scheme', scheme, ':authority', defaultAuthority, ':path', options.path];
  const raw = (options.headers ?? []) as string[];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name === 'host') out[5] = raw[i + 1];
    else if (!dropped.has(name)) out.push(name, raw[i + 1]);
  }
  if (request.teTrailers) out.push('te', 'trailers');
  return out;
}

function onResponse(this: TrackedStream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
  const exchange = this[kExchange];
  if (exchange.done) return;
  const raw: Buffer[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i];
    if (name.charCodeAt(0) === 58 /* : */) continue;
    raw.push(Buffer.from(name, 'latin1'), Buffer.from(rawHeaders[i + 1], 'latin1'));
  }
  const request = exchange.request;
  request.responseEndsAtHeaders = (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
  if (request.onHeaders?.(Number(headers[':status']), raw, exchange.resume, '') === false) this.pause();
}

function onData(this: TrackedStream, chunk: Buffer): void {
  const exchange = this[kExchange];
  if (exchange.done) return;
  if (exchange.request.onData?.(chunk) === false) this.pause();
}

function onTrailers(this: TrackedStream, _trailers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  const trailers: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].charCodeAt(0) !== 58 /* : */) trailers.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  this[kExchange].trailers = trailers;
}

/**
 * The response is complete (its END_STREAM), or the stream was reset: node ends the readable side
 * then too, with the reset's code already set, and 'close' reports the failure.
 */
function onEnd(this: TrackedStream): void {
  const exchange = this[kExchange];
  if (exchange.done) return;
  const code = this.rstCode;
  if (code !== undefined && code !== NGHTTP2_NO_ERROR) return;
  exchange.done = true;
  exchange.unpipeBody();
  // The endpoint answered before the request was all sent: stop sending it (RST_STREAM NO_ERROR, as Envoy).
  if (!this.writableEnded) this.close(NGHTTP2_NO_ERROR);
  exchange.request.onComplete?.(exchange.trailers ?? []);
}

function onRequestSent(this: TrackedStream): void {
  const exchange = this[kExchange];
  if (!exchange.done) exchange.request.onRequestSent?.();
}

function onStreamError(this: TrackedStream, err: Error): void {
  this[kExchange].error ??= err;
}

function onClose(this: TrackedStream): void {
  const exchange = this[kExchange];
  exchange.release();
  if (exchange.done) return;
  exchange.done = true;
  exchange.unpipeBody();
  exchange.request.onError?.(exchange.error ?? resetError(this.rstCode));
}

function resetError(code: number | undefined): Error {
  return new Error(code === NGHTTP2_REFUSED_STREAM ? 'upstream refused the stream' : `upstream stream reset (HTTP/2 error code ${code ?? 'unknown'})`);
}

export class Http2Exchange {
  readonly request: PooledRequest;
  readonly connection: Http2Connection;
  stream: ClientHttp2Stream | null = null;
  body: Readable | null = null;
  /** Why it failed: abort()'s reason, or the stream's error. */
  error: Error | null = null;
  /** The handler has its outcome (onComplete or onError). */
  done = false;
  /** It holds one of the connection's concurrent streams (until release()). */
  holding = true;
  trailers: string[] | null = null;
  /** For the handler: onConnect's abort, onHeaders' resume. */
  readonly abort: (err?: Error) => void;
  readonly resume: () => void;

  constructor(request: PooledRequest, connection: Http2Connection) {
    this.request = request;
    this.connection = connection;
    this.abort = this.onAbort.bind(this);
    this.resume = this.onResume.bind(this);
  }

  /** The connection is up: gives the handler its abort, then opens the stream and sends the request. */
  start(session: ClientHttp2Session, defaultAuthority: string): void {
    const request = this.request;
    request.onConnect?.(this.abort);
    if (this.error !== null) {
      this.fail(this.error);
      return;
    }
    const options = request.dispatchOptions;
    const body = (options.body ?? null) as Readable | null;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(requestHeaders(request, defaultAuthority, session.encrypted ? 'https' : 'http'), { endStream: body === null });
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.stream = stream;
    (stream as TrackedStream)[kExchange] = this;
    stream.on('response', onResponse);
    stream.on('data', onData);
    stream.on('trailers', onTrailers);
    stream.on('end', onEnd);
    stream.on('error', onStreamError);
    stream.on('close', onClose);
    stream.once('finish', onRequestSent);
    if (body !== null) {
      this.body = body;
      body.pipe(stream);
    }
  }

  /** Fails it without a stream (the connection failed, or it was aborted before its stream opened). */
  fail(err: Error): void {
    this.release();
    if (this.done) return;
    this.done = true;
    this.request.onError?.(err);
  }

  /** Gives its concurrent-stream slot back to the connection (once). */
  release(): void {
    if (!this.holding) return;
    this.holding = false;
    this.connection.streamClosed();
  }

  unpipeBody(): void {
    if (this.body !== null && this.stream !== null) this.body.unpipe(this.stream);
  }

  private onAbort(err?: Error): void {
    if (this.done) return;
    this.error ??= err ?? new Error('upstream request aborted');
    const stream = this.stream;
    if (stream === null) return; // not started: start() fails it after onConnect
    this.unpipeBody();
    stream.close(NGHTTP2_CANCEL);
  }

  private onResume(): void {
    this.stream?.resume();
  }
}
