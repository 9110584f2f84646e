// The Istio standard TCP metrics of one tcp_proxy (a TcpObserver). On the client's side (OUTBOUND)
// the destination is the workload of the endpoint the connection went to (its `istio.workload`
// metadata) and the service comes from the cluster name; on the server's side (INBOUND) the source
// principal is the peer certificate's, the source workload unknown. A connection counts as opened when
// its upstream connection is up (or when it closes without one, so opened and closed always match);
// its bytes are reported when it closes. Cells are cached by the objects involved, as for HTTP.
import type { ObserverContext } from '../http/stream-observers.ts';
import { peerIdentityOf } from '../rbac/peer-identity.ts';
import type { TcpObserver, TcpSessionInfo } from '../tcp/tcp-observers.ts';
import type { CounterCell, IstioMetricFamilies } from './istio-metric-families.ts';
import { istioLabels, overriddenLabels, type Reporter } from './istio-labels.ts';
import { localPrincipal } from '../tls/san-matcher.ts';
import { serviceOfCluster, unknownService, type DestinationService } from './istio-service.ts';
import { peerFromNodeMetadata, unknownPeer, type WorkloadPeer } from './peer-metadata.ts';
import { formatResponseFlags } from './response-flags.ts';
import type { StatsOverrides } from './stats-plugin-config.ts';

type Cells = { sent: CounterCell | null; received: CounterCell | null; opened: CounterCell | null; closed: CounterCell | null };

export class IstioTcpMetrics implements TcpObserver {
  private readonly families: IstioMetricFamilies;
  private readonly overrides: StatsOverrides;
  private readonly reporter: Reporter;
  private readonly self: WorkloadPeer;
  /** Inbound: the service this listener serves (Istio's listener metadata), else unknown. */
  private readonly servedService: DestinationService;
  private readonly cache = new Map<WorkloadPeer, Map<DestinationService, Map<string, Map<number, Cells>>>>();

  constructor(context: ObserverContext, families: IstioMetricFamilies, overrides: StatsOverrides) {
    this.families = families;
    this.overrides = overrides;
    this.reporter = context.trafficDirection === 'INBOUND' ? 'destination' : 'source';
    this.self = peerFromNodeMetadata(context.node.metadata);
    const host = context.serviceHost ?? '';
    this.servedService = host === '' ? unknownService : serviceOfCluster(`outbound|0||${host}`);
  }

  onOpen(_info: TcpSessionInfo): void {}

  onUpstreamConnected(info: TcpSessionInfo): void {
    const cells = this.cellsOf(info);
    if (cells.opened !== null) cells.opened.value++;
  }

  /** Bytes already counted for a connection still open (periodic reports). */
  private readonly reported = new WeakMap<TcpSessionInfo, { sent: number; received: number }>();

  onProgress(info: TcpSessionInfo): void {
    if (info.upstreamHost === null) return;
    this.countBytes(this.cellsOf(info), info);
  }

  onClose(info: TcpSessionInfo): void {
    const cells = this.cellsOf(info);
    // A connection that never reached an endpoint (upstreamHost unset) was not counted as opened yet.
    if (info.upstreamHost === null && cells.opened !== null) cells.opened.value++;
    if (cells.closed !== null) cells.closed.value++;
    this.countBytes(cells, info);
    this.reported.delete(info);
  }

  /** Adds what the connection moved since its last report. */
  private countBytes(cells: Cells, info: TcpSessionInfo): void {
    let done = this.reported.get(info);
    if (done === undefined) this.reported.set(info, (done = { sent: 0, received: 0 }));
    if (cells.sent !== null) cells.sent.value += info.bytesSent - done.sent;
    if (cells.received !== null) cells.received.value += info.bytesReceived - done.received;
    done.sent = info.bytesSent;
    done.received = info.bytesReceived;
  }

  private cellsOf(info: TcpSessionInfo): Cells {
    const inbound = this.reporter === 'destination';
    const peer = (inbound ? info.downstreamWorkload : info.upstreamWorkload) ?? unknownPeer;
    const service = inbound ? this.servedService : serviceOfCluster(info.clusterName);
    const principal = inbound ? peerIdentityOf(info.downstream)?.principal ?? '' : '';
    const flags = info.responseFlags;
    let byService = this.cache.get(peer);
    if (byService === undefined) this.cache.set(peer, (byService = new Map()));
    let byPrincipal = byService.get(service);
    if (byPrincipal === undefined) byService.set(service, (byPrincipal = new Map()));
    let byFlags = byPrincipal.get(principal);
    if (byFlags === undefined) byPrincipal.set(principal, (byFlags = new Map()));
    let cells = byFlags.get(flags);
    if (cells === undefined) byFlags.set(flags, (cells = this.build(info, peer, service, principal)));
    return cells;
  }

  private build(info: TcpSessionInfo, peer: WorkloadPeer, service: DestinationService, principal: string): Cells {
    const inbound = this.reporter === 'destination';
    const base = istioLabels({
      reporter: this.reporter,
      source: inbound ? peer : this.self,
      destination: inbound ? this.self : peer,
      sourcePrincipal: principal === '' ? 'unknown' : principal,
      destinationPrincipal: inbound && principal !== '' ? ownPrincipal(info) : 'unknown',
      service,
      protocol: 'tcp',
      responseCode: null,
      grpcStatus: null,
      responseFlags: formatResponseFlags(info.responseFlags),
      securityPolicy: inbound ? (principal === '' ? 'none' : 'mutual_tls') : 'unknown',
    });
    const f = this.families;
    const o = this.overrides;
    const cell = (name: 'tcp_sent_bytes_total' | 'tcp_received_bytes_total' | 'tcp_connections_opened_total' | 'tcp_connections_closed_total') => {
      const override = o.get(name);
      return override?.drop === true ? null : f.byName(name).cell(overriddenLabels(base, override, null)) as CounterCell;
    };
    return {
      sent: cell('tcp_sent_bytes_total'), received: cell('tcp_received_bytes_total'),
      opened: cell('tcp_connections_opened_total'), closed: cell('tcp_connections_closed_total'),
    };
  }
}

function ownPrincipal(info: TcpSessionInfo): string {
  return localPrincipal(info.downstream) || 'unknown';
}
