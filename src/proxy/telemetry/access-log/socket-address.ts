// A downstream socket's local address as a log line prints it. node keeps a socket's peer address once
// read but forgets its local address when the socket closes, and a line is often made after the close
// (a tcp_proxy connection, a client that went away): so it is read while the socket is open and kept,
// once per connection.
import type { Socket } from 'node:net';
import { socketAddressText } from './record.ts';

const localAddresses = new WeakMap<Socket, string | null>();

/** Reads and keeps both addresses of an open socket (a no-op for a socket seen before). */
export function rememberAddresses(socket: Socket): void {
  if (localAddresses.has(socket)) return;
  void socket.remoteAddress;
  localAddresses.set(socket, socketAddressText(socket.localAddress, socket.localPort));
}

export function localAddressOf(socket: Socket): string | null {
  const kept = localAddresses.get(socket);
  return kept !== undefined ? kept : socketAddressText(socket.localAddress, socket.localPort);
}
