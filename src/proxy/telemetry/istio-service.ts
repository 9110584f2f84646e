// The destination_service, destination_service_name and destination_service_namespace labels: on the
// client's side from the cluster the route chose (Istio's `outbound|<port>|<subset>|<host>`), on the
// server's side from the request's authority. Each is worked out once per cluster name or authority
// and kept (bounded: a client choosing Host headers cannot grow the table for ever).

import { isIP } from 'node:net';

export type DestinationService = {
  /** The service's host name, e.g. `reviews.default.svc.cluster.local`. */
  readonly service: string;
  readonly name: string;
  readonly namespace: string;
};

export const unknownService: DestinationService = Object.freeze({ service: 'unknown', name: 'unknown', namespace: 'unknown' });

/** Kubernetes service host names: `<name>.<namespace>.svc[.<cluster domain>]`. */
function fromHost(host: string, defaultNamespace: string): DestinationService {
  if (isIP(host) !== 0) return Object.freeze({ service: host, name: host, namespace: 'unknown' });
  const parts = host.split('.');
  if (parts.length === 1) {
    // A short name resolves in the caller's namespace, as Kubernetes DNS does.
    return Object.freeze({ service: `${host}.${defaultNamespace}.svc.cluster.local`, name: host, namespace: defaultNamespace });
  }
  if (parts.length === 2 || parts[2] === 'svc') {
    const service = parts.length === 2 ? `${host}.svc.cluster.local` : host;
    return Object.freeze({ service, name: parts[0], namespace: parts[1] });
  }
  // Any other host (a ServiceEntry's): the host is the name, as Istio reports it.
  return Object.freeze({ service: host, name: host, namespace: defaultNamespace });
}

const byCluster = new Map<string, DestinationService>();
const maxClusters = 10_000;

/** The service of an upstream cluster: the host of an `outbound|port|subset|host` name, else unknown. */
export function serviceOfCluster(clusterName: string): DestinationService {
  const known = byCluster.get(clusterName);
  if (known !== undefined) return known;
  let service = unknownService;
  const parts = clusterName.split('|');
  if (parts.length === 4 && parts[0] === 'outbound' && parts[3] !== '') {
    service = fromHost(parts[3], 'unknown');
  } else if (clusterName === 'PassthroughCluster' || clusterName === 'BlackHoleCluster' || clusterName === 'InboundPassthroughCluster') {
    // Istio names these traffic by the cluster.
    service = Object.freeze({ service: clusterName, name: clusterName, namespace: 'unknown' });
  }
  if (byCluster.size >= maxClusters) byCluster.clear();
  byCluster.set(clusterName, service);
  return service;
}

/** Services by request authority, for one namespace (the server's); bounded. */
export class AuthorityServices {
  private readonly namespace: string;
  private readonly known = new Map<string, DestinationService>();
  private readonly max: number;

  constructor(namespace: string, max = 1000) {
    this.namespace = namespace;
    this.max = max;
  }

  of(authority: string): DestinationService {
    const known = this.known.get(authority);
    if (known !== undefined) return known;
    if (this.known.size >= this.max) return unknownService;
    const service = authority === '' ? unknownService : fromHost(hostOf(authority), this.namespace);
    this.known.set(authority, service);
    return service;
  }
}

/** The host of an authority: without its port, and without the brackets of an IPv6 literal. */
function hostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end > 0 ? authority.slice(1, end) : authority;
  }
  const colon = authority.lastIndexOf(':');
  return (colon > 0 ? authority.slice(0, colon) : authority).toLowerCase();
}
