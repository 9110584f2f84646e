// A port the proxy holds before its listener's config (LDS) arrives, so that it can tell the control
// plane where it listens: a connection accepted there before a listener adopts the port is reset at
// once, as a port nothing listens on would refuse it, rather than left waiting for ever.
import net from 'node:net';

const kRefusing = Symbol('weft.refusingUntilAdopted');

type ReservedServer = net.Server & { [kRefusing]?: (socket: net.Socket) => void };

function refuse(socket: net.Socket): void {
  socket.resetAndDestroy();
}

/** Listens with `options`; rejects with the bind error (EADDRINUSE, …). */
export function listenOn(server: net.Server, options: net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
}

/**
 * Holds host:port (0: a free port) for a listener to adopt, refusing connections until then.
 * `exclusive`: the port is this process's alone; `reusePort`: data-plane workers bind it too.
 */
export async function reservePort(host: string, port: number, sharing: 'exclusive' | 'reusePort'): Promise<net.Server> {
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true });
  (server as ReservedServer)[kRefusing] = refuse;
  server.on('connection', refuse);
  await listenOn(server, { host, port, [sharing]: true });
  return server;
}

/** A listener takes the server over: its connections are no longer refused. */
export function adopt(server: net.Server): void {
  const reserved = server as ReservedServer;
  const handler = reserved[kRefusing];
  if (handler === undefined) return;
  server.off('connection', handler);
  delete reserved[kRefusing];
}
