// One tcp_proxy connection: connects to an endpoint of its cluster, retrying on connect failure (a
// refused or timed-out connect) with a newly picked endpoint, preferring one not tried yet, up to
// max_connect_attempts; each failure is reported to the endpoint for outlier detection. The
// downstream is not read until an upstream connection is up (as Envoy disables reads until then), so
// no byte is sent to an attempt that fails. Then both ways are piped with backpressure; a half-close
// is passed on; idle_timeout closes both sides. A cluster with an UpstreamTlsContext gets TLS to the
// endpoint (its alpn_protocols offered as configured); a failed handshake or certificate check is a
// connect failure like a refused connection.
import net, { type Socket } from 'node:net';
import tls from 'node:tls';
import { upstreamConnectOptions } from '../tls/upstream-tls-context.ts';
import type { PoolSettings } from '../upstream/cluster-config.ts';
import type { TcpProxyStats } from '../telemetry/stat-objects.ts';
import type { Cluster } from '../upstream/cluster.ts';
import type { Host } from '../upstream/host.ts';
import type { TcpProxySpec } from './tcp-proxy-config.ts';
import type { TcpObserver, TcpSessionInfo } from './tcp-observers.ts';
import { peerExchangeAlpn } from './peer-exchange.ts';
import { ResponseFlag } from '../telemetry/response-flags.ts';
import { hashString } from '../upstream/load-balancers/hash.ts';

/** Picks per attempt that may return an endpoint already tried, before taking it anyway. */
const maxPicksPerAttempt = 3;

export class TcpProxySession {
  private readonly spec: TcpProxySpec;
  private readonly stats: TcpProxyStats;
  private readonly cluster: Cluster;
  private readonly downstream: Socket;
  /** What observers see of this connection; the session fills in the endpoint and the flags. */
  private readonly info: TcpSessionInfo;
  private readonly observers: readonly TcpObserver[];
  private readonly closed: (info: TcpSessionInfo) => void;
  private upstream: Socket | null = null;
  private readonly tried: Host[] = [];
  private connected = false;

  /** Sent first to an upstream sidecar that accepted the TCP metadata exchange (peer-exchange.ts). */
  private readonly preamble: Buffer | null;

  constructor(spec: TcpProxySpec, stats: TcpProxyStats, cluster: Cluster, info: TcpSessionInfo, observers: readonly TcpObserver[],
    closed: (info: TcpSessionInfo) => void, preamble: Buffer | null = null) {
    this.preamble = preamble;
    this.spec = spec;
    this.stats = stats;
    this.cluster = cluster;
    this.downstream = info.downstream;
    this.info = info;
    this.observers = observers;
    this.closed = closed;
  }

  start(): void {
    const downstream = this.downstream;
    downstream.on('error', () => this.upstream?.destroy());
    downstream.once('close', () => {
      this.upstream?.destroy();
      this.closed(this.info);
    });
    this.connectNext();
  }

  /**
   * The endpoint for the next attempt: the one call site of the cluster's load balancer for tcp_proxy.
   * With hash_policy source_ip, a hashing cluster (ring hash, maglev) keeps a client IP on one endpoint;
   * later attempts move off it as retries do.
   */
  private pickHost(): Host | null {
    let host: Host | null = null;
    const ip = this.downstream.remoteAddress;
    const hash = this.spec.hashSourceIp && ip !== undefined ? hashString(ip) : undefined;
    for (let i = 0; i < maxPicksPerAttempt; i++) {
      host = this.cluster.pick(hash, this.tried.length + i);
      if (host === null || !this.tried.includes(host)) break;
    }
    return host;
  }

  private connectNext(): void {
    const downstream = this.downstream;
    if (downstream.destroyed) return;
    const cstats = this.cluster.stats;
    const host = this.pickHost();
    if (host === null) {
      if (this.tried.length === 0) {
        this.stats.downstreamCxNoRoute++;
        cstats.upstreamCxNoneHealthy++;
        this.info.responseFlags |= ResponseFlag.NoHealthyUpstream;
      } else {
        cstats.upstreamCxConnectAttemptsExceeded++;
        this.info.responseFlags |= ResponseFlag.UpstreamConnectionFailure;
      }
      downstream.destroy();
      return;
    }
    this.tried.push(host);
    const upstream = connectUpstream(this.cluster.spec.pool, host);
    const secure = host.pool.tls !== null;
    this.upstream = upstream;
    let settled = false;
    const failed = () => {
      if (settled) return;
      settled = true;
      upstream.destroy();
      cstats.upstreamCxConnectFail++;
      host.recordLocalOriginFailure();
      if (this.tried.length < this.spec.maxConnectAttempts) {
        this.connectNext();
      } else {
        cstats.upstreamCxConnectAttemptsExceeded++;
        this.info.responseFlags |= ResponseFlag.UpstreamConnectionFailure;
        downstream.destroy();
      }
    };
    upstream.setTimeout(this.cluster.spec.pool.connectTimeoutMs);
    upstream.once('timeout', failed);
    upstream.on('error', failed);
    upstream.once(secure ? 'secureConnect' : 'connect', () => {
      if (settled) return;
      settled = true;
      upstream.off('timeout', failed);
      upstream.off('error', failed);
      const info = this.info;
      info.upstreamHost = host.key;
      info.upstreamWorkload = host.workload;
      const observers = this.observers;
      for (let i = 0; i < observers.length; i++) observers[i].onUpstreamConnected?.(info);
      this.established(upstream);
    });
  }

  private established(upstream: Socket): void {
    const downstream = this.downstream;
    const cstats = this.cluster.stats;
    this.connected = true;
    cstats.upstreamCxTotal++;
    cstats.upstreamCxActive++;
    const idleTimeout = () => {
      this.stats.idleTimeout++;
      upstream.destroy();
      downstream.destroy();
    };
    upstream.setTimeout(this.spec.idleTimeoutMs);
    downstream.setTimeout(this.spec.idleTimeoutMs);
    upstream.on('timeout', idleTimeout);
    downstream.on('timeout', idleTimeout);
    upstream.on('error', () => downstream.destroy());
    upstream.once('close', () => {
      if (this.connected) cstats.upstreamCxActive--;
      this.connected = false;
      downstream.destroySoon();
    });
    if (this.preamble !== null && (upstream as tls.TLSSocket).alpnProtocol === peerExchangeAlpn) upstream.write(this.preamble);
    downstream.pipe(upstream);
    upstream.pipe(downstream);
  }
}

/**
 * A TCP connection to the endpoint, or a TLS one when its transport socket (the cluster's, or the one
 * its transport_socket_matches picked) has an UpstreamTlsContext. A TLS secret that has not arrived
 * gives a socket that fails at once (a connect failure).
 */
function connectUpstream(pool: PoolSettings, host: Host): Socket {
  const keepalive = pool.tcpKeepaliveMs;
  const secure = host.pool.tls;
  if (secure === null) {
    return net.connect({
      host: host.address, port: host.port, noDelay: true, allowHalfOpen: true,
      ...(keepalive !== null ? { keepAlive: true, keepAliveInitialDelay: keepalive } : {}),
    });
  }
  // A half-close is passed on over TLS too (tls.connect reads allowHalfOpen, untyped).
  const connectOptions = upstreamConnectOptions(secure, secure.alpn);
  if (connectOptions instanceof Error) {
    const failed = new net.Socket();
    setImmediate(() => failed.destroy(connectOptions));
    return failed;
  }
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    host: host.address, port: host.port, allowHalfOpen: true, ...connectOptions,
  };
  const socket = tls.connect(options);
  socket.setNoDelay(true);
  if (keepalive !== null) socket.setKeepAlive(true, keepalive);
  return socket;
}
