// A DestinationRule traffic policy (already composed for one cluster: traffic-policy.ts) applied to an
// Envoy Cluster, field by field as Istio translates it: load balancer (simple, consistent hash, warmup,
// panic threshold), connection pool (circuit breakers, timeouts, keepalive, per-connection limits, h2
// upgrade), outlier detection. Protocol: HTTP2 and GRPC ports, and h2UpgradePolicy UPGRADE on HTTP
// ports, speak HTTP/2 to the endpoints.
import { parseDuration } from '../../api/hosts.ts';
import type { ClientTLSSettings, ConnectionPoolSettings, LoadBalancerSettings, OutlierDetection } from '../../api/index.ts';
import { TypeUrl } from '../../xds/type-urls.ts';
import { duration, type EnvoyResource } from './envoy-types.ts';
import type { EffectivePolicy } from './traffic-policy.ts';
import { http2Protocols } from './protocols.ts';

/** Istio's default for loadBalancer.simple when a DestinationRule leaves it out. */
export const defaultLbPolicy = 'LEAST_REQUEST';
const maxUint32 = 4294967295;

export interface ClusterPolicyContext {
  /** Istio protocol of the cluster's port (HTTP, HTTP2, GRPC, TCP, TLS, …). */
  protocol: string;
  /** Where the policy came from, for warnings: `DestinationRule ns/name`. */
  where: string;
  warnings: string[];
}

export function applyClusterPolicy(cluster: EnvoyResource, policy: EffectivePolicy, ctx: ClusterPolicyContext): void {
  const h2 = speaksHttp2(policy, ctx.protocol);
  applyConnectionPool(cluster, policy.connectionPool, h2, ctx);
  applyOutlierDetection(cluster, policy.outlierDetection);
  applyLoadBalancer(cluster, policy.loadBalancer, ctx);
  applyClientTls(cluster, policy.tls, h2, ctx);
  for (const field of ['tunnel', 'proxyProtocol'] as const) {
    if (policy[field] !== undefined) ctx.warnings.push(`${ctx.where}: trafficPolicy.${field}: not applied yet by this version of Weft`);
  }
  if (policy.retryBudget !== undefined) applyRetryBudget(cluster, policy);
}

/** HTTP2 and GRPC ports always speak HTTP/2 upstream; h2UpgradePolicy UPGRADE upgrades HTTP ports too. */
export function speaksHttp2(policy: EffectivePolicy, protocol: string): boolean {
  const http = policy.connectionPool?.http;
  return !http?.useClientProtocol && (http2Protocols.has(protocol) || (http?.h2UpgradePolicy === 'UPGRADE' && protocol === 'HTTP'));
}

function ms(value: string | undefined): number | undefined {
  return value === undefined ? undefined : parseDuration(value);
}

function httpProtocolOptions(cluster: EnvoyResource): Record<string, unknown> {
  const typed = (cluster.typed_extension_protocol_options ??= {}) as Record<string, Record<string, unknown>>;
  const key = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
  return (typed[key] ??= { '@type': TypeUrl.HttpProtocolOptions });
}

function thresholds(cluster: EnvoyResource): Record<string, unknown> {
  return (cluster.circuit_breakers as { thresholds: Record<string, unknown>[] }).thresholds[0];
}

/** `h2`: the cluster speaks HTTP/2 to its endpoints. */
function applyConnectionPool(cluster: EnvoyResource, pool: ConnectionPoolSettings | undefined, h2: boolean, ctx: ClusterPolicyContext): void {
  // Istio lifts Envoy's 1024 defaults to 2^32-1: only what the DestinationRule sets limits anything.
  const threshold: Record<string, unknown> = {
    max_connections: { value: maxUint32 },
    max_pending_requests: { value: maxUint32 },
    max_requests: { value: maxUint32 },
    max_retries: { value: maxUint32 },
    track_remaining: true,
  };
  cluster.circuit_breakers = { thresholds: [threshold] };
  const http = pool?.http;
  const tcp = pool?.tcp;
  if (http?.useClientProtocol) {
    httpProtocolOptions(cluster).use_downstream_protocol_config = { http_protocol_options: {}, http2_protocol_options: {} };
  } else if (h2) {
    const http2: Record<string, unknown> = {};
    if (http?.maxConcurrentStreams) http2.max_concurrent_streams = { value: http.maxConcurrentStreams };
    httpProtocolOptions(cluster).explicit_http_config = { http2_protocol_options: http2 };
  }
  if (!pool) return;
  if (http?.http2MaxRequests) threshold.max_requests = { value: http.http2MaxRequests };
  if (http?.http1MaxPendingRequests) threshold.max_pending_requests = { value: http.http1MaxPendingRequests };
  if (http?.maxRetries) threshold.max_retries = { value: http.maxRetries };
  if (tcp?.maxConnections) threshold.max_connections = { value: tcp.maxConnections };
  const connectTimeout = ms(tcp?.connectTimeout);
  if (connectTimeout !== undefined) cluster.connect_timeout = duration(connectTimeout);
  const idle = ms(http?.idleTimeout ?? tcp?.idleTimeout);
  const perConnection = http?.maxRequestsPerConnection;
  if (idle !== undefined || perConnection) {
    const common: Record<string, unknown> = {};
    if (idle !== undefined) common.idle_timeout = duration(idle);
    if (perConnection) common.max_requests_per_connection = { value: perConnection };
    httpProtocolOptions(cluster).common_http_protocol_options = common;
  }
  if (tcp?.tcpKeepalive) {
    // Envoy turns keepalive on with the system's settings for what is left out; the proxy can set only
    // the idle time before the first probe.
    const k = tcp.tcpKeepalive;
    const keepalive: Record<string, unknown> = {};
    const time = ms(k.time);
    if (time !== undefined) keepalive.keepalive_time = { value: Math.max(1, Math.round(time / 1000)) };
    cluster.upstream_connection_options = { tcp_keepalive: keepalive };
    if (k.probes !== undefined || k.interval !== undefined) {
      ctx.warnings.push(`${ctx.where}: connectionPool.tcp.tcpKeepalive: probes and interval are not applied by this version of Weft (the system's values are used)`);
    }
  }
  if (tcp?.maxConnectionDuration !== undefined) {
    ctx.warnings.push(`${ctx.where}: connectionPool.tcp.maxConnectionDuration: not applied yet by this version of Weft`);
  }
  if (http?.http2KeepAlive !== undefined) {
    ctx.warnings.push(`${ctx.where}: connectionPool.http.http2KeepAlive: not applied yet by this version of Weft`);
  }
}

/**
 * ClientTLSSettings SIMPLE and MUTUAL: the sidecar originates TLS to the endpoints, with the files the
 * rule names (caCertificates, clientCertificate, privateKey) read by the proxy, SANs matched exactly,
 * and ALPN h2 when the cluster speaks HTTP/2 (as Istio). credentialName (a Kubernetes secret) is reported.
 */
function applyClientTls(cluster: EnvoyResource, tls: ClientTLSSettings | undefined, h2: boolean, ctx: ClusterPolicyContext): void {
  // ISTIO_MUTUAL (and auto mTLS) need the endpoints' identities: clusters.ts applies them (mtls.ts).
  if (!tls || tls.mode === undefined || tls.mode === 'DISABLE' || tls.mode === 'ISTIO_MUTUAL') return;
  if (tls.credentialName !== undefined) {
    ctx.warnings.push(`${ctx.where}: trafficPolicy.tls.credentialName: not applied by this version of Weft (it names a Kubernetes secret; use caCertificates, clientCertificate and privateKey files)`);
    return;
  }
  const common: Record<string, unknown> = {};
  if (tls.mode === 'MUTUAL') {
    common.tls_certificates = [{ certificate_chain: { filename: tls.clientCertificate }, private_key: { filename: tls.privateKey } }];
  }
  if (!tls.insecureSkipVerify && tls.caCertificates !== undefined) {
    const validation: Record<string, unknown> = { trusted_ca: { filename: tls.caCertificates } };
    if (tls.subjectAltNames && tls.subjectAltNames.length > 0) validation.match_subject_alt_names = tls.subjectAltNames.map((exact) => ({ exact }));
    common.validation_context = validation;
  } else if (!tls.insecureSkipVerify) {
    ctx.warnings.push(`${ctx.where}: trafficPolicy.tls.caCertificates: not set; the endpoints' certificates are not verified (system roots are not used by this version of Weft)`);
  }
  if (tls.caCrl !== undefined) ctx.warnings.push(`${ctx.where}: trafficPolicy.tls.caCrl: not applied yet by this version of Weft`);
  if (h2) common.alpn_protocols = ['h2'];
  cluster.transport_socket = {
    name: 'envoy.transport_sockets.tls',
    typed_config: { '@type': TypeUrl.UpstreamTlsContext, common_tls_context: common, ...(tls.sni !== undefined ? { sni: tls.sni } : {}) },
  };
}

function applyOutlierDetection(cluster: EnvoyResource, od: OutlierDetection | undefined): void {
  if (!od) return;
  const out: Record<string, unknown> = { enforcing_success_rate: { value: 0 } };
  // The deprecated consecutiveErrors means consecutive gateway errors, as in Istio.
  const gateway = od.consecutiveGatewayErrors ?? od.consecutiveErrors;
  if (od.consecutive5xxErrors !== undefined) {
    out.consecutive_5xx = { value: od.consecutive5xxErrors };
    out.enforcing_consecutive_5xx = { value: od.consecutive5xxErrors > 0 ? 100 : 0 };
  }
  if (gateway !== undefined) {
    out.consecutive_gateway_failure = { value: gateway };
    out.enforcing_consecutive_gateway_failure = { value: gateway > 0 ? 100 : 0 };
  }
  const interval = ms(od.interval);
  const base = ms(od.baseEjectionTime);
  if (interval !== undefined) out.interval = duration(interval);
  if (base !== undefined) out.base_ejection_time = duration(base);
  if (od.maxEjectionPercent) out.max_ejection_percent = { value: od.maxEjectionPercent };
  if (od.splitExternalLocalOriginErrors) {
    out.split_external_local_origin_errors = true;
    if (od.consecutiveLocalOriginFailures) {
      out.consecutive_local_origin_failure = { value: od.consecutiveLocalOriginFailures };
      out.enforcing_consecutive_local_origin_failure = { value: 100 };
    }
    out.enforcing_local_origin_success_rate = { value: 0 };
  }
  cluster.outlier_detection = out;
  // Istio turns Envoy's panic mode off (threshold 0) unless minHealthPercent asks for it.
  commonLbConfig(cluster).healthy_panic_threshold = { value: od.minHealthPercent ?? 0 };
}

export function commonLbConfig(cluster: EnvoyResource): Record<string, unknown> {
  return (cluster.common_lb_config ??= {}) as Record<string, unknown>;
}

function applyLoadBalancer(cluster: EnvoyResource, lb: LoadBalancerSettings | undefined, ctx: ClusterPolicyContext): void {
  const simple = lb?.simple;
  switch (simple) {
    case 'RANDOM':
      cluster.lb_policy = 'RANDOM';
      break;
    case 'ROUND_ROBIN':
      cluster.lb_policy = 'ROUND_ROBIN';
      break;
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      cluster.lb_policy = 'LEAST_REQUEST';
      break;
    case 'PASSTHROUGH':
      ctx.warnings.push(`${ctx.where}: loadBalancer.simple: PASSTHROUGH is not supported (no original destination without traffic capture); ${defaultLbPolicy} is used`);
      cluster.lb_policy = defaultLbPolicy;
      break;
    default:
      cluster.lb_policy = defaultLbPolicy;
  }
  const warmup = lb?.warmup;
  const warmupMs = warmup ? ms(warmup.duration) : ms(lb?.warmupDurationSecs);
  if (warmupMs !== undefined && (cluster.lb_policy === 'ROUND_ROBIN' || cluster.lb_policy === 'LEAST_REQUEST')) {
    const slowStart: Record<string, unknown> = { slow_start_window: duration(warmupMs) };
    if (warmup) {
      slowStart.aggression = { default_value: warmup.aggression ?? 1, runtime_key: 'weft.slow_start.aggression' };
      slowStart.min_weight_percent = { value: warmup.minimumPercent ?? 10 };
    }
    if (cluster.lb_policy === 'ROUND_ROBIN') cluster.round_robin_lb_config = { slow_start_config: slowStart };
    else cluster.least_request_lb_config = { slow_start_config: slowStart };
  }
  const hash = lb?.consistentHash;
  if (hash) {
    delete cluster.round_robin_lb_config;
    delete cluster.least_request_lb_config;
    if (hash.maglev) {
      cluster.lb_policy = 'MAGLEV';
      if (hash.maglev.tableSize) cluster.maglev_lb_config = { table_size: { value: String(hash.maglev.tableSize) } };
    } else {
      cluster.lb_policy = 'RING_HASH';
      const size = hash.ringHash?.minimumRingSize ?? hash.minimumRingSize ?? 1024;
      cluster.ring_hash_lb_config = { minimum_ring_size: { value: String(size) }, hash_function: 'XX_HASH' };
    }
  }
  if (lb?.zoneAwareLbSetting !== undefined) {
    ctx.warnings.push(`${ctx.where}: loadBalancer.zoneAwareLbSetting: not applied yet by this version of Weft`);
  }
}

function applyRetryBudget(cluster: EnvoyResource, policy: EffectivePolicy): void {
  const budget = policy.retryBudget!;
  thresholds(cluster).retry_budget = {
    budget_percent: { value: budget.percent ?? 20 },
    min_retry_concurrency: { value: budget.minRetryConcurrency || 3 },
  };
}
