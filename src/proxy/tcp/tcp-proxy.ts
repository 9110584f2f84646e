// envoy.filters.network.tcp_proxy at run time: each accepted connection gets its cluster (one, or one
// of weighted_clusters by weight) and is piped (with backpressure, half-close propagated) to an
// endpoint picked by that cluster's load balancer; see tcp-proxy-session.ts for one connection.
import type { Socket } from 'node:net';
import type { ObserverContext } from '../http/stream-observers.ts';
import { ResponseFlag } from '../telemetry/response-flags.ts';
import type { TcpProxyStats } from '../telemetry/stat-objects.ts';
import type { ClusterManager } from '../upstream/cluster-manager.ts';
import type { TcpProxySpec } from './tcp-proxy-config.ts';
import { TcpProxySession } from './tcp-proxy-session.ts';
import type { TcpObserver, TcpSessionInfo } from './tcp-observers.ts';
import { peerExchangeAlpn, peerExchangePreamble, readPeerExchangePreamble } from './peer-exchange.ts';
import type { TLSSocket } from 'node:tls';

/** How long the server's sidecar waits for the client's exchange preamble. */
const preambleTimeoutMs = 5000;
/** How often open connections report their bytes to the observers that want it (Istio: 15 s). */
export const tcpProgressIntervalMs = 15_000;

export class TcpProxy {
  readonly spec: TcpProxySpec;
  readonly stats: TcpProxyStats;
  private readonly clusters: ClusterManager;
  private readonly connections = new Set<Socket>();
  private emptyWaiters: (() => void)[] = [];
  private readonly onSessionClosed: (info: TcpSessionInfo) => void;
  /** Access logs, metrics: told of every connection (tcp-observers.ts). */
  readonly observers: readonly TcpObserver[];

  /** What this proxy sends first on a connection that negotiated the TCP metadata exchange. */
  private readonly preamble: Buffer | null;
  /** Open connections' info, for the periodic progress report; the timer runs while any is open. */
  private readonly open = new Set<TcpSessionInfo>();
  private progressTimer: NodeJS.Timeout | null = null;
  private readonly reportsProgress: boolean;

  constructor(spec: TcpProxySpec, clusters: ClusterManager, stats: TcpProxyStats, observerContext: ObserverContext | null = null) {
    this.preamble = observerContext === null ? null : peerExchangePreamble(observerContext.node);
    this.spec = spec;
    this.clusters = clusters;
    this.stats = stats;
    this.observers = observerContext === null ? [] : spec.observers.map((create) => create(observerContext));
    this.reportsProgress = this.observers.some((o) => o.onProgress !== undefined);
    this.onSessionClosed = (info) => {
      this.untrack(info);
      const downstream = info.downstream;
      stats.downstreamCxRxBytesTotal += downstream.bytesRead;
      stats.downstreamCxTxBytesTotal += downstream.bytesWritten;
      info.bytesReceived = downstream.bytesRead;
      info.bytesSent = downstream.bytesWritten;
      this.notifyClose(info);
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
    const clusterName = this.spec.clusters.pick();
    const cluster = this.clusters.current.get(clusterName);
    const info: TcpSessionInfo = {
      downstream, statPrefix: this.spec.statPrefix, clusterName, upstreamHost: null, startTime: Date.now(),
      bytesReceived: 0, bytesSent: 0, responseFlags: 0, upstreamWorkload: null, downstreamWorkload: null,
    };
    if (cluster === undefined) {
      this.stats.downstreamCxNoRoute++;
      downstream.on('error', () => {});
      downstream.destroy();
      if (this.observers.length > 0) {
        info.responseFlags |= ResponseFlag.NoClusterFound;
        this.notifyOpen(info);
        this.notifyClose(info);
      }
      return;
    }
    this.connections.add(downstream);
    const start = () => {
      this.track(info);
      this.notifyOpen(info);
      new TcpProxySession(this.spec, this.stats, cluster, info, this.observers, this.onSessionClosed, this.preamble).start();
    };
    // The client's sidecar negotiated the TCP metadata exchange: its preamble comes first.
    if ((downstream as TLSSocket).alpnProtocol === peerExchangeAlpn) {
      downstream.on('error', () => {});
      void readPeerExchangePreamble(downstream, preambleTimeoutMs).then((peer) => {
        info.downstreamWorkload = peer;
        if (downstream.destroyed) {
          this.connections.delete(downstream);
          return;
        }
        start();
      });
      return;
    }
    start();
  }

  private track(info: TcpSessionInfo): void {
    if (!this.reportsProgress) return;
    this.open.add(info);
    if (this.progressTimer === null) {
      this.progressTimer = setInterval(() => this.reportProgress(), tcpProgressIntervalMs);
      this.progressTimer.unref();
    }
  }

  private untrack(info: TcpSessionInfo): void {
    if (!this.open.delete(info) || this.open.size > 0 || this.progressTimer === null) return;
    clearInterval(this.progressTimer);
    this.progressTimer = null;
  }

  private reportProgress(): void {
    const observers = this.observers;
    for (const info of this.open) {
      info.bytesReceived = info.downstream.bytesRead;
      info.bytesSent = info.downstream.bytesWritten;
      for (let i = 0; i < observers.length; i++) observers[i].onProgress?.(info);
    }
  }

  private notifyOpen(info: TcpSessionInfo): void {
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i].onOpen(info);
  }

  private notifyClose(info: TcpSessionInfo): void {
    const observers = this.observers;
    for (let i = 0; i < observers.length; i++) observers[i].onClose(info);
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
