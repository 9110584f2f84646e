// Istio's metadata exchange over HTTP headers, run by the standard metrics of each connection
// manager: on the client's sidecar (OUTBOUND listeners, and gateways) the request leaves with this
// proxy's x-envoy-peer-metadata pair and the response's pair is read and removed; on the server's
// sidecar (INBOUND) the request's pair is read and removed before the app sees it, and the response
// leaves with this proxy's pair. A pair the app itself set is dropped, never passed on. A proxy that
// does not know its own workload (no NAMESPACE or WORKLOAD_NAME in its node metadata: not a mesh
// sidecar) sends no pair of its own, but still reads and removes its peers'.
//
// What a stream learned is kept in its peerExchange slot (not in its dynamic metadata, which filters and
// access logs read, and which stays as the filters left it): the exchange of its connection manager,
// so the router, which sees the upstream response head, can hand it over, and the peer it read.
import { localPrincipal } from '../../../tls/san-matcher.ts';
import { takeHeader } from '../../header-list.ts';
import type { ObserverContext } from '../../stream-observers.ts';
import type { HttpStream } from '../../stream.ts';
import {
  decodePeerHeader, encodePeerHeaders, peerMetadataHeader, peerMetadataIdHeader, takePeerHeaders,
} from '../../../telemetry/peer-metadata-header.ts';
import type { WorkloadPeer } from '../../../telemetry/peer-metadata.ts';

/** One stream's part in the exchange. */
export class StreamExchange {
  readonly exchange: PeerMetadataExchange;
  /** The other sidecar's workload, once known. */
  peer: WorkloadPeer | null = null;
  /**
   * Client side: the identities of the mutual TLS connection the server's sidecar saw, as it reported
   * them (`source destination`); null when the hop was not mutual TLS or the server did not say.
   */
  principals: string | null = null;

  constructor(exchange: PeerMetadataExchange) {
    this.exchange = exchange;
  }
}

export class PeerMetadataExchange {
  /** INBOUND: this proxy is the server's sidecar. */
  readonly inbound: boolean;
  /** Whether this proxy sends its own pair (it knows its workload). */
  private readonly sends: boolean;
  private readonly metadata: string;
  private readonly id: string;

  constructor(context: ObserverContext) {
    this.inbound = context.trafficDirection === 'INBOUND';
    const m = context.node.metadata;
    this.sends = typeof m.NAMESPACE === 'string' || typeof m.WORKLOAD_NAME === 'string';
    [this.metadata, this.id] = encodePeerHeaders(context.node);
  }

  /** The request head is in (before the HTTP filters). */
  onRequest(stream: HttpStream): void {
    const headers = stream.requestHeaders;
    const value = takePeerHeaders(headers);
    const state = new StreamExchange(this);
    stream.peerExchange = state;
    if (this.inbound) {
      if (value !== null) state.peer = decodePeerHeader(value);
    } else if (this.sends) {
      headers.push(peerMetadataHeader, this.metadata, peerMetadataIdHeader, this.id);
    }
  }

  /** The upstream response head of `stream` (lower-case flat list), before it is written downstream. */
  onResponseHeaders(state: StreamExchange, headers: string[], stream: HttpStream): void {
    const value = takePeerHeaders(headers);
    const principals = takeHeader(headers, peerPrincipalsHeader);
    if (this.inbound) {
      if (this.sends) headers.push(peerMetadataHeader, this.metadata, peerMetadataIdHeader, this.id);
      // On mutual TLS, both identities go back to the client's sidecar for its source-side labels.
      const client = stream.connection.connectionFacts().peerIdentity()?.principal;
      const own = client === undefined ? '' : ownPrincipal(stream);
      if (client !== undefined && own !== '' && !/\s/.test(client) && !/\s/.test(own)) headers.push(peerPrincipalsHeader, `${client} ${own}`);
    } else {
      if (value !== null) state.peer = decodePeerHeader(value);
      if (principals !== null && /^\S+ \S+$/.test(principals)) state.principals = principals;
    }
  }
}

/** Called by the router with the upstream response head: the stream's exchange, if any, takes its part. */
export function exchangeResponseHeaders(stream: HttpStream, headers: string[]): void {
  const state = stream.peerExchange;
  if (state !== null) state.exchange.onResponseHeaders(state, headers, stream);
}

/** Client side: `source destination` principals of the hop, as the server's sidecar reported them. */
export function exchangedPrincipals(stream: HttpStream): string | null {
  return stream.peerExchange?.principals ?? null;
}

/** The identities of a mutual TLS hop, from the server's sidecar to the client's (never to an app). */
const peerPrincipalsHeader = 'x-envoy-peer-principals';


/** This proxy's identity on an inbound mutual TLS connection: the URI SAN of the certificate it presented. */
export function ownPrincipal(stream: HttpStream): string {
  return localPrincipal(stream.connection.socket);
}

/**
 * Called by the router with the workload of the endpoint an attempt goes to (its `istio.workload`
 * metadata): on the client's side it names the destination until the response says otherwise.
 */
export function exchangeUpstreamHost(stream: HttpStream, workload: WorkloadPeer | null): void {
  if (workload === null) return;
  const state = stream.peerExchange;
  if (state !== null && !state.exchange.inbound) state.peer = workload;
}

/** The peer the exchange learned for `stream`: the other sidecar's workload, or null. */
export function exchangedPeer(stream: HttpStream): WorkloadPeer | null {
  return stream.peerExchange?.peer ?? null;
}
