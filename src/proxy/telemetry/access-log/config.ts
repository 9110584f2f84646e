// The `access_log` list of an http_connection_manager or a tcp_proxy (envoy.config.accesslog.v3.AccessLog)
// → compiled access logs: where each writes (FileAccessLog path, or stdout/stderr for the stream
// loggers), its line format (log_format: text_format, text_format_source.inline_string or json_format;
// Envoy's default text format when none is given) and its filter.
import { fromStruct, type JsonValue, type Struct } from '../../../xds/struct.ts';
import {
  FieldPath, bool, checkFields, isPresent, message, optionalMessage, repeated, requiredString, string, typeUrlOf, type Message,
} from '../../upstream/envoy-config.ts';
import { compileLogFilter, type LogFilter } from './filters.ts';
import { compileFormatString } from './format.ts';
import { compileJsonFormat, type LineFormat, TextLineFormat } from './line-format.ts';

export const fileAccessLogType = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const stdoutAccessLogType = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';
const stderrAccessLogType = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StderrAccessLog';

/** Envoy's format when an access log gives none. */
export const defaultTextFormat = '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" ' +
  '%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% ' +
  '"%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

export type AccessLogSpec = {
  /** '/dev/stdout', '/dev/stderr' or a file path. */
  path: string;
  format: LineFormat;
  /** null: log every exchange. */
  filter: LogFilter | null;
};

const accessLogFields = new Set(['name', 'filter', 'typed_config']);

/** Compiles an `access_log` list; returns [] when there is none. */
export function compileAccessLogs(at: FieldPath, value: unknown): AccessLogSpec[] {
  return repeated(at, value).map((entry, i) => compileAccessLog(at.item(i), entry));
}

function compileAccessLog(at: FieldPath, value: unknown): AccessLogSpec {
  const log = message(at, value);
  checkFields(at, log, accessLogFields);
  const name = string(at.field('name'), log.name) ?? '';
  const tp = at.field('typed_config');
  const config = optionalMessage(tp, log.typed_config);
  if (config === undefined) throw tp.error(`is required (access log ${JSON.stringify(name)})`);
  const filter = isPresent(log.filter) ? compileLogFilter(at.field('filter'), log.filter) : null;
  const type = typeUrlOf(config);
  if (type === fileAccessLogType) return { ...compileFileAccessLog(tp, config), filter };
  if (type === stdoutAccessLogType || type === stderrAccessLogType) {
    checkFields(tp, config, new Set(['@type', 'type_url', 'log_format']));
    const path = type === stdoutAccessLogType ? '/dev/stdout' : '/dev/stderr';
    return { path, format: compileLogFormat(tp.field('log_format'), config.log_format), filter };
  }
  return tp.reject(`${type === '' ? 'has no type' : type} is not a supported access logger (supported: envoy.access_loggers.file, ` +
    'envoy.access_loggers.stdout, envoy.access_loggers.stderr)');
}

const fileFields = new Set(['@type', 'type_url', 'path', 'format', 'json_format', 'typed_json_format', 'log_format', 'access_log_options']);

/** FileAccessLog: path, and the line format in log_format (or the deprecated format / json_format fields). */
function compileFileAccessLog(at: FieldPath, config: Message): { path: string; format: LineFormat } {
  checkFields(at, config, fileFields);
  if (isPresent(config.access_log_options)) at.field('access_log_options').reject('is not supported');
  const path = requiredString(at.field('path'), config.path);
  const given = ['format', 'json_format', 'typed_json_format', 'log_format'].filter((f) => isPresent(config[f]) && config[f] !== '');
  if (given.length > 1) at.reject(`sets ${given.join(' and ')}; at most one access log format is allowed`);
  const which = given[0];
  if (which === undefined) return { path, format: new TextLineFormat(compileFormatString(at, defaultTextFormat), false) };
  const fp = at.field(which);
  if (which === 'format') return { path, format: new TextLineFormat(compileFormatString(fp, requiredString(fp, config.format)), false) };
  if (which === 'log_format') return { path, format: compileLogFormat(fp, config.log_format) };
  return { path, format: compileJsonFormat(fp, structJson(fp, config[which]), false) };
}

const substitutionFields = new Set([
  'text_format', 'json_format', 'text_format_source', 'omit_empty_values', 'content_type', 'formatters', 'json_format_options',
]);

/** envoy.config.core.v3.SubstitutionFormatString; absent: Envoy's default text format. */
export function compileLogFormat(at: FieldPath, value: unknown): LineFormat {
  const format = optionalMessage(at, value);
  if (format === undefined) return new TextLineFormat(compileFormatString(at, defaultTextFormat), false);
  checkFields(at, format, substitutionFields);
  if (repeated(at.field('formatters'), format.formatters).length > 0) {
    at.field('formatters').reject('is not supported (no formatter extensions: %REQ_WITHOUT_QUERY%, %METADATA%, %CEL% are not available)');
  }
  string(at.field('content_type'), format.content_type);
  const omitEmpty = bool(at.field('omit_empty_values'), format.omit_empty_values) ?? false;
  const kinds = ['text_format', 'json_format', 'text_format_source'].filter((k) => isPresent(format[k]) && format[k] !== '');
  if (kinds.length !== 1) at.reject(kinds.length === 0 ? 'needs text_format, text_format_source or json_format' : `sets ${kinds.join(' and ')}`);
  const kind = kinds[0];
  const kp = at.field(kind);
  if (kind === 'text_format') return new TextLineFormat(compileFormatString(kp, requiredString(kp, format.text_format)), omitEmpty);
  if (kind === 'text_format_source') {
    const source = message(kp, format.text_format_source);
    checkFields(kp, source, new Set(['inline_string', 'inline_bytes', 'filename', 'environment_variable']));
    let text: string | undefined;
    if (isPresent(source.inline_string)) text = string(kp.field('inline_string'), source.inline_string);
    else if (isPresent(source.inline_bytes)) text = inlineBytes(kp.field('inline_bytes'), source.inline_bytes);
    else kp.reject('must give the format as inline_string or inline_bytes (filename and environment_variable are not supported)');
    return new TextLineFormat(compileFormatString(kp, text ?? ''), omitEmpty);
  }
  return compileJsonFormat(kp, structJson(kp, format.json_format), omitEmpty);
}

function inlineBytes(at: FieldPath, value: unknown): string {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString();
  if (typeof value === 'string') return Buffer.from(value, 'base64').toString();
  return at.reject('must be bytes');
}

/**
 * A google.protobuf.Struct as plain JSON: the wire form ({fields: {k: {stringValue}}}, from the
 * decoder) or plain JSON as a hand-written config gives it.
 */
function structJson(at: FieldPath, value: unknown): Record<string, JsonValue> {
  const obj = message(at, value);
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0] === 'fields' && typeof obj.fields === 'object' && obj.fields !== null) {
    return fromStruct(normalizeStruct(obj as Struct));
  }
  return obj as Record<string, JsonValue>;
}

/** Struct values decoded with snake_case names (string_value) in the camelCase form fromStruct reads. */
function normalizeStruct(s: Struct): Struct {
  const fields: NonNullable<Struct['fields']> = {};
  for (const [k, v] of Object.entries(s.fields ?? {})) fields[k] = normalizeValue(v as Record<string, unknown>);
  return { fields };
}

function normalizeValue(v: Record<string, unknown>): NonNullable<Struct['fields']>[string] {
  const get = (camel: string, snake: string): unknown => v[camel] ?? v[snake];
  const struct = get('structValue', 'struct_value');
  if (struct !== undefined && struct !== null) return { structValue: normalizeStruct(struct as Struct) };
  const list = get('listValue', 'list_value') as { values?: Record<string, unknown>[] } | undefined | null;
  if (list !== undefined && list !== null) return { listValue: { values: (list.values ?? []).map(normalizeValue) } };
  const str = get('stringValue', 'string_value');
  if (typeof str === 'string') return { stringValue: str };
  const num = get('numberValue', 'number_value');
  if (typeof num === 'number') return { numberValue: num };
  const b = get('boolValue', 'bool_value');
  if (typeof b === 'boolean') return { boolValue: b };
  return { nullValue: 'NULL_VALUE' };
}
