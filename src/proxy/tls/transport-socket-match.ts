// Cluster.transport_socket_matches: per-endpoint transport sockets, as Istio's auto mTLS uses them
// (`tlsMode-istio` → TLS to endpoints whose metadata says they run a sidecar, `tlsMode-disabled` →
// plaintext to the others, in the same cluster). As Envoy: an endpoint takes the first match whose
// `match` fields are all present, with equal values, in its `envoy.transport_socket_match` filter
// metadata (an empty match matches every endpoint); with none, the cluster's transport_socket. The
// choice is made when endpoints are applied (cluster.ts), never per request.
import type { JsonValue, Struct } from '../../xds/struct.ts';
import { fromStruct } from '../../xds/struct.ts';
import { FieldPath, canonicalJson, checkFields, message, optionalMessage, repeated, requiredString, type Message } from '../upstream/envoy-config.ts';
import type { SecretStore } from './secret-store.ts';
import { UpstreamTlsContextType, tlsContextOf } from './transport-socket.ts';
import { compileUpstreamTlsContext, type UpstreamTlsSpec } from './upstream-tls-context.ts';

/** The filter metadata namespace an endpoint's match values are read from. */
export const transportSocketMatchNamespace = 'envoy.transport_socket_match';

export type TransportSocketMatch = {
  name: string;
  /** The values an endpoint's metadata must hold (canonical JSON text per key). */
  match: Map<string, string>;
  /** null: plaintext (raw_buffer or no transport socket). */
  tls: UpstreamTlsSpec | null;
};

const matchFields = new Set(['name', 'match', 'transport_socket']);

/** A cluster's transport socket (its default) or that of one of its matches. */
export function compileUpstreamTransportSocket(at: FieldPath, value: unknown, secrets: SecretStore | null): UpstreamTlsSpec | null {
  const context = tlsContextOf(at, value, UpstreamTlsContextType);
  return context === null ? null : compileUpstreamTlsContext(at.field('typed_config'), context, secrets);
}

export function compileTransportSocketMatches(at: FieldPath, value: unknown, secrets: SecretStore | null): TransportSocketMatch[] {
  const seen = new Set<string>();
  return repeated(at, value).map((v, i) => {
    const mp = at.item(i);
    const m = message(mp, v);
    checkFields(mp, m, matchFields);
    const name = requiredString(mp.field('name'), m.name);
    if (seen.has(name)) mp.field('name').reject(`${name} appears twice`);
    seen.add(name);
    const match = new Map<string, string>();
    for (const [key, wanted] of Object.entries(structToJson(mp.field('match'), m.match))) match.set(key, canonicalJson(wanted));
    return { name, match, tls: compileUpstreamTransportSocket(mp.field('transport_socket'), m.transport_socket, secrets) };
  });
}

/**
 * The `envoy.transport_socket_match` values of an LbEndpoint's metadata, or null when it has none.
 * Values are kept as canonical JSON text, compared with the matches' as they are.
 */
export function compileEndpointMatchMetadata(at: FieldPath, value: unknown): Map<string, string> | null {
  const metadata = optionalMessage(at, value);
  const filter = metadata && optionalMessage(at.field('filter_metadata'), metadata.filter_metadata);
  if (!filter || filter[transportSocketMatchNamespace] == null) return null;
  const values = structToJson(at.field('filter_metadata').field(transportSocketMatchNamespace), filter[transportSocketMatchNamespace]);
  const out = new Map<string, string>();
  for (const [key, v] of Object.entries(values)) out.set(key, canonicalJson(v));
  return out;
}

/** The transport socket for an endpoint with this match metadata. */
export function chooseTransportSocket(
  matches: readonly TransportSocketMatch[], fallback: UpstreamTlsSpec | null, metadata: ReadonlyMap<string, string> | null | undefined,
): UpstreamTlsSpec | null {
  for (const m of matches) {
    let all = true;
    for (const [key, wanted] of m.match) {
      if (metadata?.get(key) !== wanted) {
        all = false;
        break;
      }
    }
    if (all) return m.tls;
  }
  return fallback;
}

/**
 * A google.protobuf.Struct as plain JSON: decoded from the wire it arrives in its wire shape
 * ({fields: {k: {stringValue}}}); hand-written resources give plain objects.
 */
function structToJson(at: FieldPath, value: unknown): Record<string, JsonValue> {
  const s: Message | undefined = optionalMessage(at, value);
  if (!s) return {};
  const keys = Object.keys(s);
  if (keys.length === 1 && keys[0] === 'fields' && typeof s.fields === 'object' && s.fields !== null) return fromStruct(s as Struct);
  return s as Record<string, JsonValue>;
}
