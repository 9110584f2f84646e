// What watches every tcp_proxy connection without taking part in it: access logs and the Istio TCP
// metrics. As for HTTP (../http/stream-observers.ts), each kind registers a compiler for the TcpProxy
// fields it reads; compileTcpProxy runs them when the config arrives and the proxy calls the
// observers it got for each connection, never looking them up per connection.
import type { Socket } from 'node:net';
import { ObserverRegistry, type ObserverCompiler, type ObserverContext } from '../http/stream-observers.ts';
import type { FieldPath, Message } from '../upstream/envoy-config.ts';
import type { WorkloadPeer } from '../telemetry/peer-metadata.ts';

/** One tcp_proxy connection as an observer sees it; the proxy fills it in as the connection goes. */
export interface TcpSessionInfo {
  readonly downstream: Socket;
  readonly statPrefix: string;
  /** The cluster picked for the connection ('' until picked). */
  clusterName: string;
  /** "address:port" of the endpoint the connection went to; null until (or unless) connected. */
  upstreamHost: string | null;
  /** Date.now() when the connection was accepted. */
  readonly startTime: number;
  /** Bytes read from the downstream. */
  bytesReceived: number;
  /** Bytes written to the downstream. */
  bytesSent: number;
  /** ResponseFlags bits (../telemetry/response-flags.ts): UF, UH, ... */
  responseFlags: number;
  /** The workload behind the endpoint (its `istio.workload` metadata); null when unknown. */
  upstreamWorkload: WorkloadPeer | null;
  /** The client's workload, from the TCP metadata exchange (peer-exchange.ts); null when unknown. */
  downstreamWorkload: WorkloadPeer | null;
}

export interface TcpObserver {
  /** The connection was accepted; its cluster is known (clusterName set) but no endpoint yet. */
  onOpen(info: TcpSessionInfo): void;
  /** The upstream connection is up (upstreamHost and upstreamWorkload set); not called when it never is. */
  onUpstreamConnected?(info: TcpSessionInfo): void;
  /**
   * Every 15 s while the connection is open (bytesReceived and bytesSent updated to date), so long
   * connections show their traffic before they close, as Istio reports TCP bytes periodically.
   */
  onProgress?(info: TcpSessionInfo): void;
  /** The connection is closed; the byte counts and flags are final. */
  onClose(info: TcpSessionInfo): void;
}

export type TcpObserverCompiler = ObserverCompiler<TcpObserver>;

const tcpObservers = new ObserverRegistry<TcpObserver>();

/** `fields`: the TcpProxy fields this observer kind reads (they become accepted). */
export function registerTcpObserver(fields: readonly string[], compile: TcpObserverCompiler): void {
  tcpObservers.register(fields, compile);
}

export function tcpObserverFields(): string[] {
  return tcpObservers.fields();
}

export function compileTcpObservers(at: FieldPath, config: Message): ((context: ObserverContext) => TcpObserver)[] {
  return tcpObservers.compile(at, config);
}
