// Access logs: the `access_log` list of a connection manager or tcp_proxy for one side of a
// workload, with Istio's semantics. Off by default. Telemetry accessLogging (root namespace,
// namespace, workload; a level that names providers replaces the providers of the levels above, and
// `disabled` turns a provider off) or MeshConfig.defaultProviders.accessLogging choose file access
// log providers (envoyFileAccessLog, or the built-in `envoy`: /dev/stdout in the mesh's format);
// without either, MeshConfig.accessLogFile logs every request there in accessLogEncoding/accessLogFormat.
import type { AccessLogging, ExtensionProvider, Telemetry } from '../../../api/index.ts';
import { envoyFileAccessLogOf } from '../../../api/mesh-telemetry-providers.ts';
import type { JsonValue } from '../../../xds/struct.ts';
import { toStruct } from '../../../xds/struct.ts';
import type { MeshConfig, MeshSnapshot } from '../../registry/model.ts';
import type { EnvoyResource } from '../envoy-types.ts';
import { ISTIO_JSON_FORMAT, textFormat } from './access-log-formats.ts';
import { findProvider, providerKind } from './providers.ts';
import type { Side } from './side.ts';

const FILE_ACCESS_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const CEL_FILTER = 'type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter';

interface LoggingSpec { disabled?: boolean; filter?: { expression?: string } }

const modeMatches = (match: AccessLogging['match'], side: Side) =>
  match?.mode === undefined || match.mode === 'CLIENT_AND_SERVER' || match.mode === (side === 'client' ? 'CLIENT' : 'SERVER');

const namesOf = (l: AccessLogging) => (l.providers ?? []).map((p) => p.name);

/** Istio's mergeLogs: provider name → how it logs, for one side. */
function mergeLogs(levels: readonly AccessLogging[][], defaults: readonly string[], side: Side): Map<string, LoggingSpec> {
  const providers = new Map<string, LoggingSpec>();
  if (levels.length === 0) {
    for (const d of defaults) providers.set(d, {});
    return providers;
  }
  let inScopeNames: readonly string[] = defaults;
  const filters = new Map<string, LoggingSpec>();
  for (const level of levels) {
    const names = new Set<string>();
    for (const l of level) {
      if (!modeMatches(l.match, side)) continue;
      for (const n of namesOf(l)) {
        names.add(n);
        filters.set(n, l.filter === undefined ? {} : { filter: l.filter });
      }
    }
    if (names.size > 0) inScopeNames = [...names];
  }
  const inScope = new Set(inScopeNames);
  let parent: readonly string[] = defaults;
  for (const level of levels) {
    for (const l of level) {
      const names = namesOf(l).length > 0 ? namesOf(l) : parent;
      parent = names;
      for (const name of names) {
        if (!inScope.has(name) || !modeMatches(l.match, side)) continue;
        providers.set(name, l.disabled === true ? { disabled: true } : (filters.get(name) ?? {}));
      }
    }
  }
  return providers;
}

function fileAccessLog(path: string, logFormat: EnvoyResource, filter: LoggingSpec['filter']): EnvoyResource {
  const expression = filter?.expression;
  return {
    name: 'envoy.access_loggers.file',
    ...(expression ? {
      filter: { extension_filter: { name: 'envoy.access_loggers.extension_filters.cel', typed_config: { '@type': CEL_FILTER, expression } } },
    } : {}),
    typed_config: { '@type': FILE_ACCESS_LOG, path, log_format: logFormat },
  };
}

const textLog = (format: string | undefined, extra: EnvoyResource = {}): EnvoyResource =>
  ({ text_format_source: { inline_string: textFormat(format) }, ...extra });
const jsonLog = (labels: Record<string, unknown> | undefined, extra: EnvoyResource = {}): EnvoyResource => ({
  json_format: toStruct((labels !== undefined && Object.keys(labels).length > 0 ? labels : ISTIO_JSON_FORMAT) as Record<string, JsonValue>),
  ...extra,
});

/** The mesh's format (accessLogEncoding, accessLogFormat), as the legacy accessLogFile and the built-in provider use it. */
function meshLogFormat(config: MeshConfig): EnvoyResource {
  if (config.accessLogEncoding === 'JSON') {
    return jsonLog(config.accessLogFormat === undefined ? undefined : JSON.parse(config.accessLogFormat) as Record<string, unknown>);
  }
  return textLog(config.accessLogFormat);
}

function providerAccessLog(config: MeshConfig, provider: ExtensionProvider, spec: LoggingSpec, warnings: string[]): EnvoyResource | undefined {
  const file = envoyFileAccessLogOf(provider);
  if (file === undefined) {
    // Tracers and metrics providers have no access log (as Istio); the gRPC log services are not supported.
    if (/Als$/.test(providerKind(provider))) warnings.push(`access log provider "${provider.name}": ${providerKind(provider)} is not supported by Weft (envoyFileAccessLog is); nothing is logged to it`);
    return undefined;
  }
  const path = file.path || '/dev/stdout';
  const omit = file.omitEmptyValues ? { omit_empty_values: true } : {};
  if (provider.name === 'envoy' && file.logFormat === undefined && !file.omitEmptyValues) {
    return fileAccessLog(path, meshLogFormat(config), spec.filter);
  }
  const format = file.logFormat?.labels !== undefined ? jsonLog(file.logFormat.labels, omit) : textLog(file.logFormat?.text, omit);
  return fileAccessLog(path, format, spec.filter);
}

/** The access logs of one side; an empty list logs nothing. */
function accessLogs(snapshot: MeshSnapshot, telemetries: readonly Telemetry[], side: Side, warnings: string[]): EnvoyResource[] {
  const config = snapshot.config;
  const withLogging = telemetries.filter((t) => (t.spec.accessLogging?.length ?? 0) > 0);
  for (const t of withLogging) {
    t.spec.accessLogging!.forEach((l, i) => {
      if (l.filter?.expression !== undefined && namesOf(l).length === 0) {
        warnings.push(`Telemetry ${t.metadata.namespace}/${t.metadata.name}: spec.accessLogging[${i}].filter applies only to the providers the same entry names (as in Istio); it names none, so the filter is not used`);
      }
    });
  }
  const levels = withLogging.map((t) => t.spec.accessLogging!);
  const defaults = config.defaultProviders?.accessLogging ?? [];
  if (levels.length === 0 && defaults.length === 0) {
    return config.accessLogFile === undefined ? [] : [fileAccessLog(config.accessLogFile, meshLogFormat(config), undefined)];
  }
  const out: { name: string; log: EnvoyResource }[] = [];
  for (const [name, spec] of mergeLogs(levels, defaults, side)) {
    if (spec.disabled) continue;
    const provider = findProvider(config, name);
    if (provider === undefined) {
      warnings.push(`access log provider "${name}" is not defined in the mesh config's extensionProviders; nothing is logged to it`);
      continue;
    }
    const log = providerAccessLog(config, provider, spec, warnings);
    if (log) out.push({ name: provider.name, log });
  }
  // Sorted by provider name, as Istio, so the order does not depend on the map's.
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((o) => o.log);
}

export interface WorkloadAccessLogs { client: EnvoyResource[]; server: EnvoyResource[] }

export function workloadAccessLogs(snapshot: MeshSnapshot, telemetries: readonly Telemetry[], warnings: string[]): WorkloadAccessLogs {
  return { client: accessLogs(snapshot, telemetries, 'client', warnings), server: accessLogs(snapshot, telemetries, 'server', warnings) };
}
