// envoy.extensions.filters.http.fault.v3.HTTPFault → the fault filter of a connection manager, and the
// same message as a route's typed_per_filter_config entry (which replaces the filter-level config for
// that route entirely, as Envoy's most specific per-filter config does). Everything the filter decides
// per request is computed here: the delay in milliseconds, the abort answer, the percentages.
//
// Supported: delay.fixed_delay, abort.http_status / abort.grpc_status, their percentages,
// max_active_faults, disable_downstream_cluster_stats (no downstream cluster stats are kept). Rejected,
// naming the field: header_delay, header_abort, response_rate_limit, downstream_nodes, headers,
// upstream_cluster, the *_runtime overrides (there is no runtime) and filter_metadata.
import { TypeUrl } from '../../../../xds/type-urls.ts';
import {
  FieldPath, bool, checkFields, durationMs, integer, isPresent, optionalMessage, uintWrapper, type Message,
} from '../../../upstream/envoy-config.ts';
import type { HttpFilter } from '../filter.ts';
import { registerHttpFilter, type HttpFilterContext } from '../registry.ts';
import { FaultFilter } from './filter.ts';
import { FractionalPercent, compileFractionalPercent } from './percentage.ts';
import { AbortKind, FaultSettings } from './settings.ts';

const faultFields = new Set(['@type', 'type_url', 'delay', 'abort', 'max_active_faults', 'disable_downstream_cluster_stats']);
const unsupportedFaultFields = [
  'response_rate_limit', 'downstream_nodes', 'headers', 'upstream_cluster', 'delay_percent_runtime', 'abort_percent_runtime',
  'delay_duration_runtime', 'abort_http_status_runtime', 'max_active_faults_runtime', 'response_rate_limit_percent_runtime',
  'abort_grpc_status_runtime', 'filter_metadata',
];
const delayFields = new Set(['fixed_delay', 'percentage']);
const abortFields = new Set(['http_status', 'grpc_status', 'percentage']);

/** Whether a field holds more than its proto default ('' and [] are what an unset field looks like in JSON). */
function isSet(value: unknown): boolean {
  if (!isPresent(value) || value === '' || value === false) return false;
  return !Array.isArray(value) || value.length > 0;
}

export function compileFaultSettings(config: Message, at: FieldPath): FaultSettings {
  for (const field of unsupportedFaultFields) if (isSet(config[field])) at.field(field).reject('is not supported by the fault filter');
  checkFields(at, config, new Set([...faultFields, ...unsupportedFaultFields]));
  bool(at.field('disable_downstream_cluster_stats'), config.disable_downstream_cluster_stats);

  let delayMs = 0;
  let delayPercent = new FractionalPercent(0, 100);
  const delay = optionalMessage(at.field('delay'), config.delay);
  if (delay !== undefined) {
    const dp = at.field('delay');
    if (isPresent(delay.header_delay)) dp.field('header_delay').reject('is not supported (only fixed_delay)');
    checkFields(dp, delay, delayFields);
    if (!isPresent(delay.fixed_delay)) dp.reject('must set fixed_delay');
    delayMs = durationMs(dp.field('fixed_delay'), delay.fixed_delay)!;
    if (delayMs === 0 && isZeroDuration(delay.fixed_delay)) dp.field('fixed_delay').reject('must be greater than 0');
    delayPercent = compileFractionalPercent(dp.field('percentage'), delay.percentage);
  }

  let abortKind: AbortKind = AbortKind.None;
  let httpStatus = 0;
  let grpcStatus = 0;
  let abortPercent = new FractionalPercent(0, 100);
  const abort = optionalMessage(at.field('abort'), config.abort);
  if (abort !== undefined) {
    const ap = at.field('abort');
    if (isPresent(abort.header_abort)) ap.field('header_abort').reject('is not supported (only http_status and grpc_status)');
    checkFields(ap, abort, abortFields);
    const hasHttp = isPresent(abort.http_status);
    const hasGrpc = isPresent(abort.grpc_status);
    if (hasHttp === hasGrpc) ap.reject('must set exactly one of http_status, grpc_status');
    if (hasHttp) {
      abortKind = AbortKind.Http;
      httpStatus = integer(ap.field('http_status'), abort.http_status)!;
      if (httpStatus < 200 || httpStatus >= 600) ap.field('http_status').reject(`${httpStatus} is not between 200 and 599`);
    } else {
      abortKind = AbortKind.Grpc;
      grpcStatus = integer(ap.field('grpc_status'), abort.grpc_status)!;
      if (grpcStatus < 0 || grpcStatus > 0xffffffff) ap.field('grpc_status').reject(`${grpcStatus} is not a uint32`);
    }
    abortPercent = compileFractionalPercent(ap.field('percentage'), abort.percentage);
  }

  const max = uintWrapper(at.field('max_active_faults'), config.max_active_faults);
  return new FaultSettings(delayMs, delayPercent, abortKind, httpStatus, grpcStatus, abortPercent, max ?? Infinity);
}

function isZeroDuration(value: unknown): boolean {
  if (typeof value === 'string') return /^0+(\.0*)?s$/.test(value);
  const d = value as Message;
  return Number(d.seconds ?? 0) === 0 && Number(d.nanos ?? 0) === 0;
}

export function compileFaultConfig(config: Message, at: FieldPath, name: string): (context: HttpFilterContext) => HttpFilter {
  const settings = compileFaultSettings(config, at);
  return (context) => new FaultFilter(name, settings, context.stats.faultStats());
}

export function register(): void {
  registerHttpFilter(TypeUrl.Fault, compileFaultConfig, compileFaultSettings);
}
