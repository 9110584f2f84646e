// envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager → its spec.
import { TypeUrl } from '../../xds/type-urls.ts';
import {
  FieldPath, bool, boolWrapper, checkFields, durationMs, integer, message, optionalMessage, repeated, requiredString,
  string, typeUrlOf, type Message,
} from '../upstream/envoy-config.ts';
import type { HttpFilter } from './filters/filter.ts';
import { httpFilterCompiler, type HttpFilterContext } from './filters/registry.ts';
import { compileRouteConfiguration, type RouteCompileContext } from './routing/route-config.ts';
import type { RouteTable } from './routing/route-table.ts';

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
};

const hcmFields = new Set([
  '@type', 'stat_prefix', 'rds', 'route_config', 'http_filters', 'codec_type', 'generate_request_id', 'use_remote_address',
  'common_http_protocol_options', 'normalize_path', 'merge_slashes', 'xff_num_trusted_hops',
  // delayed_close_timeout only tunes how a closing connection is flushed; preserve_external_request_id
  // is what the proxy always does (it never overwrites an incoming x-request-id).
  'delayed_close_timeout', 'preserve_external_request_id',
]);
const rdsFields = new Set(['route_config_name', 'config_source']);
const protocolFields = new Set(['idle_timeout']);
const filterFields = new Set(['name', 'typed_config', 'is_optional', 'disabled']);

/** Envoy's default downstream connection idle timeout. */
const defaultIdleTimeoutMs = 3600_000;

export function compileHttpConnectionManager(at: FieldPath, config: Message, context: RouteCompileContext): HttpConnectionManagerSpec {
  checkFields(at, config, hcmFields);
  const statPrefix = requiredString(at.field('stat_prefix'), config.stat_prefix);

  const codec = (config.codec_type ?? 'AUTO') as string;
  if (codec !== 'AUTO' && codec !== 'HTTP1') at.field('codec_type').reject(`${codec} is not supported yet (AUTO and HTTP1 are; HTTP/1.1 is spoken)`);
  if (boolWrapper(at.field('normalize_path'), config.normalize_path) === true) at.field('normalize_path').reject('true is not supported');
  if (bool(at.field('merge_slashes'), config.merge_slashes) === true) at.field('merge_slashes').reject('true is not supported');
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
  };
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
    const typeUrl = typed ? typeUrlOf(typed) : '';
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
