// Real TCP (and TLS) upstreams for tcp_proxy tests on 127.0.0.1:0: each one says who it is as soon as a
// connection is usable (`<name>\n`), then echoes what it receives, so a client learns which upstream
// the proxy chose without sending anything.
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';

export type TcpUpstream = {
  name: string;
  port: number;
  /** Connections accepted (TLS: handshakes completed). */
  connections: number;
  close(): Promise<void>;
};

function serve(name: string, server: net.Server, event: 'connection' | 'secureConnection'): Promise<TcpUpstream> {
  const open = new Set<net.Socket>();
  const upstream: TcpUpstream = {
    name,
    port: 0,
    connections: 0,
    close: async () => {
      for (const socket of open) socket.destroy();
      if (server.listening) await new Promise((r) => server.close(r));
    },
  };
  server.on(event, (socket: net.Socket) => {
    upstream.connections++;
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    socket.on('error', () => {});
    socket.write(`${name}\n`);
    socket.pipe(socket);
  });
  // A TLS server also sees the raw connections: keep them to close them.
  if (event === 'secureConnection') server.on('connection', (socket: net.Socket) => { open.add(socket); socket.once('close', () => open.delete(socket)); });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => {
    upstream.port = (server.address() as net.AddressInfo).port;
    return upstream;
  });
}

/** A TCP server that greets with its name, then echoes. */
export function startTcpUpstream(name: string): Promise<TcpUpstream> {
  return serve(name, net.createServer({ allowHalfOpen: true }), 'connection');
}

/** A TLS server with this certificate that greets with its name once the handshake is done, then echoes. */
export function startTlsUpstream(name: string, options: { key: Buffer; cert: Buffer; ALPNProtocols?: string[] }): Promise<TcpUpstream> {
  return serve(name, tls.createServer({ key: options.key, cert: options.cert, ALPNProtocols: options.ALPNProtocols }), 'secureConnection');
}

/**
 * Connects to the proxy and reads the greeting line: the name of the upstream that answered, or null
 * when the proxy closed the connection first.
 */
export function whoAnswers(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let settled = false;
    const finish = (value: string | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(value);
    };
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const nl = data.indexOf('\n');
      if (nl >= 0) finish(data.slice(0, nl));
    });
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
  });
}

/** Counts who answered `n` connections, one after the other. */
export async function whoAnswersMany(n: number, port: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = (await whoAnswers(port)) ?? 'closed';
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}
