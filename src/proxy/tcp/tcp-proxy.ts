// envoy.filters.network.tcp_proxy at run time: each accepted connection is piped (with backpressure,
// half-close propagated) to an endpoint of the cluster, picked by the cluster's load balancer.
import net, { type Socket } from 'node:net';
import type { TcpProxyStats } from '../telemetry/stat-objects.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import type { TcpProxySpec } from './tcp-proxy-config.ts';

export class TcpProxy {
  readonly spec: TcpProxySpec;
  readonly stats: TcpProxyStats;
  private readonly clusters: ClusterManager;
  private readonly connections = new Set<Socket>();
  private emptyWaiters: (() => void)[] = [];

  constructor(spec: TcpProxySpec, clusters: ClusterManager, stats: TcpProxyStats) {
    this.spec = spec;
    this.clusters = clusters;
    this.stats = stats;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  handleConnection(downstream: Socket): void {
    this.stats.downstreamCxTotal++;
    const cluster = this.clusters.current.get(this.spec.cluster);
    const host = cluster?.pick() ?? null;
    if (cluster === undefined || host === null) {
      this.stats.downstreamCxNoRoute++;
      if (cluster !== undefined) cluster.stats.upstreamCxNoneHealthy++;
      downstream.destroy();
      return;
    }
    const cstats = cluster.stats;
    this.connections.add(downstream);
    const upstream = net.connect({ host: host.address, port: host.port, noDelay: true, allowHalfOpen: true });
    let connected = false;
    upstream.setTimeout(cluster.spec.pool.connectTimeoutMs);
    upstream.once('connect', () => {
      connected = true;
      cstats.upstreamCxTotal++;
      cstats.upstreamCxActive++;
      upstream.setTimeout(this.spec.idleTimeoutMs);
      downstream.setTimeout(this.spec.idleTimeoutMs);
    });
    const onTimeout = () => { upstream.destroy(); downstream.destroy(); };
    upstream.on('timeout', onTimeout);
    downstream.on('timeout', onTimeout);
    upstream.on('error', () => {
      if (!connected) cstats.upstreamCxConnectFail++;
      downstream.destroy();
    });
    downstream.on('error', () => upstream.destroy());
    upstream.once('close', () => {
      if (connected) cstats.upstreamCxActive--;
      if (!downstream.writableEnded) downstream.destroySoon();
    });
    downstream.once('close', () => {
      this.stats.downstreamCxRxBytesTotal += downstream.bytesRead;
      this.stats.downstreamCxTxBytesTotal += downstream.bytesWritten;
      upstream.destroy();
      this.connections.delete(downstream);
      if (this.connections.size === 0 && this.emptyWaiters.length > 0) {
        const waiters = this.emptyWaiters;
        this.emptyWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
    downstream.pipe(upstream);
    upstream.pipe(downstream);
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
