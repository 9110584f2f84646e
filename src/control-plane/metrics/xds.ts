// xDS serving metrics, as istiod names them (pilot/pkg/xds/monitoring.go, pkg/xds/monitoring.go):
// connected proxies, responses pushed per type, their time and size, and the responses proxies rejected.
import { Counter, Gauge, Histogram } from 'prom-client';
import { TypeUrl } from '../../xds/type-urls.ts';
import { controlPlaneRegistry } from './registry.ts';

const registers = [controlPlaneRegistry];

/** Istio's short form of a type URL for the `type` label (model.GetMetricType). */
export function metricType(typeUrl: string): string {
  switch (typeUrl) {
    case TypeUrl.Cluster: return 'cds';
    case TypeUrl.Listener: return 'lds';
    case TypeUrl.RouteConfiguration: return 'rds';
    case TypeUrl.ClusterLoadAssignment: return 'eds';
    case TypeUrl.Secret: return 'sds';
    default: return typeUrl;
  }
}

const xdsClients = new Gauge({
  name: 'pilot_xds', help: 'Number of endpoints connected to this pilot using XDS.', labelNames: ['version'] as const, registers,
});
const pushes = new Counter({
  name: 'pilot_xds_pushes', help: 'Pilot build and send errors for lds, rds, cds and eds.', labelNames: ['type'] as const, registers,
});
const pushTime = new Histogram({
  name: 'pilot_xds_push_time', help: 'Total time in seconds Pilot takes to push lds, rds, cds and eds.',
  labelNames: ['type'] as const, buckets: [0.01, 0.1, 0.5, 1, 3, 5, 10, 20, 30], registers,
});
const configSize = new Histogram({
  name: 'pilot_xds_config_size_bytes', help: 'Distribution of configuration sizes pushed to clients',
  // Istio's boundaries: 10K, 1M, 4M (gRPC's default message limit), 10M, 40M.
  labelNames: ['type'] as const, buckets: [1, 10_000, 1_000_000, 4_000_000, 10_000_000, 40_000_000], registers,
});
const expiredNonce = new Counter({
  name: 'pilot_xds_expired_nonce', help: 'Total number of XDS requests with an expired nonce.', labelNames: ['type'] as const, registers,
});
const totalRejects = new Counter({
  name: 'pilot_total_xds_rejects', help: 'Total number of XDS responses from pilot rejected by proxy.', labelNames: ['type'] as const, registers,
});
const internalErrors = new Counter({
  name: 'pilot_total_xds_internal_errors', help: 'Total number of internal XDS errors in pilot.', registers,
});
// Istio keeps these per-type gauges (labels node and err) beside pilot_total_xds_rejects for older dashboards.
const rejectGauges: Record<string, Gauge<'node' | 'err'>> = Object.fromEntries(['cds', 'eds', 'lds', 'rds'].map((t) => [t, new Gauge({
  name: `pilot_xds_${t}_reject`, help: `Pilot rejected ${t.toUpperCase()} configs.`, labelNames: ['node', 'err'] as const, registers,
})]));

/** Proxies by version: `delta` +1 when one connects, -1 when it goes. */
export function recordXdsClient(version: string, delta: number): void {
  xdsClients.inc({ version }, delta);
}

/** One response written to a proxy: `seconds` since the change that called for it, `bytes` of resources. */
export function recordPush(typeUrl: string, seconds: number, bytes: number): void {
  const type = metricType(typeUrl);
  pushes.inc({ type });
  pushTime.observe({ type }, seconds);
  configSize.observe({ type }, bytes);
}

/** A response that could not be written (the stream was gone or failed). */
export function recordSendError(typeUrl: string): void {
  pushes.inc({ type: `${metricType(typeUrl)}_senderr` });
}

export function recordExpiredNonce(typeUrl: string): void {
  expiredNonce.inc({ type: metricType(typeUrl) });
}

/** A proxy NACKed a response; `errorCode` is the gRPC status code it gave (error_detail.code). */
export function recordReject(typeUrl: string, node: string, errorCode: string): void {
  const type = metricType(typeUrl);
  totalRejects.inc({ type });
  rejectGauges[type]?.inc({ node, err: errorCode });
}

/** The control plane failed to build or send config (a bug, not a user error). */
export function recordInternalError(): void {
  internalErrors.inc();
}
