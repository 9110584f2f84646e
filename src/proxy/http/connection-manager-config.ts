// envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager → its spec: the
// codec (codec_type; HTTP/2 settings), routes, HTTP filters, request id and forwarding options, path
// normalization, and which upgrades (upgrade_configs) are relayed.
import { TypeUrl } from '../../xds/type-urls.ts';
import {
  FieldPath, bool, boolWrapper, checkFields, durationMs, integer, message, optionalMessage, repeated, requiredString,
  string, uintWrapper, type Message,
} from '../upstream/envoy-config.ts';
import type { HttpFilter } from './filters/filter.ts';
import { httpFilterCompiler, type HttpFilterContext } from './filters/registry.ts';
import { filterTypeUrl } from './filters/typed-struct.ts';
import { EscapedSlashesAction, type PathNormalization } from './path-normalization.ts';
import { compileRouteConfiguration, type RouteCompileContext } from './routing/route-config.ts';
import type { RouteTable } from './routing/route-table.ts';
import { compileStreamObservers, observerFields, type ObserverContext, type StreamObserver } from './stream-observers.ts';

/** codec_type: AUTO tells HTTP/1.1 from h2c by the HTTP/2 connection preface (or, with TLS, ALPN). */
export const Codec = { Auto: 0, Http1: 1, Http2: 2 } as const;
export type Codec = (typeof Codec)[keyof typeof Codec];

/** http2_protocol_options the codec applies; null: node:http2's default (HTTP/2's 64 KiB windows, no stream limit). */
export type Http2Settings = {
  maxConcurrentStreams: number | null;
  initialStreamWindowSize: number | null;
  initialConnectionWindowSize: number | null;
};

export type HttpConnectionManagerSpec = {
  statPrefix: string;
  /** rds.route_config_name, or null with an inline route_config. */
  rdsName: string | null;
  inlineRoutes: RouteTable | null;
  filters: ((context: HttpFilterContext) => HttpFilter)[];
  generateRequestId: boolean;
  useRemoteAddress: boolean;
  /** Downstream keep-alive connection idle timeout. */
  idleTimeoutMs: number;
  codec: Codec;
  http2: Http2Settings;
  /** upgrade_configs: upgrade type (lower-cased) → enabled. Routes may enable or disable a type for themselves. */
  upgrades: ReadonlyMap<string, boolean>;
  /** normalize_path / merge_slashes / path_with_escaped_slashes_action; null: paths are left as received. */
  pathNormalization: PathNormalization | null;
  /** Access logs, tracing, metrics (stream-observers.ts): built per connection manager. */
  observers: ((context: ObserverContext) => StreamObserver)[];
};

const hcmFields = new Set([
  '@type', 'stat_prefix', 'rds', 'route_config', 'http_filters', 'codec_type', 'generate_request_id', 'use_remote_address',
  'common_http_protocol_options', 'normalize_path', 'merge_slashes', 'path_with_escaped_slashes_action', 'xff_num_trusted_hops',
  // delayed_close_timeout only tunes how a closing connection is flushed; preserve_external_request_id
  // is what the proxy always does (it never overwrites an incoming x-request-id).
  'delayed_close_timeout', 'preserve_external_request_id',
  'http2_protocol_options', 'upgrade_configs',
]);
const rdsFields = new Set(['route_config_name', 'config_source']);
const protocolFields = new Set(['idle_timeout']);
const filterFields = new Set(['name', 'typed_config', 'is_optional', 'disabled']);
// The HTTP/2 settings the codec applies; the others (hpack, frame flood limits, keepalive, CONNECT, …) are not implemented.
const http2Fields = new Set(['max_concurrent_streams', 'initial_stream_window_size', 'initial_connection_window_size']);
const upgradeFields = new Set(['upgrade_type', 'enabled', 'filters']);
const codecs: Record<string, Codec> = { AUTO: Codec.Auto, HTTP1: Codec.Http1, HTTP2: Codec.Http2 };
/** Envoy's bounds of HTTP/2 windows (RFC 9113: at least the initial 65535, at most 2^31-1). */
const minWindow = 65535;
const maxWindow = 2 ** 31 - 1;

/** Envoy's default downstream connection idle timeout. */
const defaultIdleTimeoutMs = 3600_000;

export function compileHttpConnectionManager(at: FieldPath, config: Message, context: RouteCompileContext): HttpConnectionManagerSpec {
  checkFields(at, config, new Set([...hcmFields, ...observerFields()]));
  const statPrefix = requiredString(at.field('stat_prefix'), config.stat_prefix);

  const codecName = (config.codec_type ?? 'AUTO') as string;
  const codec = codecs[codecName];
  if (codec === undefined) at.field('codec_type').reject(`${codecName} is not supported (AUTO, HTTP1 and HTTP2 are)`);
  const pathNormalization = compilePathNormalization(at, config);
  const trustedHops = integer(at.field('xff_num_trusted_hops'), config.xff_num_trusted_hops) ?? 0;
  if (trustedHops !== 0) at.field('xff_num_trusted_hops').reject(`${trustedHops} is not supported (only 0)`);
  durationMs(at.field('delayed_close_timeout'), config.delayed_close_timeout);

  let rdsName: string | null = null;
  let inlineRoutes: RouteTable | null = null;
  const rds = optionalMessage(at.field('rds'), config.rds);
  const hasInline = config.route_config !== undefined && config.route_config !== null;
  if ((rds !== undefined) === hasInline) at.reject('must set exactly one of rds, route_config');
  if (rds) {
    checkFields(at.field('rds'), rds, rdsFields);
    rdsName = requiredString(at.field('rds').field('route_config_name'), rds.route_config_name);
  } else {
    const name = string(at.field('route_config').field('name'), message(at.field('route_config'), config.route_config).name) ?? '';
    inlineRoutes = compileRouteConfiguration(`${at.resource}: ${at.field('route_config').path} ${name}`.trimEnd(),
      config.route_config, context, true);
  }

  let idleTimeoutMs = defaultIdleTimeoutMs;
  const protocol = optionalMessage(at.field('common_http_protocol_options'), config.common_http_protocol_options);
  if (protocol) {
    checkFields(at.field('common_http_protocol_options'), protocol, protocolFields);
    const idle = durationMs(at.field('common_http_protocol_options').field('idle_timeout'), protocol.idle_timeout);
    // 0 disables it; node:http's keepAliveTimeout 0 means the same.
    if (idle !== undefined) idleTimeoutMs = idle;
  }

  return {
    statPrefix,
    rdsName,
    inlineRoutes,
    filters: compileHttpFilters(at.field('http_filters'), config.http_filters),
    generateRequestId: boolWrapper(at.field('generate_request_id'), config.generate_request_id) ?? true,
    useRemoteAddress: boolWrapper(at.field('use_remote_address'), config.use_remote_address) ?? false,
    idleTimeoutMs,
    codec,
    http2: compileHttp2Settings(at.field('http2_protocol_options'), config.http2_protocol_options),
    upgrades: compileUpgradeConfigs(at.field('upgrade_configs'), config.upgrade_configs),
    pathNormalization,
    observers: compileStreamObservers(at, config),
  };
}

const escapedSlashesActions: Record<string, EscapedSlashesAction> = {
  IMPLEMENTATION_SPECIFIC_DEFAULT: EscapedSlashesAction.KeepUnchanged,
  KEEP_UNCHANGED: EscapedSlashesAction.KeepUnchanged,
  REJECT_REQUEST: EscapedSlashesAction.RejectRequest,
  UNESCAPE_AND_REDIRECT: EscapedSlashesAction.UnescapeAndRedirect,
  UNESCAPE_AND_FORWARD: EscapedSlashesAction.UnescapeAndForward,
};
const escapedSlashesActionNames = Object.keys(escapedSlashesActions);

/** normalize_path, merge_slashes, path_with_escaped_slashes_action; null when none changes a path. */
function compilePathNormalization(at: FieldPath, config: Message): PathNormalization | null {
  const normalize = boolWrapper(at.field('normalize_path'), config.normalize_path) ?? false;
  const mergeSlashes = bool(at.field('merge_slashes'), config.merge_slashes) ?? false;
  const raw = config.path_with_escaped_slashes_action ?? 'IMPLEMENTATION_SPECIFIC_DEFAULT';
  const name = typeof raw === 'number' ? escapedSlashesActionNames[raw] : String(raw);
  const escapedSlashes = name === undefined ? undefined : escapedSlashesActions[name];
  if (escapedSlashes === undefined) {
    return at.field('path_with_escaped_slashes_action').reject(`${String(raw)} is not one of ${escapedSlashesActionNames.join(', ')}`);
  }
  if (!normalize && !mergeSlashes && escapedSlashes === EscapedSlashesAction.KeepUnchanged) return null;
  return { normalize, mergeSlashes, escapedSlashes };
}

function compileHttp2Settings(at: FieldPath, value: unknown): Http2Settings {
  const settings: Http2Settings = { maxConcurrentStreams: null, initialStreamWindowSize: null, initialConnectionWindowSize: null };
  const options = optionalMessage(at, value);
  if (!options) return settings;
  checkFields(at, options, http2Fields);
  const streams = uintWrapper(at.field('max_concurrent_streams'), options.max_concurrent_streams);
  if (streams !== undefined) {
    if (streams < 1 || streams > maxWindow) at.field('max_concurrent_streams').reject(`${streams} is out of range (1 to ${maxWindow})`);
    settings.maxConcurrentStreams = streams;
  }
  settings.initialStreamWindowSize = windowSize(at.field('initial_stream_window_size'), options.initial_stream_window_size);
  settings.initialConnectionWindowSize = windowSize(at.field('initial_connection_window_size'), options.initial_connection_window_size);
  return settings;
}

function windowSize(at: FieldPath, value: unknown): number | null {
  const size = uintWrapper(at, value);
  if (size === undefined) return null;
  if (size < minWindow || size > maxWindow) at.reject(`${size} is out of range (${minWindow} to ${maxWindow})`);
  return size;
}

/** upgrade_configs → type → enabled. Upgrade-specific filter chains and CONNECT are not supported. */
function compileUpgradeConfigs(at: FieldPath, value: unknown): ReadonlyMap<string, boolean> {
  const upgrades = new Map<string, boolean>();
  repeated(at, value).forEach((entry, i) => {
    const up = at.item(i);
    const config = message(up, entry);
    checkFields(up, config, upgradeFields);
    const type = requiredString(up.field('upgrade_type'), config.upgrade_type).toLowerCase();
    if (type === 'connect') up.field('upgrade_type').reject('CONNECT is not supported');
    if (type === 'h2c') up.field('upgrade_type').reject('h2c is not an upgrade the connection manager relays (HTTP/2 is spoken with prior knowledge)');
    if (repeated(up.field('filters'), config.filters).length > 0) up.field('filters').reject('(an upgrade-specific filter chain) is not supported');
    if (upgrades.has(type)) up.field('upgrade_type').reject(`${type} appears twice`);
    upgrades.set(type, boolWrapper(up.field('enabled'), config.enabled) ?? true);
  });
  return upgrades;
}

function compileHttpFilters(at: FieldPath, value: unknown): ((context: HttpFilterContext) => HttpFilter)[] {
  const entries = repeated(at, value);
  if (entries.length === 0) at.reject('must end with the router filter');
  const factories: ((context: HttpFilterContext) => HttpFilter)[] = [];
  entries.forEach((entry, i) => {
    const fp = at.item(i);
    const f = message(fp, entry);
    checkFields(fp, f, filterFields);
    const name = string(fp.field('name'), f.name) ?? '';
    const last = i === entries.length - 1;
    const typed = optionalMessage(fp.field('typed_config'), f.typed_config);
    const typeUrl = typed ? filterTypeUrl(typed) : '';
    if (last && typeUrl !== TypeUrl.Router) fp.reject(`(${name || typeUrl || 'unnamed'}) must be the router (${TypeUrl.Router})`);
    if (!last && typeUrl === TypeUrl.Router) fp.reject('the router must be the last filter');
    // A disabled filter only runs where a route enables it through typed_per_filter_config; enabling it
    // per route is not supported yet, so it is left out of the chain (a route's entry for it is never read).
    if (bool(fp.field('disabled'), f.disabled) === true) return;
    const compile = typed ? httpFilterCompiler(typeUrl) : undefined;
    if (compile === undefined) {
      if (bool(fp.field('is_optional'), f.is_optional) === true) return;
      throw fp.error(`(${name || 'unnamed'}): filter type ${typeUrl || '(no typed_config)'} is not supported`);
    }
    factories.push(compile(typed!, fp.field('typed_config'), name));
  });
  return factories;
}
