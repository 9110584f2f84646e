// envoy.config.accesslog.v3.AccessLogFilter → a predicate over a finished exchange: status_code_filter,
// duration_filter, response_flag_filter, not_health_check_filter, and_filter, or_filter and the CEL
// extension_filter. The runtime overrides of comparison values (runtime_key) have no runtime here: the
// default_value is what counts, as in an Envoy without a runtime layer. Other filters reject the config.
import {
  FieldPath, checkFields, isPresent, message, optionalMessage, repeated, requiredString, string, typeUrlOf, uintWrapper, type Message,
} from '../../upstream/envoy-config.ts';
import { responseFlagBit } from '../response-flags.ts';
import { compileCel } from './cel.ts';
import { envoyResponseFlagNames } from './envoy-flags.ts';
import type { LogRecord } from './record.ts';

export type LogFilter = (record: LogRecord) => boolean;

const filterKinds = [
  'status_code_filter', 'duration_filter', 'not_health_check_filter', 'traceable_filter', 'runtime_filter', 'and_filter',
  'or_filter', 'header_filter', 'response_flag_filter', 'grpc_status_filter', 'extension_filter', 'metadata_filter', 'log_type_filter',
];

export const celFilterName = 'envoy.access_loggers.extension_filters.cel';
const celFilterType = 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

export function compileLogFilter(at: FieldPath, value: unknown): LogFilter {
  const filter = message(at, value);
  checkFields(at, filter, new Set(filterKinds));
  const kinds = filterKinds.filter((k) => isPresent(filter[k]));
  if (kinds.length !== 1) at.reject(kinds.length === 0 ? 'sets no filter' : `sets ${kinds.join(' and ')}; exactly one is allowed`);
  const kind = kinds[0];
  const fp = at.field(kind);
  const body = message(fp, filter[kind]);
  switch (kind) {
    case 'status_code_filter': {
      const compare = compileComparison(fp, body);
      return (r) => compare(r.responseCode);
    }
    case 'duration_filter': {
      const compare = compileComparison(fp, body);
      return (r) => compare(r.durationMs);
    }
    case 'not_health_check_filter':
      checkFields(fp, body, new Set());
      // No health checker sends requests through this proxy's listeners: every request passes.
      return () => true;
    case 'response_flag_filter':
      return compileResponseFlagFilter(fp, body);
    case 'and_filter':
    case 'or_filter': {
      checkFields(fp, body, new Set(['filters']));
      const list = repeated(fp.field('filters'), body.filters);
      if (list.length < 2) fp.field('filters').reject(`has ${list.length} filters; at least 2 are required`);
      const filters = list.map((f, i) => compileLogFilter(fp.field('filters').item(i), f));
      return kind === 'and_filter' ? (r) => filters.every((f) => f(r)) : (r) => filters.some((f) => f(r));
    }
    case 'extension_filter':
      return compileExtensionFilter(fp, body);
    default:
      return fp.reject('is not supported (supported: status_code_filter, duration_filter, response_flag_filter, ' +
        'not_health_check_filter, and_filter, or_filter and the CEL extension_filter)');
  }
}

/** ComparisonFilter {op: EQ | GE | LE, value: RuntimeUInt32 {default_value, runtime_key}}. */
function compileComparison(at: FieldPath, filter: Message): (n: number) => boolean {
  checkFields(at, filter, new Set(['comparison']));
  const cp = at.field('comparison');
  const comparison = optionalMessage(cp, filter.comparison);
  if (comparison === undefined) throw cp.error('is required');
  checkFields(cp, comparison, new Set(['op', 'value']));
  const op = comparison.op ?? 'EQ';
  const vp = cp.field('value');
  const runtime = optionalMessage(vp, comparison.value);
  if (runtime === undefined) throw vp.error('is required');
  checkFields(vp, runtime, new Set(['default_value', 'runtime_key']));
  string(vp.field('runtime_key'), runtime.runtime_key);
  const target = uintWrapper(vp.field('default_value'), runtime.default_value) ?? 0;
  switch (op) {
    case 'EQ': case 0: return (n) => n === target;
    case 'GE': case 1: return (n) => n >= target;
    case 'LE': case 2: return (n) => n <= target;
    default: return cp.field('op').reject(`${JSON.stringify(op)} is not one of EQ, GE, LE`);
  }
}

function compileResponseFlagFilter(at: FieldPath, filter: Message): LogFilter {
  checkFields(at, filter, new Set(['flags']));
  const names = repeated(at.field('flags'), filter.flags).map((f, i) => string(at.field('flags').item(i), f) ?? '');
  let bits = 0;
  names.forEach((name, i) => {
    if (!envoyResponseFlagNames.includes(name)) at.field('flags').item(i).reject(`${JSON.stringify(name)} is not an Envoy response flag`);
    bits |= responseFlagBit(name);
  });
  // No flags listed: any flag passes. Flags this proxy never sets can be listed; they never match.
  if (names.length === 0) return (r) => r.responseFlags !== 0;
  return (r) => (r.responseFlags & bits) !== 0;
}

function compileExtensionFilter(at: FieldPath, filter: Message): LogFilter {
  checkFields(at, filter, new Set(['name', 'typed_config']));
  const name = string(at.field('name'), filter.name) ?? '';
  const tp = at.field('typed_config');
  const config = optionalMessage(tp, filter.typed_config);
  if (config === undefined) throw tp.error('is required');
  const type = typeUrlOf(config);
  if (type !== celFilterType && !(type === '' && name === celFilterName)) {
    tp.reject(`${type === '' ? `extension ${JSON.stringify(name)}` : type} is not supported (only ${celFilterName})`);
  }
  checkFields(tp, config, new Set(['@type', 'type_url', 'expression', 'parsed_expr', 'checked_expr']));
  if (isPresent(config.parsed_expr) || isPresent(config.checked_expr)) tp.reject('must give the CEL expression as text in expression');
  const expression = requiredString(tp.field('expression'), config.expression);
  return compileCel(tp.field('expression'), expression);
}
