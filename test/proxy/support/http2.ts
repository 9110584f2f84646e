// HTTP/2 over plaintext (h2c, prior knowledge) for data plane tests: an upstream server that counts its
// connections and streams and by default answers with JSON describing what it received, and a client
// that sends one request on a session the test controls and collects status, headers, body, trailers
// and how the stream ended.
import http2 from 'node:http2';
import type net from 'node:net';
import { once } from 'node:events';

export type Http2Seen = { upstream: string; method: string; path: string; authority: string; headers: http2.IncomingHttpHeaders; body: string };

export type Http2Upstream = {
  name: string;
  port: number;
  server: http2.Http2Server;
  /** Sessions (connections) accepted. */
  sessions: number;
  /** Streams (requests) received. */
  streams: number;
  /** Sessions that have closed. */
  closedSessions: number;
  /** Streams open now, and the most open at once. */
  open: number;
  maxOpen: number;
  /** Gracefully closes the sessions open now (GOAWAY; their streams finish). */
  goaway(): void;
  close(): Promise<void>;
};

export type Http2Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

export async function startHttp2Upstream(name: string, handler?: Http2Handler, settings: http2.Settings = {}): Promise<Http2Upstream> {
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = http2.createServer({ settings });
  const upstream: Http2Upstream = {
    name, port: 0, server, sessions: 0, closedSessions: 0, streams: 0, open: 0, maxOpen: 0,
    goaway: () => { for (const s of sessions) s.close(); },
    close: async () => {
      for (const s of sessions) s.destroy();
      if (server.listening) await new Promise((r) => server.close(r));
    },
  };
  server.on('session', (session: http2.ServerHttp2Session) => {
    upstream.sessions++;
    sessions.add(session);
    session.on('close', () => {
      sessions.delete(session);
      upstream.closedSessions++;
    });
    session.on('error', () => {});
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    upstream.streams++;
    upstream.open++;
    upstream.maxOpen = Math.max(upstream.maxOpen, upstream.open);
    stream.on('close', () => { upstream.open--; });
    stream.on('error', () => {});
    if (handler) return handler(stream, headers);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const seen: Http2Seen = {
        upstream: name, method: String(headers[':method']), path: String(headers[':path']), authority: String(headers[':authority']),
        headers, body: Buffer.concat(chunks).toString(),
      };
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-upstream': name });
      stream.end(JSON.stringify(seen));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  upstream.port = (server.address() as net.AddressInfo).port;
  return upstream;
}

export type Http2Reply = {
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** The response headers came with END_STREAM (no body, no trailers). */
  endedWithHeaders: boolean;
  body: string;
  trailers: http2.IncomingHttpHeaders | null;
  /** RST_STREAM code when the stream was reset, else 0. */
  rstCode: number;
};

/** A session to the proxy's listener on `port`; the caller closes it. */
export function connect(port: number): http2.ClientHttp2Session {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on('error', () => {});
  return session;
}

/** One request on `session`; resolves when the stream closes (normally or reset). */
export function request(session: http2.ClientHttp2Session, path: string,
  options: { method?: string; authority?: string; headers?: http2.OutgoingHttpHeaders; body?: string | Buffer } = {}): Promise<Http2Reply> {
  return new Promise((resolve) => {
    const method = options.method ?? (options.body === undefined ? 'GET' : 'POST');
    const stream = session.request({
      ':method': method, ':path': path, ':authority': options.authority ?? 'example', ...options.headers,
    }, { endStream: options.body === undefined });
    const reply: Http2Reply = { status: 0, headers: {}, endedWithHeaders: false, body: '', trailers: null, rstCode: 0 };
    const chunks: Buffer[] = [];
    stream.on('response', (headers, flags) => {
      reply.status = Number(headers[':status']);
      reply.headers = headers;
      reply.endedWithHeaders = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('trailers', (trailers) => { reply.trailers = trailers; });
    stream.on('error', () => {});
    stream.on('close', () => {
      reply.body = Buffer.concat(chunks).toString();
      reply.rstCode = stream.rstCode ?? 0;
      resolve(reply);
    });
    if (options.body !== undefined) stream.end(options.body);
  });
}

/** Cluster fields that make it speak HTTP/2 to its endpoints (HttpProtocolOptions explicit_http_config). */
export function http2Cluster(http2Options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: http2Options },
      },
    },
  };
}

/** Cluster fields for use_downstream_protocol_config: the endpoint is spoken to in the downstream's protocol. */
export function downstreamProtocolCluster(): Record<string, unknown> {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} },
      },
    },
  };
}
