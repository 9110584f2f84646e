// The listener set (LDS). An update validates and compiles every listener, binds what is new (a
// reserved port is adopted rather than bound; a port of a listener leaving is taken over), and only
// then commits in one synchronous step: unchanged listeners are kept, listeners whose config changed
// on the same address get a new set of filter chains (keeping the chains that did not change) while
// the rest of the old one drains, removed listeners stop accepting and drain. A bind failure rejects
// the update and changes nothing.
import type { ProxyNodeInfo } from '../http/stream-observers.ts';
import { chainStatsOverrides } from './network-filters.ts';
import type { SecretStore } from '../tls/secret-store.ts';
import net from 'node:net';
import type { Logger } from '../../common/log.ts';
import { HttpConnectionManager } from '../http/connection-manager.ts';
import { RouteSlot, type RouteStore } from '../http/routing/route-store.ts';
import type { ProxyStats } from '../telemetry/stats.ts';
import { TcpProxy } from '../tcp/tcp-proxy.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import { ConfigRejectedError } from '../upstream/envoy-config.ts';
import type { ListenerStats } from '../telemetry/stat-objects.ts';
import { ActiveListener } from './active-listener.ts';
import { FilterChainSet } from './filter-chain-set.ts';
import { compileListener, type FilterChainSpec, type ListenerSpec } from './listener-config.ts';
import type { NetworkFilterChain } from './network-filter-chain.ts';
import { withReadFilters } from './network-filters.ts';
import { TlsTerminatingChain } from './tls-termination.ts';

const unknownNode: ProxyNodeInfo = { id: '', metadata: {} };

export type ListenerManagerOptions = {
  clusters: ClusterManager;
  /** The data plane's SDS secrets, for the filter chains' TLS contexts. */
  secrets?: SecretStore;
  /** The proxy's own xDS node (telemetry reports it as one end of each exchange). */
  node?: ProxyNodeInfo;
  routes: RouteStore;
  stats: ProxyStats;
  logger: Logger;
  /** Already-listening servers by port, adopted instead of binding (each at most once). */
  reserved: Map<number, net.Server>;
  drainTimeoutMs: number;
  /**
   * Bind with SO_REUSEPORT: several data-plane workers (--concurrency) each bind every listener's port
   * and the kernel spreads new connections over them.
   */
  reusePort?: boolean;
};

type Plan =
  | { kind: 'keep'; spec: ListenerSpec; listener: ActiveListener }
  | { kind: 'in-place'; spec: ListenerSpec; listener: ActiveListener }
  | { kind: 'new'; spec: ListenerSpec; server: net.Server | null; from: ActiveListener | null; reservedPort: number | null };

function addressKey(spec: ListenerSpec): string | null {
  return spec.port === 0 ? null : `${spec.address}:${spec.port}`;
}

function sameAddress(a: ListenerSpec, b: ListenerSpec): boolean {
  return a.address === b.address && a.port === b.port;
}

export class ListenerManager {
  private listeners = new Map<string, ActiveListener>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly retiringChains = new Set<NetworkFilterChain>();
  private readonly options: ListenerManagerOptions;
  private serial: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: ListenerManagerOptions) {
    this.options = options;
  }

  /** Applies the complete listener set; updates run one at a time. */
  update(resources: object[]): Promise<void> {
    const run = this.serial.then(() => this.apply(resources));
    this.serial = run.catch(() => {});
    return run;
  }

  addresses(): { name: string; address: string; port: number }[] {
    return [...this.listeners.values()].map((l) => ({ name: l.name, ...l.boundAddress() }));
  }

  /** Stops accepting everywhere and drains every connection; bounded by drainTimeoutMs, then closes what is left. */
  async drain(): Promise<void> {
    this.stopped = true;
    for (const listener of this.listeners.values()) this.retire(listener);
    this.listeners = new Map();
    await this.settled();
  }

  /** Closes every listener and connection now. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const listener of this.listeners.values()) {
      listener.stopAccepting();
      listener.chain.destroy();
    }
    for (const chain of this.retiringChains) chain.destroy();
    this.listeners = new Map();
    await this.settled();
  }

  private async settled(): Promise<void> {
    while (this.retiring.size > 0) await Promise.all([...this.retiring]);
  }

  private async apply(resources: object[]): Promise<void> {
    const context = { clusterExists: (name: string) => this.options.clusters.current.has(name), secrets: this.options.secrets };
    const specs = new Map<string, ListenerSpec>();
    const byAddress = new Map<string, string>();
    for (const resource of resources) {
      const spec = compileListener(resource, context);
      if (specs.has(spec.name)) throw new ConfigRejectedError(`Listener ${spec.name}: name appears twice in the update`);
      specs.set(spec.name, spec);
      const key = addressKey(spec);
      if (key === null) continue;
      const other = byAddress.get(key);
      if (other !== undefined) throw new ConfigRejectedError(`Listener ${spec.name}: address ${key} is also used by listener ${other}`);
      byAddress.set(key, spec.name);
    }
    if (this.stopped) return; // draining or closed: validated, nothing to bind

    // Old listeners whose server may be taken over by a new listener of the same address.
    const leaving = new Map<string, ActiveListener>();
    for (const [name, old] of this.listeners) {
      const spec = specs.get(name);
      if (spec && sameAddress(spec, old.spec)) continue;
      const key = addressKey(old.spec);
      if (key !== null) leaving.set(key, old);
    }

    const plans: Plan[] = [];
    const boundNow: net.Server[] = [];
    try {
      for (const spec of specs.values()) {
        const old = this.listeners.get(spec.name);
        if (old && sameAddress(spec, old.spec)) {
          plans.push({ kind: old.spec.fingerprint === spec.fingerprint ? 'keep' : 'in-place', spec, listener: old });
          continue;
        }
        const key = addressKey(spec);
        const from = key === null ? undefined : leaving.get(key);
        if (from !== undefined) {
          leaving.delete(key!);
          plans.push({ kind: 'new', spec, server: null, from, reservedPort: null });
        } else if (spec.port !== 0 && this.options.reserved.has(spec.port)) {
          plans.push({ kind: 'new', spec, server: this.options.reserved.get(spec.port)!, from: null, reservedPort: spec.port });
        } else {
          const server = await this.bind(spec);
          boundNow.push(server);
          plans.push({ kind: 'new', spec, server, from: null, reservedPort: null });
        }
      }
    } catch (err) {
      for (const server of boundNow) server.close();
      throw err;
    }
    this.commit(plans);
  }

  private commit(plans: Plan[]): void {
    const next = new Map<string, ActiveListener>();
    const handedOver = new Set<ActiveListener>();
    for (const plan of plans) {
      if (plan.kind === 'keep') {
        next.set(plan.spec.name, plan.listener);
      } else if (plan.kind === 'in-place') {
        const listener = plan.listener;
        this.retireChain(listener.replaceChain(plan.spec, this.createChains(plan.spec, listener.stats, listener.chain)));
        next.set(plan.spec.name, plan.listener);
      } else {
        let server = plan.server;
        if (plan.from !== null) {
          server = plan.from.detachServer();
          handedOver.add(plan.from);
        }
        if (plan.reservedPort !== null) this.options.reserved.delete(plan.reservedPort);
        server!.on('error', (err) => this.options.logger.error('listener error', { listener: plan.spec.name, error: err.message }));
        const a = server!.address();
        const label = a !== null && typeof a === 'object' ? `${a.address}_${a.port}` : `${plan.spec.address}_${plan.spec.port}`;
        const stats = this.options.stats.listener(label);
        next.set(plan.spec.name, new ActiveListener(plan.spec, server!, this.createChains(plan.spec, stats, null), stats));
      }
    }
    for (const old of this.listeners.values()) {
      if (next.get(old.name) === old) continue;
      if (handedOver.has(old)) this.retireChain(old.chain);
      else this.retire(old);
    }
    this.listeners = next;
    this.options.logger.debug('listeners updated', { listeners: [...next.keys()] });
  }

  /** The listener's filter chains; `previous` (an in-place update) hands over the chains that did not change. */
  private createChains(spec: ListenerSpec, stats: ListenerStats, previous: FilterChainSet | null): FilterChainSet {
    return new FilterChainSet(spec, stats, (chain) => this.createNetworkFilter(spec, chain), previous);
  }

  /**
   * The chain's network filters: its terminal filter behind its read filters (RBAC), all behind TLS
   * termination when the chain has a DownstreamTlsContext.
   */
  private createNetworkFilter(listener: ListenerSpec, chain: FilterChainSpec): NetworkFilterChain {
    const filter = withReadFilters(chain.readFilters, this.createTerminalFilter(listener, chain), this.options.stats);
    return chain.tls === null ? filter : new TlsTerminatingChain(chain.tls, filter);
  }

  private createTerminalFilter(listener: ListenerSpec, chain: FilterChainSpec): NetworkFilterChain {
    const { clusters, stats, logger } = this.options;
    const hcmLogger = logger.child({ listener: listener.name });
    const statsOverrides = chainStatsOverrides(chain.readFilters);
    const observerContext = {
      logger: hcmLogger, stats, trafficDirection: listener.trafficDirection, serviceHost: listener.serviceHost, node: this.options.node ?? unknownNode,
      ...(statsOverrides !== null ? { statsOverrides } : {}),
    };
    if (chain.filter.kind === 'tcp') {
      return new TcpProxy(chain.filter.spec, clusters, stats.tcpProxy(chain.filter.spec.statPrefix), observerContext);
    }
    const hcm = chain.filter.spec;
    const slot = hcm.rdsName !== null ? this.options.routes.slot(hcm.rdsName) : new RouteSlot(`${listener.name} (inline)`, hcm.inlineRoutes);
    return new HttpConnectionManager(hcm, slot, clusters, stats.httpConnectionManager(hcm.statPrefix), hcmLogger, observerContext);
  }

  private bind(spec: ListenerSpec): Promise<net.Server> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(new ConfigRejectedError(`Listener ${spec.name}: cannot bind ${spec.address}:${spec.port}: ${err.code ?? err.message}`));
      });
      server.listen({ host: spec.address, port: spec.port, ...(this.options.reusePort === true ? { reusePort: true } : {}) }, () => {
        server.removeAllListeners('error');
        resolve(server);
      });
    });
  }

  /** Stops accepting and drains the chain (bounded by drainTimeoutMs). */
  private retire(listener: ActiveListener): void {
    listener.stopAccepting();
    this.retireChain(listener.chain);
  }

  private retireChain(chain: NetworkFilterChain): void {
    this.retiringChains.add(chain);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => { timer = setTimeout(resolve, this.options.drainTimeoutMs); });
    const done = Promise.race([chain.drain(), timeout]).then(() => {
      clearTimeout(timer);
      chain.destroy();
      this.retiringChains.delete(chain);
      this.retiring.delete(done);
    });
    this.retiring.add(done);
  }
}
