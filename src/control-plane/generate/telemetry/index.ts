// Istio's Telemetry for one workload → what its listeners carry: the connection managers' `tracing`
// and `access_log` and the `istio.stats` HTTP filter (metrics overrides), and tcp_proxy's
// `access_log`. A sidecar's outbound listeners are its client side, its inbound listeners its server
// side; a gateway's listeners are the client side, as Istio has it. Pure: plain data in and out.
import type { MeshSnapshot, ProxyNode } from '../../registry/model.ts';
import type { EnvoyResource } from '../envoy-types.ts';
import { workloadAccessLogs, type WorkloadAccessLogs } from './access-log.ts';
import { workloadMetrics, type WorkloadMetrics } from './metrics.ts';
import { telemetriesFor } from './selection.ts';
import type { Side } from './side.ts';
import { workloadTracing, type WorkloadTracing } from './tracing.ts';

export interface WorkloadTelemetry {
  tracing: WorkloadTracing;
  accessLogs: WorkloadAccessLogs;
  metrics: WorkloadMetrics;
}

export function workloadTelemetry(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[]): WorkloadTelemetry {
  const telemetries = telemetriesFor(snapshot, { namespace: proxy.metadata.namespace, labels: proxy.metadata.labels }, warnings);
  return {
    tracing: workloadTracing(snapshot, proxy, telemetries, warnings),
    accessLogs: workloadAccessLogs(snapshot, telemetries, warnings),
    metrics: workloadMetrics(snapshot.config, telemetries, warnings),
  };
}

const HCM = 'envoy.filters.network.http_connection_manager';
const TCP_PROXY = 'envoy.filters.network.tcp_proxy';
const ROUTER = 'envoy.filters.http.router';

type Filter = { name?: string; typed_config?: Record<string, unknown> };
type Chain = { filters?: Filter[] };

function decorate(filter: Filter, t: WorkloadTelemetry, side: Side): Filter {
  const config = filter.typed_config;
  if (config === undefined) return filter;
  const accessLog = t.accessLogs[side];
  const logs = accessLog.length > 0 ? { access_log: accessLog } : {};
  if (filter.name === TCP_PROXY) return { ...filter, typed_config: { ...config, ...logs } };
  if (filter.name !== HCM) return filter;
  const tracing = t.tracing[side];
  const stats = t.metrics[side];
  const httpFilters = (config.http_filters as Filter[] | undefined) ?? [];
  let withStats = httpFilters;
  if (stats !== undefined) {
    // Before the router, which ends the chain.
    const router = httpFilters.findIndex((f) => f.name === ROUTER);
    const at = router < 0 ? httpFilters.length : router;
    withStats = [...httpFilters.slice(0, at), stats, ...httpFilters.slice(at)];
  }
  return {
    ...filter,
    typed_config: { ...config, ...(tracing !== undefined ? { tracing } : {}), ...logs, http_filters: withStats },
  };
}

function decorateChain<C extends Chain>(chain: C, t: WorkloadTelemetry, side: Side): C {
  if (chain.filters === undefined) return chain;
  const filters = chain.filters.map((f) => decorate(f, t, side));
  // A TCP chain takes the metrics overrides as Istio's `istio.stats` network filter, before tcp_proxy.
  const stats = t.metrics[side] as Filter | undefined;
  const tcp = filters.findIndex((f) => f.name === TCP_PROXY);
  if (stats !== undefined && tcp >= 0) filters.splice(tcp, 0, { name: stats.name, typed_config: stats.typed_config });
  return { ...chain, filters };
}

/** A copy of `listener` whose connection managers and tcp_proxy filters carry one side's telemetry. */
export function withTelemetry(listener: EnvoyResource, t: WorkloadTelemetry, side: Side): EnvoyResource {
  const out: EnvoyResource = { ...listener };
  if (Array.isArray(listener.filter_chains)) out.filter_chains = (listener.filter_chains as Chain[]).map((c) => decorateChain(c, t, side));
  if (listener.default_filter_chain !== undefined) out.default_filter_chain = decorateChain(listener.default_filter_chain as Chain, t, side);
  return out;
}

export type { Side } from './side.ts';

/** `listeners` (a sidecar's outbound ones, e.g. its TCP listeners) with the workload's client-side telemetry. */
export function withClientTelemetry(snapshot: MeshSnapshot, proxy: ProxyNode, warnings: string[], listeners: EnvoyResource[]): EnvoyResource[] {
  if (listeners.length === 0) return listeners;
  const telemetry = workloadTelemetry(snapshot, proxy, warnings);
  return listeners.map((l) => withTelemetry(l, telemetry, 'client'));
}
