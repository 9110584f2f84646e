// envoy.filters.network.tcp_proxy at run time: each accepted connection gets its cluster (one, or one
// of weighted_clusters by weight) and is piped (with backpressure, half-close propagated) to an
// endpoint picked by that cluster's load balancer; see tcp-proxy-session.ts for one connection.
import type { Socket } from 'node:net';
import type { TcpProxyStats } from '../telemetry/stat-objects.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import type { TcpProxySpec } from './tcp-proxy-config.ts';
import { TcpProxySession } from './tcp-proxy-session.ts';

export class TcpProxy {
  readonly spec: TcpProxySpec;
  readonly stats: TcpProxyStats;
  private readonly clusters: ClusterManager;
  private readonly connections = new Set<Socket>();
  private emptyWaiters: (() => void)[] = [];
  private readonly onSessionClosed: (downstream: Socket) => void;

  constructor(spec: TcpProxySpec, clusters: ClusterManager, stats: TcpProxyStats) {
    this.spec = spec;
    this.clusters = clusters;
    this.stats = stats;
    this.onSessionClosed = (downstream) => {
      stats.downstreamCxRxBytesTotal += downstream.bytesRead;
      stats.downstreamCxTxBytesTotal += downstream.bytesWritten;
      this.connections.delete(downstream);
      if (this.connections.size === 0 && this.emptyWaiters.length > 0) {
        const waiters = this.emptyWaiters;
        this.emptyWaiters = [];
        for (const resolve of waiters) resolve();
      }
    };
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  handleConnection(downstream: Socket): void {
    this.stats.downstreamCxTotal++;
    const cluster = this.clusters.current.get(this.spec.clusters.pick());
    if (cluster === undefined) {
      this.stats.downstreamCxNoRoute++;
      downstream.on('error', () => {});
      downstream.destroy();
      return;
    }
    this.connections.add(downstream);
    new TcpProxySession(this.spec, this.stats, cluster, downstream, this.onSessionClosed).start();
  }

  /** Envoy drains tcp_proxy connections by letting them finish: resolves when none is left. */
  drain(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => { this.emptyWaiters.push(resolve); });
  }

  destroy(): void {
    for (const socket of this.connections) socket.destroy();
  }
}
