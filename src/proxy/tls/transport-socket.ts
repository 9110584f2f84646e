// envoy.config.core.v3.TransportSocket on a filter chain or a cluster: `envoy.transport_sockets.tls`
// with its TLS context, or `envoy.transport_sockets.raw_buffer` (plaintext, as when it is absent).
// Returns the typed config of the TLS context (checked to be of the expected type), or null.
import { FieldPath, checkFields, message, optionalMessage, string, typeUrlOf, type Message } from '../upstream/envoy-config.ts';

const prefix = 'type.googleapis.com/envoy.extensions.transport_sockets.';
export const DownstreamTlsContextType = `${prefix}tls.v3.DownstreamTlsContext`;
export const UpstreamTlsContextType = `${prefix}tls.v3.UpstreamTlsContext`;
const rawBufferType = `${prefix}raw_buffer.v3.RawBuffer`;

export function tlsContextOf(at: FieldPath, value: unknown, expected: string): Message | null {
  const socket = optionalMessage(at, value);
  if (!socket) return null;
  checkFields(at, socket, new Set(['name', 'typed_config']));
  const name = string(at.field('name'), socket.name) ?? '';
  const tp = at.field('typed_config');
  const typed = optionalMessage(tp, socket.typed_config);
  const typeUrl = typed ? typeUrlOf(typed) : '';
  if (typeUrl === rawBufferType || (typed === undefined && name === 'envoy.transport_sockets.raw_buffer')) return null;
  if (typed === undefined) throw tp.error(`is required (${name || 'transport socket'}: envoy.transport_sockets.tls with ${expected.slice(expected.lastIndexOf('.') + 1)} is supported)`);
  if (typeUrl !== expected) {
    throw tp.error(`${typeUrl || '(no type)'} is not supported here (${expected.slice('type.googleapis.com/'.length)} and raw_buffer are)`);
  }
  return message(tp, typed);
}
