// An upstream that speaks HTTP/1.1 and h2c on one port (told apart by the HTTP/2 preface, as the
// proxy's own listeners do) and answers with the protocol each request arrived in.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { once } from 'node:events';

export type DualUpstream = { port: number; close(): Promise<void> };

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export async function startDualUpstream(): Promise<DualUpstream> {
  const answer = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ httpVersion: req.httpVersion }));
  };
  const h1 = http.createServer(answer);
  const h2 = http2.createServer(answer);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, preface.length);
      const isHttp2 = seen.subarray(0, n).equals(preface.subarray(0, n));
      if (isHttp2 && n < preface.length) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isHttp2) h2.emit('connection', socket);
      else {
        h1.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
