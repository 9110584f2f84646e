// Which HTTP protocol a cluster speaks to its endpoints: Cluster.typed_extension_protocol_options
// ["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"] (explicit_http_config: http_protocol_options
// or http2_protocol_options; use_downstream_protocol_config), or the older Cluster.http2_protocol_options.
import { FieldPath, checkFields, isPresent, message, optionalMessage, uintWrapper, type Message } from './envoy-config.ts';

export type UpstreamProtocol = {
  /** HTTP/2 to the endpoints (h2c on plaintext). */
  http2: boolean;
  /** use_downstream_protocol_config: speak whatever the downstream spoke (HTTP/1.1 or HTTP/2). */
  useDownstreamProtocol: boolean;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection (Envoy's default 2^31-1). */
  maxConcurrentStreams: number;
  /**
   * initial_stream_window_size / initial_connection_window_size; 0: node:http2's (HTTP/2's 64 KiB), not
   * Envoy's 256 MiB default, so that a paused stream holds a bounded amount (DESIGN.md habit 7).
   */
  initialStreamWindowSize: number;
  initialConnectionWindowSize: number;
};

const extensionName = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const protocolOptionsFields = new Set(['@type', 'explicit_http_config', 'use_downstream_protocol_config', 'common_http_protocol_options']);
const explicitFields = new Set(['http_protocol_options', 'http2_protocol_options']);
const downstreamFields = new Set(['http_protocol_options', 'http2_protocol_options']);
// The windows are applied; connection_keepalive (PING-based liveness) is accepted and not implemented:
// a dead connection is noticed when a stream on it fails.
const http2Fields = new Set(['max_concurrent_streams', 'initial_stream_window_size', 'initial_connection_window_size', 'connection_keepalive']);
const http1Fields = new Set(['accept_http_10', 'header_key_format']);

export const http1Protocol: UpstreamProtocol = {
  http2: false, useDownstreamProtocol: false, maxConcurrentStreams: 2 ** 31 - 1, initialStreamWindowSize: 0, initialConnectionWindowSize: 0,
};
/** RFC 9113 bounds of a window size (as Envoy validates them). */
const minWindow = 65535;
const maxWindow = 2 ** 31 - 1;

/**
 * The cluster's upstream protocol; also returns the extension's common_http_protocol_options (Envoy
 * reads idle_timeout and max_requests_per_connection from there too), which the caller compiles.
 */
export function compileUpstreamProtocol(root: FieldPath, cluster: Message): { protocol: UpstreamProtocol; common: unknown } {
  let protocol = http1Protocol;
  let common: unknown;
  if (isPresent(cluster.http2_protocol_options)) {
    protocol = { ...http1Protocol, http2: true, ...http2Settings(root.field('http2_protocol_options'), cluster.http2_protocol_options) };
  }
  const typed = optionalMessage(root.field('typed_extension_protocol_options'), cluster.typed_extension_protocol_options);
  if (!typed) return { protocol, common };
  for (const key of Object.keys(typed)) {
    const at = root.field('typed_extension_protocol_options').field(JSON.stringify(key));
    if (key !== extensionName) at.reject('is not supported (only envoy.extensions.upstreams.http.v3.HttpProtocolOptions is)');
    const options = message(at, typed[key]);
    checkFields(at, options, protocolOptionsFields);
    common = options.common_http_protocol_options;
    const explicit = optionalMessage(at.field('explicit_http_config'), options.explicit_http_config);
    const downstream = optionalMessage(at.field('use_downstream_protocol_config'), options.use_downstream_protocol_config);
    if (explicit && downstream) at.reject('sets both explicit_http_config and use_downstream_protocol_config');
    if (explicit) {
      const e = at.field('explicit_http_config');
      checkFields(e, explicit, explicitFields);
      if (isPresent(explicit.http2_protocol_options)) {
        protocol = { ...http1Protocol, http2: true, ...http2Settings(e.field('http2_protocol_options'), explicit.http2_protocol_options) };
      } else {
        checkFields(e.field('http_protocol_options'), optionalMessage(e.field('http_protocol_options'), explicit.http_protocol_options) ?? {}, http1Fields);
        protocol = http1Protocol;
      }
    } else if (downstream) {
      const d = at.field('use_downstream_protocol_config');
      checkFields(d, downstream, downstreamFields);
      protocol = { ...http1Protocol, useDownstreamProtocol: true, ...http2Settings(d.field('http2_protocol_options'), downstream.http2_protocol_options) };
    }
  }
  return { protocol, common };
}

type Http2Settings = Pick<UpstreamProtocol, 'maxConcurrentStreams' | 'initialStreamWindowSize' | 'initialConnectionWindowSize'>;

function http2Settings(at: FieldPath, value: unknown): Http2Settings {
  const options = optionalMessage(at, value) ?? {};
  checkFields(at, options, http2Fields);
  const max = uintWrapper(at.field('max_concurrent_streams'), options.max_concurrent_streams);
  if (max === 0) at.field('max_concurrent_streams').reject('must be at least 1');
  return {
    maxConcurrentStreams: max ?? http1Protocol.maxConcurrentStreams,
    initialStreamWindowSize: windowSize(at.field('initial_stream_window_size'), options.initial_stream_window_size),
    initialConnectionWindowSize: windowSize(at.field('initial_connection_window_size'), options.initial_connection_window_size),
  };
}

function windowSize(at: FieldPath, value: unknown): number {
  const size = uintWrapper(at, value);
  if (size === undefined) return 0;
  if (size < minWindow || size > maxWindow) at.reject(`${size} is out of range (${minWindow} to ${maxWindow})`);
  return size;
}
