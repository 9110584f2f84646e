// Real ClientHello bytes, as node:tls sends them: a TLS client connects to a plain TCP server that
// records what arrives until the ClientHello is complete (by its record lengths), then hangs up.
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';

/** Total length of the handshake records at the start of `data` once they hold a whole handshake message, else 0. */
function clientHelloLength(data: Buffer): number {
  let at = 0;
  let handshake = 0;
  let needed = -1;
  while (at + 5 <= data.length) {
    const len = data.readUInt16BE(at + 3);
    if (at + 5 + len > data.length) return 0;
    if (needed < 0 && handshake === 0 && len >= 4) needed = 4 + data.readUIntBE(at + 5 + 1, 3);
    handshake += len;
    at += 5 + len;
    if (needed >= 0 && handshake >= needed) return at;
  }
  return 0;
}

/** The bytes of the ClientHello a node:tls client sends with these options. */
export async function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  try {
    const captured = new Promise<Buffer>((resolve, reject) => {
      server.once('connection', (socket) => {
        let data = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          data = Buffer.concat([data, chunk]);
          const length = clientHelloLength(data);
          if (length > 0) {
            socket.destroy();
            resolve(data.subarray(0, length));
          }
        });
        socket.on('error', reject);
      });
    });
    const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    client.on('error', () => {});
    try {
      return await captured;
    } finally {
      client.destroy();
    }
  } finally {
    server.close();
  }
}
