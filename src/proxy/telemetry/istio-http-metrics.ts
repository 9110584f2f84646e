// The Istio standard HTTP metrics of one connection manager (a StreamObserver): when an exchange is
// over it finds the cells of its label combination in a cache of nested maps keyed by the objects
// involved (the peer workload, the destination service, the source principal) and one number (the
// protocol, response code, gRPC status and response flags), then increments them. A combination's
// labels are built once; afterwards a request costs a few map lookups.
//
// reporter=destination on INBOUND listeners (the server's sidecar), source elsewhere (the client's
// sidecar and gateways, as Istio reports them).
import { exchangedPeer, exchangedPrincipals, ownPrincipal, PeerMetadataExchange } from '../http/filters/metadata-exchange/exchange.ts';
import type { ObserverContext, StreamObserver } from '../http/stream-observers.ts';
import type { HttpStream } from '../http/stream.ts';
import { CounterCell, HistogramCell, type IstioMetricFamilies } from './istio-metric-families.ts';
import { istioLabels, overriddenLabels, type Reporter } from './istio-labels.ts';
import { AuthorityServices, serviceOfCluster, type DestinationService } from './istio-service.ts';
import { peerFromNodeMetadata, unknownPeer, type WorkloadPeer } from './peer-metadata.ts';
import { formatResponseFlags } from './response-flags.ts';
import type { DimensionValue, StatsOverrides } from './stats-plugin-config.ts';

type Cells = {
  requests: CounterCell | null;
  duration: HistogramCell | null;
  requestBytes: HistogramCell | null;
  responseBytes: HistogramCell | null;
};

/** Per combination of the request-dependent dimensions: nested by each one's value. */
type DimensionNode = Map<string, DimensionNode | Cells>;

const Protocol = { http: 0, grpc: 1 } as const;
const protocolNames = ['http', 'grpc'];

/** A gRPC status (0-16) or none (-1), from the response head or trailers. */
function grpcStatusOf(stream: HttpStream): number {
  const headers = stream.responseHeaders;
  if (headers !== null) {
    for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'grpc-status') return parseStatus(headers[i + 1]);
  }
  const trailers = stream.trailers;
  if (trailers !== null) {
    const v = trailers['grpc-status'];
    if (v !== undefined) return parseStatus(String(v));
  }
  return -1;
}

function parseStatus(text: string): number {
  const n = Number(text);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : -1;
}

/** The size of a flat header list as it goes on the wire (HTTP/1.1 form: `name: value\r\n`). */
function headerBytes(headers: readonly string[] | null): number {
  if (headers === null) return 0;
  let n = 0;
  for (let i = 0; i < headers.length; i++) n += headers[i].length + 2;
  return n;
}

export class IstioHttpMetrics implements StreamObserver {
  private readonly families: IstioMetricFamilies;
  private readonly overrides: StatsOverrides;
  private readonly reporter: Reporter;
  private readonly self: WorkloadPeer;
  private readonly exchange: PeerMetadataExchange;
  private readonly authorities: AuthorityServices;
  /** Request-dependent dimensions (label, reader), in a fixed order. */
  private readonly dynamic: [string, (stream: HttpStream) => string][];
  private readonly cache = new Map<WorkloadPeer, Map<DestinationService, Map<string, Map<number, DimensionNode | Cells>>>>();
  private readonly dropped: { requests: boolean; duration: boolean; requestBytes: boolean; responseBytes: boolean };

  constructor(context: ObserverContext, families: IstioMetricFamilies, overrides: StatsOverrides) {
    this.families = families;
    this.overrides = overrides;
    this.reporter = context.trafficDirection === 'INBOUND' ? 'destination' : 'source';
    this.self = peerFromNodeMetadata(context.node.metadata);
    this.exchange = new PeerMetadataExchange(context);
    this.authorities = new AuthorityServices(this.self.namespace);
    const dynamic = new Map<string, (stream: HttpStream) => string>();
    for (const o of overrides.values()) {
      for (const [label, value] of o.dimensions) if ('read' in value) dynamic.set(label, (value as Extract<DimensionValue, { read: unknown }>).read);
    }
    this.dynamic = [...dynamic];
    const dropped = (name: 'requests_total' | 'request_duration_milliseconds' | 'request_bytes' | 'response_bytes') => overrides.get(name)?.drop === true;
    this.dropped = {
      requests: dropped('requests_total'), duration: dropped('request_duration_milliseconds'),
      requestBytes: dropped('request_bytes'), responseBytes: dropped('response_bytes'),
    };
  }

  onRequest(stream: HttpStream): void {
    this.exchange.onRequest(stream);
  }

  onComplete(stream: HttpStream): void {
    const cells = this.cellsOf(stream);
    if (cells.requests !== null) cells.requests.value++;
    if (cells.duration !== null) cells.duration.observe(performance.now() - stream.startTime);
    if (cells.requestBytes !== null) cells.requestBytes.observe(headerBytes(stream.requestHeaders) + stream.requestBodyBytes);
    if (cells.responseBytes !== null) {
      const local = stream.localBody;
      cells.responseBytes.observe(headerBytes(stream.responseHeaders) + stream.responseBodyBytes + (local === null ? 0 : local.length));
    }
  }

  private cellsOf(stream: HttpStream): Cells {
    const inbound = this.reporter === 'destination';
    const peer = exchangedPeer(stream) ?? unknownPeer;
    const clusterName = stream.upstreamClusterName;
    const service = inbound ? this.authorities.of(stream.authority) : clusterName === null ? serviceOfCluster('') : serviceOfCluster(clusterName);
    // Inbound: the client's identity from the connection; outbound: `source destination` as the server's sidecar reported them.
    const principal = inbound ? stream.connection.connectionFacts().peerIdentity()?.principal ?? '' : exchangedPrincipals(stream) ?? '';
    const grpc = stream.grpc ? grpcStatusOf(stream) : -1;
    const key = ((stream.responseFlags * 1000 + stream.responseStatus) * 32 + (grpc + 1)) * 2 + (stream.grpc ? Protocol.grpc : Protocol.http);

    let byService = this.cache.get(peer);
    if (byService === undefined) this.cache.set(peer, (byService = new Map()));
    let byPrincipal = byService.get(service);
    if (byPrincipal === undefined) byService.set(service, (byPrincipal = new Map()));
    let byKey = byPrincipal.get(principal);
    if (byKey === undefined) byPrincipal.set(principal, (byKey = new Map()));
    let node = byKey.get(key);
    const dynamic = this.dynamic;
    if (dynamic.length === 0) {
      if (node === undefined) byKey.set(key, (node = this.build(stream, peer, service, principal, grpc, null)));
      return node as Cells;
    }
    if (node === undefined) byKey.set(key, (node = new Map()));
    let level = node as DimensionNode;
    for (let i = 0; i < dynamic.length; i++) {
      const value = dynamic[i][1](stream);
      const last = i === dynamic.length - 1;
      let next = level.get(value);
      if (next === undefined) {
        next = last ? this.build(stream, peer, service, principal, grpc, this.dynamicValues(stream)) : new Map();
        level.set(value, next);
      }
      if (last) return next as Cells;
      level = next as DimensionNode;
    }
    throw new Error('unreachable');
  }

  private dynamicValues(stream: HttpStream): Map<string, string> {
    return new Map(this.dynamic.map(([label, read]) => [label, read(stream)]));
  }

  /** The cells of a new label combination (once per combination). */
  private build(stream: HttpStream, peer: WorkloadPeer, service: DestinationService, principal: string, grpc: number,
    dynamic: Map<string, string> | null): Cells {
    const inbound = this.reporter === 'destination';
    const base = istioLabels({
      reporter: this.reporter,
      source: inbound ? peer : this.self,
      destination: inbound ? this.self : peer,
      sourcePrincipal: principal === '' ? 'unknown' : inbound ? principal : principal.slice(0, principal.indexOf(' ')),
      destinationPrincipal: principal === '' ? 'unknown' : inbound ? ownPrincipal(stream) || 'unknown' : principal.slice(principal.indexOf(' ') + 1),
      service,
      protocol: protocolNames[stream.grpc ? Protocol.grpc : Protocol.http],
      responseCode: String(stream.responseStatus),
      grpcStatus: grpc < 0 ? '' : String(grpc),
      responseFlags: formatResponseFlags(stream.responseFlags),
      securityPolicy: inbound ? (principal === '' ? 'none' : 'mutual_tls') : 'unknown',
    });
    const f = this.families;
    const o = this.overrides;
    const d = this.dropped;
    return {
      requests: d.requests ? null : f.requestsTotal.cell(overriddenLabels(base, o.get('requests_total'), dynamic)) as CounterCell,
      duration: d.duration ? null : f.requestDuration.cell(overriddenLabels(base, o.get('request_duration_milliseconds'), dynamic)) as HistogramCell,
      requestBytes: d.requestBytes ? null : f.requestBytes.cell(overriddenLabels(base, o.get('request_bytes'), dynamic)) as HistogramCell,
      responseBytes: d.responseBytes ? null : f.responseBytes.cell(overriddenLabels(base, o.get('response_bytes'), dynamic)) as HistogramCell,
    };
  }
}

