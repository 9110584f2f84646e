// A port the proxy holds before its listener's config (LDS) arrives, so that it can tell the control
// plane where it listens: a connection accepted there before a listener adopts the port is reset at
// once, as a port nothing listens on would refuse it, rather than left waiting for ever.
import type net from 'node:net';

const kRefusing = Symbol('weft.refusingUntilAdopted');

type ReservedServer = net.Server & { [kRefusing]?: (socket: net.Socket) => void };

function refuse(socket: net.Socket): void {
  socket.resetAndDestroy();
}

/** Resets every connection `server` accepts until adopt() is called for it. */
export function refuseUntilAdopted(server: net.Server): net.Server {
  (server as ReservedServer)[kRefusing] = refuse;
  server.on('connection', refuse);
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
