// A small WebSocket echo server for tests (RFC 6455, unfragmented frames: what Node's WebSocket client
// sends): text and binary messages are echoed; the text message "close please" makes the server start
// the closing handshake. Upgrade requests to /reject are answered 404 instead of 101, and to /silent
// not at all. Node's global WebSocket is the client.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { once } from 'node:events';

export type WebSocketServer = {
  port: number;
  /** Upgrades accepted (101 sent). */
  upgrades: number;
  /** Upgrade requests' headers, in order. */
  requests: http.IncomingHttpHeaders[];
  /** Accepted connections that have closed. */
  closed: number;
  /** Close frames received from clients. */
  closeFrames: number;
  close(): Promise<void>;
};

const guid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x80 | opcode, length])
    : length < 65536 ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
      : Buffer.concat([Buffer.from([0x80 | opcode, 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
  return Buffer.concat([head, payload]);
}

/** Parses the complete client frames at the start of `data`; returns them and what is left over. */
function parseFrames(data: Buffer): { frames: { opcode: number; payload: Buffer }[]; rest: Buffer } {
  const frames: { opcode: number; payload: Buffer }[] = [];
  let at = 0;
  for (;;) {
    if (data.length - at < 2) break;
    const opcode = data[at] & 0x0f;
    const masked = (data[at + 1] & 0x80) !== 0;
    let length = data[at + 1] & 0x7f;
    let offset = at + 2;
    if (length === 126) {
      if (data.length < offset + 2) break;
      length = data.readUInt16BE(offset);
      offset += 2;
    } else if (length === 127) {
      if (data.length < offset + 8) break;
      length = Number(data.readBigUInt64BE(offset));
      offset += 8;
    }
    const maskBytes = masked ? 4 : 0;
    if (data.length < offset + maskBytes + length) break;
    const payload = Buffer.from(data.subarray(offset + maskBytes, offset + maskBytes + length));
    if (masked) {
      const mask = data.subarray(offset, offset + 4);
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
    }
    frames.push({ opcode, payload });
    at = offset + maskBytes + length;
  }
  return { frames, rest: data.subarray(at) };
}

export async function startWebSocketServer(): Promise<WebSocketServer> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    res.end('plain http');
  });
  const state: WebSocketServer = {
    port: 0, upgrades: 0, requests: [], closed: 0, closeFrames: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    state.requests.push(req.headers);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (req.url === '/reject') {
      socket.end('HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: 9\r\n\r\nno socket');
      return;
    }
    if (req.url === '/silent') return;
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}${guid}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`);
    state.upgrades++;
    socket.on('close', () => { state.closed++; });
    let pending = Buffer.alloc(0);
    let closing = false;
    socket.on('data', (chunk: Buffer) => {
      const { frames, rest } = parseFrames(Buffer.concat([pending, chunk]));
      pending = Buffer.from(rest);
      for (const { opcode, payload } of frames) {
        if (opcode === 0x8) {
          state.closeFrames++;
          if (!closing) socket.write(frame(0x8, payload.subarray(0, 2)));
          socket.end();
          return;
        }
        if (opcode === 0x9) socket.write(frame(0xa, payload));
        else if (opcode === 0x1 && payload.toString() === 'close please') {
          closing = true;
          const code = Buffer.alloc(2);
          code.writeUInt16BE(1000);
          socket.write(frame(0x8, code));
        } else if (opcode === 0x1 || opcode === 0x2) socket.write(frame(opcode, payload));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

/** Opens a WebSocket (Node's client) to `url`; resolves once open, rejects on error. */
export function openWebSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`WebSocket to ${url} failed`)), { once: true });
  });
}

/** Sends `text` and resolves with the next message. */
export function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.addEventListener('message', (event) => resolve(String(event.data)), { once: true });
    ws.send(text);
  });
}
