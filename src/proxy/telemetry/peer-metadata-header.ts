// The x-envoy-peer-metadata header pair sidecars exchange: the client's sidecar sends its own
// workload metadata on the request, the server's sidecar on the response; each reads and removes the
// other's. The value is base64 of a JSON object with Istio's node metadata names (NAMESPACE,
// WORKLOAD_NAME, LABELS, CLUSTER_ID); x-envoy-peer-metadata-id carries the node id. A header value is
// decoded once: later requests with the same value find the peer in a bounded table.
import { internPeer, unknownPeer, type WorkloadPeer } from './peer-metadata.ts';
import type { ProxyNodeInfo } from '../http/stream-observers.ts';

export const peerMetadataHeader = 'x-envoy-peer-metadata';
export const peerMetadataIdHeader = 'x-envoy-peer-metadata-id';

/** Longest header value decoded; a longer one is ignored (the peer stays unknown). */
const maxHeaderLength = 8192;
const maxDecoded = 1024;
const decoded = new Map<string, WorkloadPeer>();

/** The header values this proxy sends for itself: [metadata, id]. */
export function encodePeerHeaders(node: ProxyNodeInfo): [string, string] {
  const m = node.metadata;
  const labels = m.LABELS !== null && typeof m.LABELS === 'object' ? m.LABELS as Record<string, unknown> : {};
  const keep = ['app', 'version', 'service.istio.io/canonical-name', 'service.istio.io/canonical-revision'];
  const sent: Record<string, unknown> = {};
  for (const k of keep) if (typeof labels[k] === 'string') sent[k] = labels[k];
  const body = { NAMESPACE: m.NAMESPACE, WORKLOAD_NAME: m.WORKLOAD_NAME, CLUSTER_ID: m.CLUSTER_ID, LABELS: sent };
  return [Buffer.from(JSON.stringify(body)).toString('base64'), node.id];
}

/** The peer a header value describes; unknownPeer when it does not parse. */
export function decodePeerHeader(value: string): WorkloadPeer {
  const known = decoded.get(value);
  if (known !== undefined) return known;
  const peer = parse(value);
  if (decoded.size >= maxDecoded) decoded.clear();
  decoded.set(value, peer);
  return peer;
}

function parse(value: string): WorkloadPeer {
  if (value.length > maxHeaderLength) return unknownPeer;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return unknownPeer;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return unknownPeer;
  const m = json as Record<string, unknown>;
  const labels = m.LABELS !== null && typeof m.LABELS === 'object' ? m.LABELS as Record<string, unknown> : {};
  return internPeer({
    workload: m.WORKLOAD_NAME, namespace: m.NAMESPACE, app: labels.app, version: labels.version,
    canonicalService: labels['service.istio.io/canonical-name'], canonicalRevision: labels['service.istio.io/canonical-revision'],
    cluster: m.CLUSTER_ID,
  });
}

/**
 * Removes the peer header pair from a flat [name, value, ...] list (lower-case names) and returns the
 * metadata value, or null when absent.
 */
export function takePeerHeaders(headers: string[]): string | null {
  let value: string | null = null;
  for (let i = 0; i < headers.length;) {
    const name = headers[i];
    if (name === peerMetadataHeader || name === peerMetadataIdHeader) {
      if (name === peerMetadataHeader && value === null) value = headers[i + 1];
      headers.splice(i, 2);
    } else {
      i += 2;
    }
  }
  return value;
}
