// Cluster (CDS) → ClusterSpec. Pure: validates and compiles, touches no connection.
import { compileAssignment, defaultOverprovisioningFactor, type AssignmentSpec } from './endpoint-config.ts';
import {
  FieldPath, bool, canonicalJson, checkFields, durationMs, isPresent, message, optionalMessage, repeated,
  requiredString, string, uintWrapper, type Message,
} from './envoy-config.ts';
import type { SecretStore } from '../tls/secret-store.ts';
import {
  compileTransportSocketMatches, compileUpstreamTransportSocket, type TransportSocketMatch,
} from '../tls/transport-socket-match.ts';
import type { UpstreamTlsSpec } from '../tls/upstream-tls-context.ts';
import { compileUpstreamProtocol, type UpstreamProtocol } from './upstream-protocol.ts';
import {
  loadBalancerConfigFields, loadBalancerPolicy, registeredLoadBalancers, type CompiledLoadBalancer,
} from './load-balancers/registry.ts';
import { percent } from './load-balancers/slow-start.ts';
import { compileOutlierDetection, type OutlierDetectionSpec } from './outlier-detection/config.ts';

/** Envoy's defaults for the DEFAULT priority thresholds. */
export const defaultLimits = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 } as const;

/** A retry budget (replaces max_retries when set): retries may be budgetPercent of the active requests, at least minRetryConcurrency. */
export type RetryBudget = { budgetPercent: number; minRetryConcurrency: number };

export type CircuitBreakerLimits = {
  maxConnections: number;
  maxPendingRequests: number;
  maxRequests: number;
  /** Concurrent retries across the cluster. */
  maxRetries: number;
  retryBudget: RetryBudget | null;
};

/** Settings that shape an endpoint's connection pool: a change means new pools. */
export type PoolSettings = {
  connectTimeoutMs: number;
  idleTimeoutMs: number;
  /** 0: unlimited. */
  maxRequestsPerConnection: number;
  /** HTTP/1.1 or HTTP/2 to the endpoints. */
  protocol: UpstreamProtocol;
  /**
   * upstream_connection_options.tcp_keepalive: null when absent; else the idle time before the first
   * probe in ms (0: the system's default).
   */
  tcpKeepaliveMs: number | null;
  /**
   * TLS to the endpoint (envoy.transport_sockets.tls); null: plaintext. For a cluster, its
   * transport_socket; each endpoint's pool gets the one its transport_socket_matches pick.
   */
  tls: UpstreamTlsSpec | null;
};

/** Address families to ask DNS for (Envoy's dns_lookup_family). */
export type DnsFamily = 'V4_ONLY' | 'V6_ONLY' | 'AUTO' | 'V4_PREFERRED' | 'ALL';

export type DnsSettings = {
  /** dns_refresh_rate (Envoy's default 5 s). */
  refreshMs: number;
  family: DnsFamily;
  /** The assignment whose endpoint addresses are names (or IP addresses, used as they are). */
  assignment: AssignmentSpec;
};

export type ClusterSpec = {
  name: string;
  /** Name used in stats (alt_stat_name, else name). */
  statName: string;
  type: 'EDS' | 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';
  /** STRICT_DNS / LOGICAL_DNS: how the load_assignment's names are resolved; null for other types. */
  dns: DnsSettings | null;
  /** EDS: the ClusterLoadAssignment's name (eds_cluster_config.service_name, else the cluster name). */
  edsServiceName: string;
  lbPolicy: string;
  /** The lb_policy's balancers, compiled with its lb_config. */
  lb: CompiledLoadBalancer;
  /** common_lb_config.healthy_panic_threshold in percent (Envoy's default 50; 0: no panic mode). */
  panicThreshold: number;
  /** common_lb_config.locality_weighted_lb_config is set. */
  localityWeighted: boolean;
  /** null: no outlier detection. */
  outlierDetection: OutlierDetectionSpec | null;
  limits: CircuitBreakerLimits;
  pool: PoolSettings;
  /** transport_socket_matches: per-endpoint transport sockets, chosen by endpoint metadata (pool.tls when none matches). */
  transportSocketMatches: TransportSocketMatch[];
  /** pool settings (with the transport socket matches) as text, to compare them across updates. */
  poolKey: string;
  staticAssignment: AssignmentSpec | null;
  /** The resource as canonical text: an unchanged cluster keeps its state (endpoints, pools, balancer). */
  fingerprint: string;
};

const clusterFields = new Set([
  'name', 'type', 'connect_timeout', 'lb_policy', 'eds_cluster_config', 'load_assignment',
  'common_http_protocol_options', 'circuit_breakers', 'max_requests_per_connection', 'alt_stat_name',
  'common_lb_config', 'outlier_detection',
  // Informational or without effect for EDS/STATIC clusters proxied with backpressure:
  'metadata', 'per_connection_buffer_limit_bytes', 'dns_lookup_family', 'dns_refresh_rate', 'respect_dns_ttl',
  'cleanup_interval', 'ignore_health_on_host_removal',
  'typed_extension_protocol_options', 'http2_protocol_options', 'upstream_connection_options', 'transport_socket',
  'transport_socket_matches',
]);
const connectionOptionsFields = new Set(['tcp_keepalive']);
// Node.js sets only the idle time before the first keepalive probe; probe count and interval stay the system's.
const tcpKeepaliveFields = new Set(['keepalive_time']);
const edsFields = new Set(['eds_config', 'service_name']);
const httpProtocolFields = new Set(['idle_timeout', 'max_requests_per_connection']);
const circuitBreakerFields = new Set(['thresholds']);
// track_remaining only adds stats.
const thresholdFields = new Set(['priority', 'max_connections', 'max_pending_requests', 'max_requests', 'max_retries', 'retry_budget', 'track_remaining']);
const retryBudgetFields = new Set(['budget_percent', 'min_retry_concurrency']);

// update_merge_window only batches host updates; ignore_new_hosts_until_first_hc only matters with
// active health checking (not done): both have no effect here. zone_aware_lb_config,
// close_connections_on_host_set_change and override_host_status are not supported.
const commonLbFields = new Set([
  'healthy_panic_threshold', 'locality_weighted_lb_config', 'update_merge_window', 'ignore_new_hosts_until_first_hc',
  'consistent_hashing_lb_config',
]);
const consistentHashingFields = new Set(['use_hostname_for_hashing']);

/** Envoy's default healthy_panic_threshold. */
const defaultPanicThreshold = 50;

/** Envoy's defaults: 5 s connect timeout, 1 h idle timeout for upstream HTTP connections. */
const defaultConnectTimeoutMs = 5000;
const defaultIdleTimeoutMs = 3600_000;

/** `secrets`: the data plane's SDS secrets, which TLS contexts may refer to (null: none can be). */
export function compileCluster(value: unknown, secrets: SecretStore | null = null): ClusterSpec {
  const probe = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).name : undefined;
  const root = new FieldPath(`Cluster ${typeof probe === 'string' && probe !== '' ? probe : '(unnamed)'}`);
  const c = message(root, value);
  const name = requiredString(root.field('name'), c.name);
  const lbConfigFields = loadBalancerConfigFields();
  checkFields(root, c, new Set([...clusterFields, ...lbConfigFields]));

  const type = (c.type ?? 'STATIC') as string;
  if (type !== 'EDS' && type !== 'STATIC' && type !== 'STRICT_DNS' && type !== 'LOGICAL_DNS') {
    throw root.field('type').error(`${type} is not supported (EDS, STATIC, STRICT_DNS and LOGICAL_DNS are)`);
  }
  const isDns = type === 'STRICT_DNS' || type === 'LOGICAL_DNS';

  const lbPolicy = (c.lb_policy ?? 'ROUND_ROBIN') as string;
  const lb = compileLoadBalancer(root, c, lbPolicy, lbConfigFields);
  const common = compileCommonLbConfig(root.field('common_lb_config'), c.common_lb_config);

  let edsServiceName = name;
  const eds = optionalMessage(root.field('eds_cluster_config'), c.eds_cluster_config);
  if (eds) {
    if (type !== 'EDS') root.field('eds_cluster_config').reject('is only valid for EDS clusters');
    checkFields(root.field('eds_cluster_config'), eds, edsFields);
    edsServiceName = string(root.field('eds_cluster_config').field('service_name'), eds.service_name) || name;
  }

  let staticAssignment: AssignmentSpec | null = null;
  let dns: DnsSettings | null = null;
  if (isDns) {
    const assignment = compileAssignment(`Cluster ${name} load_assignment`, c.load_assignment ?? {}, name, true);
    if (type === 'LOGICAL_DNS' && assignment.endpoints.length !== 1) {
      root.field('load_assignment').reject(`LOGICAL_DNS clusters take exactly one endpoint (${assignment.endpoints.length} given)`);
    }
    const refresh = durationMs(root.field('dns_refresh_rate'), c.dns_refresh_rate) ?? 5000;
    if (refresh < 1) root.field('dns_refresh_rate').reject('must be at least 1ms');
    const family = (c.dns_lookup_family ?? 'AUTO') as string;
    if (!['V4_ONLY', 'V6_ONLY', 'AUTO', 'V4_PREFERRED', 'ALL'].includes(family)) root.field('dns_lookup_family').reject(`${family} is not a known lookup family`);
    dns = { refreshMs: refresh, family: family as DnsFamily, assignment };
  } else if (isPresent(c.load_assignment)) {
    if (type !== 'STATIC') root.field('load_assignment').reject('is only supported for STATIC, STRICT_DNS and LOGICAL_DNS clusters');
    staticAssignment = compileAssignment(`Cluster ${name} load_assignment`, c.load_assignment, name);
  } else if (type === 'STATIC') {
    staticAssignment = { clusterName: name, endpoints: [], overprovisioningFactor: defaultOverprovisioningFactor };
  }

  const { protocol, common: extensionCommon } = compileUpstreamProtocol(root, c);
  const pool: PoolSettings = {
    connectTimeoutMs: durationMs(root.field('connect_timeout'), c.connect_timeout) ?? defaultConnectTimeoutMs,
    idleTimeoutMs: defaultIdleTimeoutMs,
    maxRequestsPerConnection: uintWrapper(root.field('max_requests_per_connection'), c.max_requests_per_connection) ?? 0,
    protocol,
    tcpKeepaliveMs: compileTcpKeepalive(root.field('upstream_connection_options'), c.upstream_connection_options),
    tls: compileUpstreamTransportSocket(root.field('transport_socket'), c.transport_socket, secrets),
  };
  const transportSocketMatches = compileTransportSocketMatches(root.field('transport_socket_matches'), c.transport_socket_matches, secrets);
  if (pool.connectTimeoutMs <= 0) root.field('connect_timeout').reject('must be positive');
  const hasCommon = isPresent(c.common_http_protocol_options);
  const commonAt = root.field(hasCommon ? 'common_http_protocol_options'
    : `typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].common_http_protocol_options`);
  const http = optionalMessage(commonAt, hasCommon ? c.common_http_protocol_options : extensionCommon);
  if (http) {
    const hp = commonAt;
    checkFields(hp, http, httpProtocolFields);
    const idle = durationMs(hp.field('idle_timeout'), http.idle_timeout);
    // Envoy: 0 disables the idle timeout.
    if (idle !== undefined) pool.idleTimeoutMs = idle === 0 ? 2 ** 31 - 1 : idle;
    const perConnection = uintWrapper(hp.field('max_requests_per_connection'), http.max_requests_per_connection);
    if (perConnection !== undefined) pool.maxRequestsPerConnection = perConnection;
  }

  return {
    name,
    statName: string(root.field('alt_stat_name'), c.alt_stat_name) || name,
    type: type as ClusterSpec['type'],
    dns,
    edsServiceName,
    lbPolicy,
    lb,
    panicThreshold: common.panicThreshold,
    localityWeighted: common.localityWeighted,
    outlierDetection: isPresent(c.outlier_detection) ? compileOutlierDetection(root.field('outlier_detection'), c.outlier_detection) : null,
    limits: compileLimits(root.field('circuit_breakers'), c.circuit_breakers),
    pool,
    transportSocketMatches,
    poolKey: `${pool.connectTimeoutMs}/${pool.idleTimeoutMs}/${pool.maxRequestsPerConnection}/${pool.tcpKeepaliveMs}/${JSON.stringify(protocol)}/${pool.tls?.key ?? ''}`
      + `/${JSON.stringify(transportSocketMatches.map((m) => [m.name, [...m.match], m.tls?.key ?? '']))}`,
    staticAssignment,
    fingerprint: canonicalJson(c),
  };
}

/** lb_policy and its lb_config (at most one of them, and the one of that policy). */
function compileLoadBalancer(root: FieldPath, c: Message, lbPolicy: string, configFields: string[]): CompiledLoadBalancer {
  const policy = loadBalancerPolicy(lbPolicy);
  if (!policy) throw root.field('lb_policy').error(`${lbPolicy} is not supported (supported: ${registeredLoadBalancers().join(', ')})`);
  const present = configFields.filter((f) => isPresent(c[f]));
  if (present.length > 1) root.reject(`sets ${present.join(' and ')}; at most one load balancer config may be set`);
  if (present.length === 1 && present[0] !== policy.configField) {
    root.field(present[0]).reject(`does not apply to lb_policy ${lbPolicy}`);
  }
  const at = root.field(policy.configField ?? 'lb_policy');
  return policy.compile(at, policy.configField === null ? undefined : optionalMessage(at, c[policy.configField]));
}

function compileCommonLbConfig(at: FieldPath, value: unknown): { panicThreshold: number; localityWeighted: boolean } {
  const common = optionalMessage(at, value);
  if (!common) return { panicThreshold: defaultPanicThreshold, localityWeighted: false };
  checkFields(at, common, commonLbFields);
  durationMs(at.field('update_merge_window'), common.update_merge_window);
  bool(at.field('ignore_new_hosts_until_first_hc'), common.ignore_new_hosts_until_first_hc);
  const hashing = optionalMessage(at.field('consistent_hashing_lb_config'), common.consistent_hashing_lb_config);
  if (hashing) {
    const hp = at.field('consistent_hashing_lb_config');
    checkFields(hp, hashing, consistentHashingFields);
    if (bool(hp.field('use_hostname_for_hashing'), hashing.use_hostname_for_hashing)) {
      hp.field('use_hostname_for_hashing').reject('is not supported (endpoints are hashed by address)');
    }
  }
  const locality = optionalMessage(at.field('locality_weighted_lb_config'), common.locality_weighted_lb_config);
  if (locality) checkFields(at.field('locality_weighted_lb_config'), locality, new Set());
  // Envoy rounds the percentage to an integer.
  const threshold = percent(at.field('healthy_panic_threshold'), common.healthy_panic_threshold);
  return { panicThreshold: threshold === undefined ? defaultPanicThreshold : Math.round(threshold), localityWeighted: locality !== undefined };
}

function compileTcpKeepalive(at: FieldPath, value: unknown): number | null {
  const options = optionalMessage(at, value);
  if (!options) return null;
  checkFields(at, options, connectionOptionsFields);
  const keepalive = optionalMessage(at.field('tcp_keepalive'), options.tcp_keepalive);
  if (!keepalive) return null;
  checkFields(at.field('tcp_keepalive'), keepalive, tcpKeepaliveFields);
  const seconds = uintWrapper(at.field('tcp_keepalive').field('keepalive_time'), keepalive.keepalive_time);
  return seconds === undefined ? 0 : seconds * 1000;
}

function compileLimits(at: FieldPath, value: unknown): CircuitBreakerLimits {
  const limits: CircuitBreakerLimits = { ...defaultLimits, retryBudget: null };
  const cb = optionalMessage(at, value);
  if (!cb) return limits;
  checkFields(at, cb, circuitBreakerFields);
  let seenDefault = false;
  repeated(at.field('thresholds'), cb.thresholds).forEach((t, i) => {
    const tp = at.field('thresholds').item(i);
    const threshold = message(tp, t);
    checkFields(tp, threshold, thresholdFields);
    bool(tp.field('track_remaining'), threshold.track_remaining);
    const priority = (threshold.priority ?? 'DEFAULT') as string;
    // Routes always use the DEFAULT priority (route.priority is not supported), so HIGH never applies.
    if (priority === 'HIGH') return;
    if (priority !== 'DEFAULT') tp.field('priority').reject(`${priority} is not a known priority`);
    if (seenDefault) tp.field('priority').reject('DEFAULT appears twice');
    seenDefault = true;
    limits.maxConnections = uintWrapper(tp.field('max_connections'), threshold.max_connections) ?? limits.maxConnections;
    limits.maxPendingRequests = uintWrapper(tp.field('max_pending_requests'), threshold.max_pending_requests) ?? limits.maxPendingRequests;
    limits.maxRequests = uintWrapper(tp.field('max_requests'), threshold.max_requests) ?? limits.maxRequests;
    limits.maxRetries = uintWrapper(tp.field('max_retries'), threshold.max_retries) ?? limits.maxRetries;
    limits.retryBudget = compileRetryBudget(tp.field('retry_budget'), threshold.retry_budget);
  });
  return limits;
}

/** Envoy's defaults: 20 % of active requests, at least 3 concurrent retries. */
function compileRetryBudget(at: FieldPath, value: unknown): RetryBudget | null {
  const budget = optionalMessage(at, value);
  if (!budget) return null;
  checkFields(at, budget, retryBudgetFields);
  let budgetPercent = 20;
  const percent = optionalMessage(at.field('budget_percent'), budget.budget_percent);
  if (percent) {
    const v = percent.value ?? 0;
    if (typeof v !== 'number' || !(v >= 0 && v <= 100)) throw at.field('budget_percent').field('value').error('must be a number between 0 and 100');
    budgetPercent = v;
  }
  const minRetryConcurrency = uintWrapper(at.field('min_retry_concurrency'), budget.min_retry_concurrency) ?? 3;
  return { budgetPercent, minRetryConcurrency };
}
