// The workload behind a sidecar in the traffic scenarios: one process that answers as `--name`/`--version`
// over HTTP/1.1 and h2c on one port, relays WebSocket echo, serves gRPC (--grpc) or raw TCP (--tcp).
// Its behaviour can be changed while it runs (POST /_control with JSON: failStatus, failEvery, delayMs;
// GET /_stats → {served}),
// so a scenario can make an endpoint fail and recover. Prints one JSON ready line: {"ready":true,"port":N}.
//   HTTP: any path → 200 JSON {name, version, method, path, headers, served}; header x-served-by.
//         /upload (any method): reads the body, answers {bytes}; /download?bytes=N streams N bytes.
//   gRPC: /weft.test.Echo/Say (unary) and /weft.test.Echo/Chat (bidi) answer `NAME-VERSION:<message>`.
//   TCP:  writes `NAME-VERSION\n`, then echoes what it reads.
import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import http2 from 'node:http2';
import net, { type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { echoService, frame } from './protocols.ts';

const { values } = parseArgs({
  options: {
    name: { type: 'string', default: 'backend' },
    version: { type: 'string', default: 'v1' },
    grpc: { type: 'boolean', default: false },
    tcp: { type: 'boolean', default: false },
    'fail-status': { type: 'string' },
    'fail-every': { type: 'string' },
    'delay-ms': { type: 'string' },
  },
});
const identity = `${values.name}-${values.version}`;
const behaviour = {
  /** Answer with this status (HTTP) or UNAVAILABLE (gRPC); 0: healthy. */
  failStatus: Number(values['fail-status'] ?? 0),
  /** With failStatus: fail only every Nth request (1: all). */
  failEvery: Number(values['fail-every'] ?? 1),
  delayMs: Number(values['delay-ms'] ?? 0),
};
let served = 0;

function ready(port: number): void {
  process.stdout.write(JSON.stringify({ ready: true, name: values.name, version: values.version, port, pid: process.pid }) + '\n');
}

function failsNow(): boolean {
  served++;
  return behaviour.failStatus !== 0 && served % Math.max(1, behaviour.failEvery) === 0;
}

// ---- HTTP/1.1 and h2c

/** What both node:http's and node:http2's compatibility responses offer. */
interface Res {
  writeHead(status: number, headers: Record<string, string | number>): unknown;
  write(chunk: Buffer): boolean;
  end(data?: string): unknown;
  once(event: 'drain', listener: () => void): unknown;
}

function json(res: Res, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-served-by': identity });
  res.end(text);
}

function handle(req: IncomingMessage | http2.Http2ServerRequest, response: ServerResponse | http2.Http2ServerResponse): void {
  const res = response as unknown as Res;
  const url = new URL(req.url ?? '/', 'http://backend');
  if (url.pathname === '/_control' && req.method === 'POST') {
    let text = '';
    req.on('data', (c: Buffer) => (text += c));
    req.on('end', () => {
      Object.assign(behaviour, JSON.parse(text || '{}'));
      json(res, 200, behaviour);
    });
    return;
  }
  if (url.pathname === '/_stats') {
    req.resume();
    json(res, 200, { served });
    return;
  }
  if (url.pathname === '/upload') {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => json(res, 200, { name: values.name, version: values.version, bytes }));
    return;
  }
  if (url.pathname === '/download') {
    const total = Number(url.searchParams.get('bytes') ?? 0);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total, 'x-served-by': identity });
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
    return;
  }
  req.resume();
  const answer = () => {
    if (failsNow()) return json(res, behaviour.failStatus, { name: values.name, version: values.version, error: 'failing on purpose', served });
    json(res, 200, { name: values.name, version: values.version, method: req.method, path: req.url, headers: req.headers, served, httpVersion: req.httpVersion });
  };
  if (behaviour.delayMs > 0) setTimeout(answer, behaviour.delayMs);
  else answer();
}

/** A minimal RFC 6455 echo: unmasks client frames and sends them back unmasked (text, binary, ping → pong, close). */
function websocketEcho(req: IncomingMessage, socket: Socket): void {
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
    socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const accept = createHash('sha1').update(key + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\nx-served-by: ${identity}\r\n\r\n`);
  let buffered = Buffer.alloc(0);
  socket.on('data', (data: Buffer) => {
    buffered = Buffer.concat([buffered, data]);
    for (;;) {
      if (buffered.length < 2) return;
      const opcode = buffered[0] & 0x0f;
      let length = buffered[1] & 0x7f;
      let at = 2;
      if (length === 126) { if (buffered.length < 4) return; length = buffered.readUInt16BE(2); at = 4; }
      else if (length === 127) { if (buffered.length < 10) return; length = Number(buffered.readBigUInt64BE(2)); at = 10; }
      const masked = (buffered[1] & 0x80) !== 0;
      const mask = masked ? buffered.subarray(at, at + 4) : null;
      if (masked) at += 4;
      if (buffered.length < at + length) return;
      const payload = Buffer.from(buffered.subarray(at, at + length));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i % 4];
      buffered = buffered.subarray(at + length);
      if (opcode === 0x8) { socket.end(frame(0x8, payload)); return; }
      socket.write(frame(opcode === 0x9 ? 0xa : opcode, opcode === 0x1 ? Buffer.from(`${identity}:${payload}`) : payload));
    }
  });
  socket.on('error', () => socket.destroy());
}


function startHttp(): void {
  const h1 = http.createServer({ keepAliveTimeout: 60_000 }, handle);
  h1.on('upgrade', websocketEcho);
  const h2 = http2.createServer({}, handle);
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  const server = net.createServer((socket) => {
    socket.once('readable', () => {
      const head: Buffer | null = socket.read(preface.length) ?? socket.read();
      if (head === null) return;
      socket.unshift(head);
      (head.length >= 3 && head.subarray(0, 3).equals(preface.subarray(0, 3)) ? h2 : h1).emit('connection', socket);
    });
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as net.AddressInfo).port));
  process.on('SIGTERM', () => { h1.closeAllConnections(); server.close(); process.exit(0); });
}

// ---- gRPC


function startGrpc(): void {
  const server = new grpc.Server();
  server.addService(echoService, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      if (failsNow()) return cb({ code: grpc.status.UNAVAILABLE, details: `${identity} is failing on purpose` });
      const trailer = new grpc.Metadata();
      trailer.set('x-served-by', identity);
      cb(null, Buffer.from(`${identity}:${call.request.toString()}`), trailer);
    },
    Chat: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      call.on('data', (m: Buffer) => call.write(Buffer.from(`${identity}:${m.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    ready(port);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
}

// ---- TCP

function startTcp(): void {
  const server = net.createServer((socket) => {
    socket.write(`${identity}\n`);
    socket.pipe(socket);
    socket.on('error', () => socket.destroy());
  });
  server.listen(0, '127.0.0.1', () => ready((server.address() as net.AddressInfo).port));
  process.on('SIGTERM', () => { server.close(); process.exit(0); });
}

if (values.grpc) startGrpc();
else if (values.tcp) startTcp();
else startHttp();
