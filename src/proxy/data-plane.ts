// The proxy's data plane: applies Envoy v3 resources (as the xDS client decodes them) and carries
// HTTP/1.1 and TCP traffic. Each update takes the complete state-of-the-world set of its type,
// validates and compiles all of it first (ConfigRejectedError, whose message is the NACK's
// error_detail, and nothing changes), then swaps atomically (DESIGN.md decisions 1, 7, 8).
import type { ProxyNodeInfo } from './http/stream-observers.ts';
import type net from 'node:net';
import type { Logger } from '../common/log.ts';
import { registerBuiltinHttpFilters } from './http/filters/index.ts';
import { RouteStore } from './http/routing/route-store.ts';
import { ListenerManager, type ListenerManagerOptions } from './listener/listener-manager.ts';
import { SecretStore } from './tls/secret-store.ts';
import type { ProxyStats } from './telemetry/stats.ts';
import { ClusterManager } from './upstream/cluster-manager.ts';
import { registerBuiltinLoadBalancers } from './upstream/load-balancers/index.ts';

export { ConfigRejectedError } from './upstream/envoy-config.ts';

export type DataPlaneOptions = {
  logger: Logger;
  stats: ProxyStats;
  /** Already-listening servers keyed by port (the proxy reserves its ports at start): adopted instead of binding. */
  reservedListeners?: Map<number, net.Server>;
  /** Bound on draining (drain(), removed or changed listeners); connections still open then are closed. Default 5000. */
  drainTimeoutMs?: number;
  /** Idle keep-alive connections kept per upstream endpoint (the oldest beyond it are closed). Default 64. */
  maxIdleConnectionsPerEndpoint?: number;
  /** The proxy's own xDS node (id and metadata), for telemetry. */
  node?: ProxyNodeInfo;
  /** Bind listeners with SO_REUSEPORT (each data-plane worker of --concurrency N binds every listener's port). */
  reusePort?: boolean;
};

export class DataPlane {
  private readonly logger: Logger;
  private readonly clusters: ClusterManager;
  private readonly routes: RouteStore;
  private readonly listeners: ListenerManager;
  /** SDS secrets (certificates and roots) the clusters' and listeners' TLS contexts refer to by name. */
  readonly secrets = new SecretStore();

  constructor(options: DataPlaneOptions) {
    registerBuiltinLoadBalancers();
    registerBuiltinHttpFilters();
    this.logger = options.logger;
    this.clusters = new ClusterManager(options.stats, options.logger, options.maxIdleConnectionsPerEndpoint ?? 64, this.secrets);
    this.routes = new RouteStore();
    // The listeners' compile context carries the secret store (filter chains' DownstreamTlsContexts).
    const listenerOptions: ListenerManagerOptions = {
      clusters: this.clusters,
      routes: this.routes,
      stats: options.stats,
      logger: options.logger,
      reserved: options.reservedListeners ?? new Map(),
      drainTimeoutMs: options.drainTimeoutMs ?? 5000,
      secrets: this.secrets,
      ...(options.reusePort === true ? { reusePort: true } : {}),
      ...(options.node ? { node: options.node } : {}),
    };
    this.listeners = new ListenerManager(listenerOptions);
  }

  /**
   * SDS: the complete set of secrets subscribed (by the names the clusters and listeners refer to). A
   * malformed secret rejects the update (the secrets in force stay). New connections use the new
   * certificates and roots; open ones keep theirs.
   */
  updateSecrets(secrets: object[]): void {
    this.secrets.update(secrets);
  }

  /** CDS: the complete cluster set. Unchanged clusters keep their endpoints, pools and balancer state. */
  updateClusters(clusters: object[]): void {
    this.clusters.update(clusters);
  }

  /** EDS: every ClusterLoadAssignment, matched to EDS clusters by cluster_name (= service_name or cluster name). */
  updateEndpoints(assignments: object[]): void {
    this.clusters.updateEndpoints(assignments);
  }

  /** LDS: binds new listeners, keeps unchanged ones, drains and closes removed ones. */
  updateListeners(listeners: object[]): Promise<void> {
    return this.listeners.update(listeners);
  }

  /** RDS: every RouteConfiguration, by name. */
  updateRoutes(routeConfigs: object[]): void {
    this.routes.update(routeConfigs, { clusterExists: (name) => this.clusters.current.has(name) });
  }

  listenerAddresses(): { name: string; address: string; port: number }[] {
    return this.listeners.addresses();
  }

  /**
   * Stops accepting; keep-alive connections get `connection: close` on their next response and are
   * closed when idle. Resolves when every connection is gone (at most drainTimeoutMs).
   */
  async drain(): Promise<void> {
    this.logger.info('draining listeners');
    await this.listeners.drain();
  }

  /** Closes every listener, connection and upstream connection now. */
  async close(): Promise<void> {
    await this.listeners.close();
    this.clusters.destroy();
  }
}
