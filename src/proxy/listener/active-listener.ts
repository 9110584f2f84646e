// A listener at run time: a listening net.Server (bound here, or adopted from the proxy's reserved
// ports) whose accepted sockets go to the current set of filter chains. An in-place update swaps the
// set: new connections get the new one, the old one drains (what the new set did not take over).
import { adopt } from './reserved-port.ts';
import type net from 'node:net';
import type { ListenerStats } from '../telemetry/stat-objects.ts';
import type { FilterChainSet } from './filter-chain-set.ts';
import type { ListenerSpec } from './listener-config.ts';

export class ActiveListener {
  spec: ListenerSpec;
  chain: FilterChainSet;
  readonly server: net.Server;
  readonly stats: ListenerStats;
  private readonly onConnection: (socket: net.Socket) => void;
  private stopped = false;

  constructor(spec: ListenerSpec, server: net.Server, chain: FilterChainSet, stats: ListenerStats) {
    this.spec = spec;
    this.server = server;
    this.chain = chain;
    this.stats = stats;
    this.onConnection = (socket) => {
      socket.setNoDelay(true);
      this.chain.handleConnection(socket);
    };
    adopt(server);
    server.on('connection', this.onConnection);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The address actually bound (the real port when the spec said 0). */
  boundAddress(): { address: string; port: number } {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? { address: a.address, port: a.port } : { address: this.spec.address, port: this.spec.port };
  }

  /** Swaps in a new set of filter chains; returns the old one (to be drained by the caller). */
  replaceChain(spec: ListenerSpec, chain: FilterChainSet): FilterChainSet {
    const old = this.chain;
    this.spec = spec;
    this.chain = chain;
    return old;
  }

  /** Gives the server to another listener (same address, different name). */
  detachServer(): net.Server {
    this.server.off('connection', this.onConnection);
    return this.server;
  }

  /**
   * Stops accepting; open connections are not touched. (net.Server's close callback waits for every
   * accepted connection to end: draining bounds that, so this does not wait for it.)
   */
  stopAccepting(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.server.off('connection', this.onConnection);
    if (this.server.listening) this.server.close();
  }
}
