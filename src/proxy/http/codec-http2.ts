// The HTTP/2 codec of the connection manager (h2c: HTTP/2 over plaintext with prior knowledge): a
// node:http2 server that never listens itself (the connection manager hands it the connections that
// start with the HTTP/2 preface), used through its core API: one ServerHttp2Stream per request, which
// is both the stream's request body (its readable side) and its response (its writable side). The
// compatibility API (Http2ServerRequest / Http2ServerResponse) is not used: it adds two objects per
// stream and always ends a response with a trailers frame, and it cannot send a trailers-only
// response (HEADERS with END_STREAM), which gRPC clients need.
//
// Responses: the status and headers go out in one respond() (connection-specific fields, which HTTP/2
// forbids, are dropped); a proxied response that does not end with its headers waits for trailers
// (waitForTrailers), so that the upstream's trailers, if any, can follow the body; with none node
// sends an empty trailers frame.
import http2, { type OutgoingHttpHeaders, type ServerHttp2Stream, type ServerStreamResponseOptions } from 'node:http2';
import type { Http2Settings } from './connection-manager-config.ts';
import { connectionSpecific } from './headers.ts';

const { NGHTTP2_INTERNAL_ERROR } = http2.constants;

/** Envoy's default max_request_headers_kb (60 KiB), as for HTTP/1.1. */
const maxHeaderListSize = 60 * 1024;

export type Http2StreamListener = (stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * The server half of the codec. `onSession` runs synchronously when a connection is handed over
 * (server.emit('connection', socket)), before any stream of it.
 */
export function createHttp2Server(settings: Http2Settings, onStream: Http2StreamListener,
  onSession: (session: http2.ServerHttp2Session) => void): http2.Http2Server {
  const local: http2.Settings = { maxHeaderListSize };
  if (settings.maxConcurrentStreams !== null) local.maxConcurrentStreams = settings.maxConcurrentStreams;
  if (settings.initialStreamWindowSize !== null) local.initialWindowSize = settings.initialStreamWindowSize;
  const server = http2.createServer({ settings: local });
  server.on('stream', onStream);
  const connectionWindow = settings.initialConnectionWindowSize;
  server.on('session', (session: http2.ServerHttp2Session) => {
    // Errors reach the streams (their 'close'); this only keeps a stray 'error' from crashing the process.
    session.on('error', ignore);
    if (connectionWindow !== null) session.setLocalWindowSize(connectionWindow);
    onSession(session);
  });
  return server;
}

export function ignore(): void {}

/**
 * [':status', status, name, value, ...] for respond(): the flat header list of the stream, less the
 * fields HTTP/2 forbids (an HTTP/1.1 upstream's hop-by-hop headers are already gone; a header mutation
 * could still add one).
 */
export function http2ResponseHeaders(status: number, headers: string[]): string[] {
  const out = [':status', String(status)];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (connectionSpecific.has(name)) continue;
    out.push(name, headers[i + 1]);
  }
  return out;
}

/**
 * Writes the response head. `endStream`: nothing follows (a local reply without body, a trailers-only
 * or empty upstream response); otherwise a proxied response waits for trailers. Returns false when
 * the stream is gone or a header is invalid for HTTP/2 (the stream is then reset).
 */
export function respondHttp2(stream: ServerHttp2Stream, status: number, headers: string[], endStream: boolean, proxied: boolean): boolean {
  if (stream.destroyed || stream.closed) return false;
  try {
    const options: ServerStreamResponseOptions & { sendDate: boolean } = {
      endStream,
      waitForTrailers: proxied && !endStream,
      // (Not in node's typings, honoured by respond().) A proxied response carries the upstream's date
      // if it has one; a local reply gets one, as on HTTP/1.1.
      sendDate: !proxied,
    };
    stream.respond(http2ResponseHeaders(status, headers), options);
    return true;
  } catch {
    stream.close(NGHTTP2_INTERNAL_ERROR);
    return false;
  }
}

/** 'wantTrailers' of a stream whose upstream response ended with trailers (stored by the stream). */
export function sendHttp2Trailers(stream: ServerHttp2Stream, trailers: OutgoingHttpHeaders): void {
  if (stream.destroyed || stream.closed) return;
  try {
    stream.sendTrailers(trailers);
  } catch {
    stream.close(NGHTTP2_INTERNAL_ERROR);
  }
}

/** Resets a stream (RST_STREAM INTERNAL_ERROR): the response cannot be completed. */
export function resetHttp2(stream: ServerHttp2Stream): void {
  if (!stream.destroyed) stream.close(NGHTTP2_INTERNAL_ERROR);
}
