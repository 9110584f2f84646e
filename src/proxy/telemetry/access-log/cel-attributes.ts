// The Envoy attributes a CEL access log filter may read (Envoy's "attributes" reference), each with its
// CEL type and how to read it from a finished exchange. A value the exchange does not have (no such
// header, no upstream) is CEL's error value: the expression is false unless `||`/`&&` absorb it.
import { celError, type CelValue } from './cel-value.ts';
import { envoyResponseFlagsNumber } from './envoy-flags.ts';
import type { LogRecord } from './record.ts';

export type CelType = 'string' | 'int' | 'bool' | 'map' | 'list' | 'dyn';

export type CelAttribute = { type: CelType; read: (r: LogRecord) => CelValue };

function str(read: (r: LogRecord) => string | null): CelAttribute {
  return { type: 'string', read: (r) => read(r) ?? celError };
}

function int(read: (r: LogRecord) => number | null): CelAttribute {
  return { type: 'int', read: (r) => read(r) ?? celError };
}

/** A header list as a CEL map (names in lower case; repeated headers joined with ','). */
function headerMap(list: readonly string[]): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i].toLowerCase();
    const prior = map.get(name);
    map.set(name, prior === undefined ? list[i + 1] : `${prior},${list[i + 1]}`);
  }
  return map;
}

/** The port of `address:port` ('[v6]:port' included). */
function portOf(address: string | null): number | null {
  if (address === null) return null;
  const colon = address.lastIndexOf(':');
  return colon < 0 ? null : Number(address.slice(colon + 1));
}

function urlPath(path: string | null): string | null {
  if (path === null) return null;
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function query(path: string | null): string | null {
  if (path === null) return null;
  const q = path.indexOf('?');
  return q < 0 ? '' : path.slice(q + 1);
}

const attributes: Record<string, CelAttribute> = {
  'request.path': str((r) => r.requestHeader(':path')),
  'request.url_path': str((r) => urlPath(r.requestHeader(':path'))),
  'request.query': str((r) => query(r.requestHeader(':path'))),
  'request.host': str((r) => r.requestHeader(':authority')),
  'request.scheme': str((r) => r.requestHeader(':scheme')),
  'request.method': str((r) => r.requestHeader(':method')),
  'request.referer': str((r) => r.requestHeader('referer')),
  'request.useragent': str((r) => r.requestHeader('user-agent')),
  'request.id': str((r) => r.requestHeader('x-request-id')),
  'request.protocol': str((r) => r.protocol()),
  'request.size': int((r) => r.bytesReceived),
  'request.headers': { type: 'map', read: (r) => headerMap(r.requestHeaderList()) },
  'response.code': int((r) => (r.responseCode === 0 ? null : r.responseCode)),
  'response.code_details': str((r) => r.responseCodeDetails()),
  'response.flags': int((r) => envoyResponseFlagsNumber(r.responseFlags)),
  'response.size': int((r) => r.bytesSent),
  'response.headers': { type: 'map', read: (r) => headerMap(r.responseHeaderList()) },
  'source.address': str((r) => r.downstreamRemoteAddress()),
  'source.port': int((r) => portOf(r.downstreamRemoteAddress())),
  'destination.address': str((r) => r.downstreamLocalAddress()),
  'destination.port': int((r) => portOf(r.downstreamLocalAddress())),
  'upstream.address': str((r) => r.upstreamHost()),
  'upstream.port': int((r) => portOf(r.upstreamHost())),
  'connection.mtls': { type: 'bool', read: (r) => r.downstreamMtls() },
  'connection.requested_server_name': str((r) => r.requestedServerName() ?? ''),
  'connection.uri_san_peer_certificate': str((r) => r.downstreamPeerUriSan()),
  'connection.termination_details': str((r) => r.connectionTerminationDetails()),
  'xds.cluster_name': str((r) => r.upstreamCluster()),
  'xds.route_name': str((r) => r.routeName()),
};

export function celAttribute(path: string): CelAttribute | undefined {
  return Object.hasOwn(attributes, path) ? attributes[path] : undefined;
}
