// A listener's filter chains at run time: each accepted connection goes through the listener filters
// that are on for its port (inspecting its first bytes without consuming them), then to the filter
// chain its filter_chain_match selects, else to the default filter chain, else it is closed (Envoy's
// `no_filter_chain_match`).
//
// When a listener is updated in place, the new set takes over the chains whose config did not change
// (their connections carry on untouched, as in Envoy's filter-chain-only update); the old set then
// drains only the chains it still owns.
import type { Socket } from 'node:net';
import type { ListenerStats } from '../telemetry/stat-objects.ts';
import { ConnectionInfo } from './connection-info.ts';
import { FilterChainSelector } from './filter-chain-match.ts';
import type { FilterChainSpec, ListenerSpec } from './listener-config.ts';
import { ListenerFilterRun } from './listener-filter-run.ts';
import type { ListenerInspector } from './listener-inspector.ts';
import type { NetworkFilterChain } from './network-filter-chain.ts';

export type NetworkFilterFactory = (chain: FilterChainSpec) => NetworkFilterChain;

export class FilterChainSet implements NetworkFilterChain {
  readonly spec: ListenerSpec;
  private readonly stats: ListenerStats;
  /** Chains by fingerprint that this set drains and destroys (those taken over by a newer set are removed). */
  private readonly owned = new Map<string, NetworkFilterChain>();
  private readonly selector: FilterChainSelector<NetworkFilterChain>;
  private readonly defaultChain: NetworkFilterChain | null;
  /** The chain of every connection when there is nothing to choose (no listener filter needed to know it). */
  private readonly onlyChain: NetworkFilterChain | null;
  /** Connections still in their listener filters. */
  private readonly pending = new Map<ConnectionInfo, ListenerFilterRun>();
  private pendingWaiters: (() => void)[] = [];
  private destroyed = false;
  private readonly onRunDone: (info: ConnectionInfo) => void;
  private readonly onRunClosed: (info: ConnectionInfo) => void;

  constructor(spec: ListenerSpec, stats: ListenerStats, create: NetworkFilterFactory, previous: FilterChainSet | null) {
    this.spec = spec;
    this.stats = stats;
    const chainFor = (chain: FilterChainSpec): NetworkFilterChain => {
      let runtime = previous?.owned.get(chain.fingerprint);
      if (runtime !== undefined) previous!.owned.delete(chain.fingerprint);
      else runtime = create(chain);
      this.owned.set(chain.fingerprint, runtime);
      return runtime;
    };
    this.selector = new FilterChainSelector(spec.filterChains.map((c) => ({ match: c.match, chain: chainFor(c) })));
    this.defaultChain = spec.defaultFilterChain === null ? null : chainFor(spec.defaultFilterChain);
    this.onlyChain = this.selector.only;
    this.onRunDone = (info) => {
      this.runEnded(info);
      this.dispatch(info);
    };
    this.onRunClosed = (info) => this.runEnded(info);
  }

  get connectionCount(): number {
    let n = this.pending.size;
    for (const chain of this.owned.values()) n += chain.connectionCount;
    return n;
  }

  handleConnection(socket: Socket): void {
    if (this.destroyed) {
      socket.destroy();
      return;
    }
    const filters = this.spec.listenerFilters;
    if (this.onlyChain !== null && filters.filters.length === 0) {
      this.accepted(socket, this.onlyChain);
      return;
    }
    const info = new ConnectionInfo(socket);
    let inspectors: ListenerInspector[] | null = null;
    if (filters.filters.length > 0) {
      const port = info.localPort;
      for (const f of filters.filters) {
        if (f.disabled !== null && f.disabled(port)) continue;
        (inspectors ??= []).push(f.create());
      }
    }
    if (inspectors === null) {
      this.dispatch(info);
      return;
    }
    const run = new ListenerFilterRun(info, inspectors, {
      timeoutMs: filters.timeoutMs,
      continueOnTimeout: filters.continueOnTimeout,
      stats: this.stats,
      done: this.onRunDone,
      closed: this.onRunClosed,
    });
    this.pending.set(info, run);
    run.start();
  }

  /** Lets inspected connections reach their chains, then drains the chains this set still owns. */
  async drain(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((resolve) => { this.pendingWaiters.push(resolve); });
    await Promise.all([...this.owned.values()].map((chain) => chain.drain()));
  }

  destroy(): void {
    this.destroyed = true;
    for (const run of [...this.pending.values()]) run.abort();
    for (const chain of this.owned.values()) chain.destroy();
  }

  private runEnded(info: ConnectionInfo): void {
    if (!this.pending.delete(info)) return;
    if (this.pending.size === 0 && this.pendingWaiters.length > 0) {
      const waiters = this.pendingWaiters;
      this.pendingWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private dispatch(info: ConnectionInfo): void {
    const socket = info.socket;
    if (this.destroyed || socket.destroyed) {
      socket.destroy();
      return;
    }
    const chain = this.selector.select(info) ?? this.defaultChain;
    if (chain === null) {
      this.stats.noFilterChainMatch++;
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    this.accepted(socket, chain);
  }

  private accepted(socket: Socket, chain: NetworkFilterChain): void {
    const stats = this.stats;
    stats.downstreamCxTotal++;
    stats.downstreamCxActive++;
    socket.once('close', () => { stats.downstreamCxActive--; });
    chain.handleConnection(socket);
  }
}
