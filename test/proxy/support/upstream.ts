// Real upstream HTTP servers on 127.0.0.1:0 for data plane tests. By default each answers with JSON
// describing what it received, so a test can tell which upstream served a request and how.
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';

export type Seen = { upstream: string; method: string; url: string; headers: http.IncomingHttpHeaders; rawHeaders: string[] };

export type Upstream = {
  name: string;
  port: number;
  server: http.Server;
  /** Requests received. */
  count: number;
  /** Connections accepted (to observe pooling). */
  connections: number;
  openConnections: Set<net.Socket>;
  close(): Promise<void>;
};

export async function startUpstream(name: string, handler?: http.RequestListener): Promise<Upstream> {
  const upstream: Upstream = {
    name, port: 0, count: 0, connections: 0, openConnections: new Set(),
    server: http.createServer((req, res) => {
      upstream.count++;
      if (handler) return handler(req, res);
      req.resume();
      const seen: Seen = { upstream: name, method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders };
      const body = JSON.stringify(seen);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream': name });
      res.end(body);
    }),
    close: async () => {
      upstream.server.closeAllConnections();
      if (upstream.server.listening) await new Promise((r) => upstream.server.close(r));
    },
  };
  upstream.server.keepAliveTimeout = 30_000;
  upstream.server.on('connection', (socket: net.Socket) => {
    upstream.connections++;
    upstream.openConnections.add(socket);
    socket.once('close', () => upstream.openConnections.delete(socket));
  });
  upstream.server.listen(0, '127.0.0.1');
  await once(upstream.server, 'listening');
  upstream.port = (upstream.server.address() as net.AddressInfo).port;
  return upstream;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}
