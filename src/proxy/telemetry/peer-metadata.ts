// Who the other end of an exchange is, for the Istio standard metrics' source_* / destination_*
// labels: a workload's name, namespace, app, version, canonical service and revision, and cluster.
// It comes from the proxy's own node metadata (NAMESPACE, WORKLOAD_NAME, LABELS, CLUSTER_ID), from
// the peer's x-envoy-peer-metadata header, or from an endpoint's `istio.workload` metadata. Peers are
// interned: the same workload is always the same object, so label sets can be cached by identity.
// What a peer says of itself only ever becomes label values, never an identity for authorization.
import { fromStruct, type JsonValue, type Struct } from '../../xds/struct.ts';

export type WorkloadPeer = {
  readonly workload: string;
  readonly namespace: string;
  readonly app: string;
  readonly version: string;
  readonly canonicalService: string;
  readonly canonicalRevision: string;
  readonly cluster: string;
};

const unknown = 'unknown';

/** Values longer than this (from an untrusted header) are cut: they only become label values. */
const maxValueLength = 253;
/** Distinct peers kept; past this, new ones are reported as unknown (a header cannot grow the table for ever). */
const maxPeers = 4096;

const interned = new Map<string, WorkloadPeer>();

export const unknownPeer: WorkloadPeer = Object.freeze({
  workload: unknown, namespace: unknown, app: unknown, version: unknown,
  canonicalService: unknown, canonicalRevision: unknown, cluster: unknown,
});

function clean(value: unknown): string {
  if (typeof value !== 'string' || value === '') return unknown;
  return value.length > maxValueLength ? value.slice(0, maxValueLength) : value;
}

/** The one object for these values (fields as given; missing ones are `unknown`). */
export function internPeer(fields: {
  workload?: unknown; namespace?: unknown; app?: unknown; version?: unknown;
  canonicalService?: unknown; canonicalRevision?: unknown; cluster?: unknown;
}): WorkloadPeer {
  const workload = clean(fields.workload);
  const app = clean(fields.app);
  const version = clean(fields.version);
  const peer: WorkloadPeer = {
    workload,
    namespace: clean(fields.namespace),
    app,
    version,
    // Istio's defaults: the canonical service falls back to the app label, then the workload name;
    // the canonical revision to the version label, then `latest`.
    canonicalService: clean(fields.canonicalService) !== unknown ? clean(fields.canonicalService) : app !== unknown ? app : workload,
    canonicalRevision: clean(fields.canonicalRevision) !== unknown ? clean(fields.canonicalRevision) : version !== unknown ? version : 'latest',
    cluster: clean(fields.cluster),
  };
  if (peer.workload === unknown && peer.namespace === unknown && app === unknown && peer.cluster === unknown) return unknownPeer;
  const key = JSON.stringify([peer.workload, peer.namespace, app, version, peer.canonicalService, peer.canonicalRevision, peer.cluster]);
  const existing = interned.get(key);
  if (existing !== undefined) return existing;
  if (interned.size >= maxPeers) return unknownPeer;
  Object.freeze(peer);
  interned.set(key, peer);
  return peer;
}

function labelsOf(metadata: Record<string, unknown>): Record<string, unknown> {
  const labels = metadata.LABELS;
  return labels !== null && typeof labels === 'object' && !Array.isArray(labels) ? labels as Record<string, unknown> : {};
}

/** A workload as its node metadata (Istio's names: NAMESPACE, WORKLOAD_NAME, LABELS, CLUSTER_ID) describes it. */
export function peerFromNodeMetadata(metadata: Record<string, unknown>): WorkloadPeer {
  const labels = labelsOf(metadata);
  return internPeer({
    workload: metadata.WORKLOAD_NAME,
    namespace: metadata.NAMESPACE,
    app: labels.app ?? labels['app.kubernetes.io/name'],
    version: labels.version ?? labels['app.kubernetes.io/version'],
    canonicalService: labels['service.istio.io/canonical-name'],
    canonicalRevision: labels['service.istio.io/canonical-revision'],
    cluster: metadata.CLUSTER_ID,
  });
}

/**
 * An endpoint's filter_metadata.istio.workload, in Istio's form
 * `<workload>;<namespace>;<app>;<version>;<cluster>`; null when absent or malformed.
 */
export function peerFromEndpointWorkload(text: unknown): WorkloadPeer | null {
  if (typeof text !== 'string' || text === '') return null;
  const parts = text.split(';');
  if (parts.length < 2) return null;
  return internPeer({
    workload: parts[0], namespace: parts[1], app: parts[2], version: parts[3],
    canonicalService: parts[2], canonicalRevision: parts[3], cluster: parts[4],
  });
}

/** A google.protobuf.Struct in its wire shape ({fields: ...}) or as plain JSON → plain JSON. */
export function structOrJson(value: unknown): Record<string, JsonValue> {
  if (value === null || typeof value !== 'object') return {};
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'fields') return fromStruct(value as Struct);
  return value as Record<string, JsonValue>;
}
