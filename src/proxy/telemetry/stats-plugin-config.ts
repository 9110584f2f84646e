// Istio's stats PluginConfig (the `istio.stats` filter's TypedStruct value, written by the control
// plane from Telemetry metrics overrides) → per-metric overrides: drop a metric, remove labels
// (tags_to_remove), or set a label from a value expression (dimensions). Compiled when the config
// arrives; a dimension's expression becomes a reader of the exchange, never parsed per request.
//
// Expressions: a quoted string literal, request.host, request.method, request.path,
// request.url_path, request.headers['name'], response.code, source.principal, destination.port.
import { structOrJson } from './peer-metadata.ts';
import type { HttpStream } from '../http/stream.ts';
import { FieldPath, bool, checkFields, message, repeated, string, type Message } from '../upstream/envoy-config.ts';

export const httpMetricNames = ['requests_total', 'request_duration_milliseconds', 'request_bytes', 'response_bytes'] as const;
export const tcpMetricNames = [
  'tcp_sent_bytes_total', 'tcp_received_bytes_total', 'tcp_connections_opened_total', 'tcp_connections_closed_total',
] as const;
export type IstioMetricName = (typeof httpMetricNames)[number] | (typeof tcpMetricNames)[number];
const allMetricNames: readonly IstioMetricName[] = [...httpMetricNames, ...tcpMetricNames];

/** A dimension's value: fixed, or read from the exchange when it is over. */
export type DimensionValue = { readonly fixed: string } | { readonly read: (stream: HttpStream) => string };

export type MetricOverride = {
  drop: boolean;
  /** Labels left out. */
  readonly remove: Set<string>;
  /** Labels set (or added) from expressions, in the order given. */
  readonly dimensions: Map<string, DimensionValue>;
};

export type StatsOverrides = ReadonlyMap<IstioMetricName, MetricOverride>;

export const noOverrides: StatsOverrides = new Map();

export const pluginConfigTypeUrl = 'type.googleapis.com/stats.PluginConfig';

// Fields of Istio's PluginConfig besides `metrics` that do not change what is reported here.
const pluginConfigFields = new Set([
  'metrics', 'disable_host_header_fallback', 'tcp_reporting_duration', 'reporter', 'stat_prefix', 'rotation_interval',
  'graceful_deletion_interval', 'definitions',
]);
const metricConfigFields = new Set(['name', 'dimensions', 'tags_to_remove', 'drop']);
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function compilePluginConfig(at: FieldPath, value: unknown): StatsOverrides {
  const config = message(at, structOrJson(value));
  checkFields(at, config, pluginConfigFields);
  const out = new Map<IstioMetricName, MetricOverride>();
  const override = (name: IstioMetricName): MetricOverride => {
    let o = out.get(name);
    if (o === undefined) out.set(name, (o = { drop: false, remove: new Set(), dimensions: new Map() }));
    return o;
  };
  repeated(at.field('metrics'), config.metrics).forEach((entry, i) => {
    const mp = at.field('metrics').item(i);
    const m: Message = message(mp, entry);
    checkFields(mp, m, metricConfigFields);
    const name = string(mp.field('name'), m.name) ?? '';
    let targets: readonly IstioMetricName[];
    if (name === '') {
      targets = allMetricNames;
    } else {
      const bare = name.startsWith('istio_') ? name.slice('istio_'.length) : name;
      if (!(allMetricNames as readonly string[]).includes(bare)) {
        mp.field('name').reject(`${JSON.stringify(name)} is not one of ${allMetricNames.join(', ')}`);
      }
      targets = [bare as IstioMetricName];
    }
    const drop = bool(mp.field('drop'), m.drop) ?? false;
    const remove = repeated(mp.field('tags_to_remove'), m.tags_to_remove).map((t, j) => {
      const tag = string(mp.field('tags_to_remove').item(j), t) ?? '';
      if (!labelName.test(tag)) mp.field('tags_to_remove').item(j).reject(`${JSON.stringify(tag)} is not a label name`);
      return tag;
    });
    const dimensions = new Map<string, DimensionValue>();
    const dp = mp.field('dimensions');
    const dims = m.dimensions === undefined || m.dimensions === null ? {} : message(dp, m.dimensions);
    for (const [label, expression] of Object.entries(dims)) {
      if (!labelName.test(label)) dp.reject(`has ${JSON.stringify(label)}, which is not a label name`);
      const text = string(dp.field(label), expression) ?? '';
      dimensions.set(label, compileExpression(dp.field(label), text));
    }
    for (const target of targets) {
      const o = override(target);
      if (drop) o.drop = true;
      for (const tag of remove) o.remove.add(tag);
      for (const [label, v] of dimensions) {
        o.remove.delete(label);
        o.dimensions.set(label, v);
      }
    }
  });
  return out;
}

const headerExpression = /^request\.headers\[\s*(?:'([^']+)'|"([^"]+)")\s*\]$/;
const literal = /^(?:'([^']*)'|"([^"]*)")$/;

function compileExpression(at: FieldPath, text: string): DimensionValue {
  const expression = text.trim();
  const lit = literal.exec(expression);
  if (lit !== null) return { fixed: lit[1] ?? lit[2] };
  const header = headerExpression.exec(expression);
  if (header !== null) {
    const name = (header[1] ?? header[2]).toLowerCase();
    return { read: (stream) => headerValue(stream.requestHeaders, name) };
  }
  switch (expression) {
    case 'request.host': return { read: (stream) => stream.authority || 'unknown' };
    case 'request.method': return { read: (stream) => stream.method };
    case 'request.path': return { read: (stream) => stream.path || 'unknown' };
    case 'request.url_path': return { read: urlPath };
    case 'response.code': return { read: (stream) => String(stream.responseStatus) };
    case 'source.principal': return { read: sourcePrincipal };
    case 'destination.port': return { read: (stream) => String(stream.connection.socket.localPort ?? 0) };
    default:
      return at.reject(`${JSON.stringify(text)} is not a supported expression (a quoted string, request.host, request.method, `
        + `request.path, request.url_path, request.headers['name'], response.code, source.principal, destination.port)`);
  }
}

function headerValue(headers: readonly string[], name: string): string {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1];
  return 'unknown';
}

function urlPath(stream: HttpStream): string {
  const path = stream.path;
  const q = path.indexOf('?');
  return q < 0 ? path : path.slice(0, q);
}

function sourcePrincipal(stream: HttpStream): string {
  return stream.connection.connectionFacts().peerIdentity()?.principal ?? 'unknown';
}
