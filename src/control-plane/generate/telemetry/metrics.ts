// Metrics overrides: Telemetry `metrics` → the `istio.stats` HTTP filter's PluginConfig for each side,
// with Istio's merge (mergeMetrics): overrides accumulate from the root namespace through the
// namespace to the workload, each applied on top of the earlier ones; a level that names providers
// replaces the providers of the levels above. Only Prometheus providers (the built-in `prometheus`,
// or an extension provider of that kind) carry overrides: they are the proxy's standard metrics.
// Metrics are on by default: without an override there is no filter at all. Disabling ALL_METRICS
// drops every metric of that side (until a later override for that side turns metrics back on).
import type { IstioMetric, MetricsOverrides, Telemetry } from '../../../api/index.ts';
import type { JsonValue } from '../../../xds/struct.ts';
import { toStruct } from '../../../xds/struct.ts';
import type { MeshConfig } from '../../registry/model.ts';
import type { EnvoyResource } from '../envoy-types.ts';
import { findProvider } from './providers.ts';
import type { Side } from './side.ts';

/** Istio's metric names in the stats PluginConfig (the Prometheus names without `istio_`). */
export const METRIC_NAMES: Readonly<Record<Exclude<IstioMetric, 'ALL_METRICS'>, string>> = {
  REQUEST_COUNT: 'requests_total',
  REQUEST_DURATION: 'request_duration_milliseconds',
  REQUEST_SIZE: 'request_bytes',
  RESPONSE_SIZE: 'response_bytes',
  TCP_OPENED_CONNECTIONS: 'tcp_connections_opened_total',
  TCP_CLOSED_CONNECTIONS: 'tcp_connections_closed_total',
  TCP_SENT_BYTES: 'tcp_sent_bytes_total',
  TCP_RECEIVED_BYTES: 'tcp_received_bytes_total',
  GRPC_REQUEST_MESSAGES: 'request_messages_total',
  GRPC_RESPONSE_MESSAGES: 'response_messages_total',
};

/** '' names every metric. */
const ALL = '';

interface MetricOverride { drop?: boolean; tags: Map<string, { remove: true } | { value: string }> }
interface SideState { allDisabled: boolean; metrics: Map<string, MetricOverride> }

const cloneOverride = (o: MetricOverride | undefined): MetricOverride => ({ drop: o?.drop, tags: new Map(o?.tags ?? []) });

function apply(target: MetricOverride, o: MetricsOverrides): void {
  if (o.disabled !== undefined) target.drop = o.disabled;
  for (const [tag, t] of Object.entries(o.tagOverrides ?? {})) {
    target.tags.set(tag, (t.operation ?? 'UPSERT') === 'REMOVE' ? { remove: true } : { value: t.value ?? '' });
  }
}

function applyOverride(state: Record<Side, SideState>, o: MetricsOverrides): void {
  const mode = o.match?.mode ?? 'CLIENT_AND_SERVER';
  const sides: Side[] = mode === 'CLIENT' ? ['client'] : mode === 'SERVER' ? ['server'] : ['client', 'server'];
  const metric = o.match?.metric;
  const name = o.match?.customMetric ?? (metric === undefined || metric === 'ALL_METRICS' ? ALL : METRIC_NAMES[metric]);
  for (const side of sides) {
    const s = state[side];
    if (name === ALL && o.disabled === true) {
      s.allDisabled = true;
      continue;
    }
    s.allDisabled = false;
    if (name === ALL) {
      // Applies to every metric, including those already overridden one by one.
      const all = s.metrics.get(ALL) ?? cloneOverride(undefined);
      s.metrics.set(ALL, all);
      for (const m of s.metrics.values()) apply(m, o);
    } else {
      const m = s.metrics.get(name) ?? cloneOverride(s.metrics.get(ALL));
      s.metrics.set(name, m);
      apply(m, o);
    }
  }
}

const isPrometheus = (config: MeshConfig, name: string) => findProvider(config, name)?.prometheus !== undefined;

export interface WorkloadMetrics {
  /** The istio.stats HTTP filter for each side that has overrides. */
  client?: EnvoyResource;
  server?: EnvoyResource;
}

export function workloadMetrics(config: MeshConfig, telemetries: readonly Telemetry[], warnings: string[]): WorkloadMetrics {
  const entries = telemetries.flatMap((t) => (t.spec.metrics ?? []).map((m) => ({ t, m })));
  if (entries.length === 0) return {};
  const defaults = (config.defaultProviders?.metrics?.length ?? 0) > 0 ? config.defaultProviders!.metrics! : ['prometheus'];
  let inScopeNames = defaults;
  for (const { m } of entries) if ((m.providers?.length ?? 0) > 0) inScopeNames = m.providers!.map((p) => p.name);
  const inScope = new Set(inScopeNames);
  const state: Record<Side, SideState> = { client: { allDisabled: false, metrics: new Map() }, server: { allDisabled: false, metrics: new Map() } };
  let interval: string | undefined;
  let parent = defaults;
  for (const { t, m } of entries) {
    const names = (m.providers?.length ?? 0) > 0 ? m.providers!.map((p) => p.name) : parent;
    parent = names;
    const prometheus = names.filter((n) => inScope.has(n) && isPrometheus(config, n));
    for (const n of names) {
      if (findProvider(config, n) === undefined) warnings.push(`Telemetry ${t.metadata.namespace}/${t.metadata.name}: metrics provider "${n}" is not defined in the mesh config's extensionProviders`);
    }
    if (prometheus.length === 0) continue;
    if (m.reportingInterval !== undefined) interval = m.reportingInterval;
    for (const o of m.overrides ?? []) applyOverride(state, o);
  }
  return { client: statsFilter(state.client, interval), server: statsFilter(state.server, interval) };
}

function pluginMetric(name: string, o: MetricOverride): Record<string, JsonValue> {
  const dimensions: Record<string, JsonValue> = {};
  const remove: string[] = [];
  for (const tag of [...o.tags.keys()].sort()) {
    const t = o.tags.get(tag)!;
    if ('remove' in t) remove.push(tag);
    else dimensions[tag] = t.value;
  }
  return {
    name,
    ...(Object.keys(dimensions).length > 0 ? { dimensions } : {}),
    ...(remove.length > 0 ? { tags_to_remove: remove } : {}),
    ...(o.drop === true ? { drop: true } : {}),
  };
}

function statsFilter(s: SideState, interval: string | undefined): EnvoyResource | undefined {
  let metrics: Record<string, JsonValue>[];
  if (s.allDisabled) {
    metrics = [{ name: ALL, drop: true }];
  } else {
    if (s.metrics.size === 0) return undefined;
    // '' first: it applies to every metric, and the per-metric entries (which already include it) refine it.
    const names = [...s.metrics.keys()].sort();
    metrics = names.map((n) => pluginMetric(n, s.metrics.get(n)!));
  }
  const value: Record<string, JsonValue> = { metrics, ...(interval !== undefined ? { tcp_reporting_duration: interval } : {}) };
  return {
    name: 'istio.stats',
    is_optional: true,
    typed_config: {
      '@type': 'type.googleapis.com/xds.type.v3.TypedStruct',
      type_url: 'type.googleapis.com/stats.PluginConfig',
      value: toStruct(value),
    },
  };
}
