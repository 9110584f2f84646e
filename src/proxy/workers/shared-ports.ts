// The main thread's reservation of a listener port that data-plane workers will share.
//
// The proxy must know its ports before it tells the control plane where it listens, and every worker
// must be able to bind them too: so the main thread holds each port with SO_REUSEPORT until every
// worker has bound it, then lets go. Before that it checks the port the ordinary, exclusive way, so a
// port some other process holds is refused (EADDRINUSE) as it is with --concurrency 1, instead of
// silently sharing it with another SO_REUSEPORT socket of the same user.
//
// While the main thread's socket is bound the kernel may hand it some of the connections to that
// port (from the reservation until the workers have bound it, at start, before the proxy has told
// anyone where it listens). The main thread serves no traffic: those connections are reset at once.
import net from 'node:net';
import { listenOn, reservePort } from '../listener/reserved-port.ts';

/** Reserves host:port (0: a free port) for workers to share; connections it accepts meanwhile are reset. */
export async function reserveSharedPort(host: string, port: number): Promise<net.Server> {
  const probe = net.createServer();
  await listenOn(probe, { host, port, exclusive: true });
  const chosen = (probe.address() as net.AddressInfo).port;
  await releaseSharedPort(probe);
  return reservePort(host, chosen, 'reusePort');
}

/** Lets go of a reservation (every worker has bound the port). */
export function releaseSharedPort(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
