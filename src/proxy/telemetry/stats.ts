// The proxy's Prometheus view, with Envoy's metric names as Envoy's Prometheus output spells them.
//
// Cost rule: no label strings are built per request. prom-client's labelled child
// (`counter.labels(...).inc()`) re-hashes its label object on every inc (prom-client 15's
// `hashObject` + `validateLabel`), so caching the child would still build a string per request.
// Instead the hot path increments plain numeric fields of a stat object resolved once per cluster,
// connection manager or listener (stat-objects.ts), and each metric here reads those fields in its
// `collect()` when the registry is scraped: labels are built at scrape time only.
import { Counter, Gauge, Registry } from 'prom-client';
import {
  ClusterStats, ExtAuthzStats, FaultFilterStats, HttpConnectionManagerStats, ListenerStats, NetworkRbacStats, OutlierDetectionStats, RbacFilterStats,
  TcpProxyStats, codeClasses, outlierEjectionKinds,
} from './stat-objects.ts';
import { IstioMetricFamilies } from './istio-metric-families.ts';

type Labels = Record<string, string>;
type Emit = (labels: Labels, value: number) => void;

export class ProxyStats {
  readonly registry: Registry;
  readonly clusters = new Map<string, ClusterStats>();
  readonly httpConnectionManagers = new Map<string, HttpConnectionManagerStats>();
  readonly tcpProxies = new Map<string, TcpProxyStats>();
  readonly listeners = new Map<string, ListenerStats>();
  /** Network RBAC filters by stat_prefix. */
  readonly networkRbac = new Map<string, NetworkRbacStats>();
  /** Istio's standard metrics (istio_requests_total, ...), reported by istio-metrics.ts. */
  readonly istio: IstioMetricFamilies;

  constructor() {
    this.registry = new Registry();
    this.istio = new IstioMetricFamilies(this.registry);
    const clusters = this.clusters;
    const hcms = this.httpConnectionManagers;
    const tcps = this.tcpProxies;
    const listeners = this.listeners;
    const cluster = ['envoy_cluster_name'];
    const hcm = ['envoy_http_conn_manager_prefix'];

    // Clusters.
    this.counter('envoy_cluster_upstream_rq_total', 'Total upstream requests', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqTotal);
    });
    this.counter('envoy_cluster_upstream_rq', 'Upstream requests by response code', [...cluster, 'envoy_response_code'], (emit) => {
      for (const s of clusters.values()) {
        const codes = s.upstreamRqByCode;
        for (let code = 100; code < 600; code++) {
          if (codes[code] > 0) emit({ envoy_cluster_name: s.name, envoy_response_code: String(code) }, codes[code]);
        }
      }
    });
    this.counter('envoy_cluster_upstream_rq_xx', 'Upstream requests by response code class', [...cluster, 'envoy_response_code_class'], (emit) => {
      for (const s of clusters.values()) {
        for (const c of codeClasses) {
          if (s.upstreamRqByClass[c] > 0) emit({ envoy_cluster_name: s.name, envoy_response_code_class: String(c) }, s.upstreamRqByClass[c]);
        }
      }
    });
    this.gauge('envoy_cluster_upstream_rq_active', 'Active upstream requests', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqActive);
    });
    this.gauge('envoy_cluster_upstream_rq_pending_active', 'Upstream requests waiting for a connection', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqPendingActive);
    });
    this.counter('envoy_cluster_upstream_rq_pending_overflow', 'Requests that overflowed a circuit breaker (max_requests or max_pending_requests)', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqPendingOverflow);
    });
    this.counter('envoy_cluster_upstream_rq_timeout', 'Requests that timed out waiting for a response', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqTimeout);
    });
    this.counter('envoy_cluster_upstream_rq_cancelled', 'Requests cancelled before a response (downstream went away)', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqCancelled);
    });
    this.counter('envoy_cluster_upstream_rq_retry', 'Request retries started', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqRetry);
    });
    this.counter('envoy_cluster_upstream_rq_retry_success', 'Retried requests whose next attempt was not retried again', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqRetrySuccess);
    });
    this.counter('envoy_cluster_upstream_rq_retry_overflow', 'Retries not started because of the max_retries circuit breaker or retry budget', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqRetryOverflow);
    });
    this.counter('envoy_cluster_upstream_rq_retry_limit_exceeded', 'Retriable failures not retried because num_retries was used up', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqRetryLimitExceeded);
    });
    this.counter('envoy_cluster_upstream_rq_per_try_timeout', 'Attempts that hit the per_try_timeout', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamRqPerTryTimeout);
    });
    this.counter('envoy_cluster_retry_upstream_rq', 'Response codes of attempts that were retried, by code', [...cluster, 'envoy_response_code'], (emit) => {
      for (const s of clusters.values()) {
        const codes = s.retryUpstreamRqByCode;
        if (codes === null) continue;
        for (let code = 100; code < 600; code++) {
          if (codes[code] > 0) emit({ envoy_cluster_name: s.name, envoy_response_code: String(code) }, codes[code]);
        }
      }
    });
    this.counter('envoy_cluster_mirror_rq_total', 'Mirror copies of requests (route request_mirror_policies) sent to the cluster', cluster, (emit) => {
      for (const s of clusters.values()) if (s.mirrorRqTotal > 0) emit(s.labels, s.mirrorRqTotal);
    });
    this.counter('envoy_cluster_mirror_rq_abandoned', 'Mirror copies abandoned because their copy of the request body fell too far behind', cluster, (emit) => {
      for (const s of clusters.values()) if (s.mirrorRqTotal > 0) emit(s.labels, s.mirrorRqAbandoned);
    });
    this.counter('envoy_cluster_upstream_cx_total', 'Total upstream connections', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamCxTotal);
    });
    this.gauge('envoy_cluster_upstream_cx_active', 'Active upstream connections', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamCxActive);
    });
    this.counter('envoy_cluster_upstream_cx_connect_fail', 'Upstream connection failures', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamCxConnectFail);
    });
    this.counter('envoy_cluster_upstream_cx_connect_attempts_exceeded', 'Connections closed after max_connect_attempts failed connects', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamCxConnectAttemptsExceeded);
    });
    this.counter('envoy_cluster_upstream_cx_overflow', 'Times the max_connections circuit breaker was hit', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamCxOverflow);
    });
    this.counter('envoy_cluster_upstream_cx_none_healthy', 'Times no healthy endpoint was available', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.upstreamCxNoneHealthy);
    });
    this.gauge('envoy_cluster_membership_healthy', 'Healthy endpoints', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.membershipHealthy);
    }, 'max');
    this.gauge('envoy_cluster_membership_total', 'Endpoints', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.membershipTotal);
    }, 'max');
    this.gauge('envoy_cluster_membership_degraded', 'Degraded endpoints', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.membershipDegraded);
    }, 'max');
    this.counter('envoy_cluster_lb_healthy_panic', 'Endpoint picks made in panic mode (healthy share below healthy_panic_threshold)', cluster, (emit) => {
      for (const s of clusters.values()) emit(s.labels, s.lbHealthyPanic);
    });

    // Outlier detection of clusters (Envoy: cluster.<name>.outlier_detection.*), only where it is configured.
    this.gauge('envoy_cluster_outlier_detection_ejections_active', 'Endpoints ejected by outlier detection now', cluster, (emit) => {
      for (const s of clusters.values()) if (s.outlierDetection !== null) emit(s.labels, s.outlierDetection.ejectionsActive);
    });
    this.counter('envoy_cluster_outlier_detection_ejections_overflow', 'Ejections not done because of max_ejection_percent', cluster, (emit) => {
      for (const s of clusters.values()) if (s.outlierDetection !== null) emit(s.labels, s.outlierDetection.ejectionsOverflow);
    });
    this.counter('envoy_cluster_outlier_detection_ejections_enforced_total', 'Ejections done, of any kind', cluster, (emit) => {
      for (const s of clusters.values()) if (s.outlierDetection !== null) emit(s.labels, s.outlierDetection.ejectionsEnforcedTotal);
    });
    outlierEjectionKinds.forEach((kind, i) => {
      this.counter(`envoy_cluster_outlier_detection_ejections_enforced_${kind}`, `Ejections done (${kind})`, cluster, (emit) => {
        for (const s of clusters.values()) if (s.outlierDetection !== null) emit(s.labels, s.outlierDetection.ejectionsEnforced[i]);
      });
      this.counter(`envoy_cluster_outlier_detection_ejections_detected_${kind}`, `Outliers detected, ejected or not (${kind})`, cluster, (emit) => {
        for (const s of clusters.values()) if (s.outlierDetection !== null) emit(s.labels, s.outlierDetection.ejectionsDetected[i]);
      });
    });

    // HTTP connection managers (and their router).
    this.counter('envoy_http_downstream_cx_total', 'Downstream connections', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxTotal);
    });
    this.gauge('envoy_http_downstream_cx_active', 'Active downstream connections', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxActive);
    });
    this.counter('envoy_http_downstream_cx_http1_total', 'Downstream HTTP/1.1 connections', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxHttp1Total);
    });
    this.counter('envoy_http_downstream_cx_http2_total', 'Downstream HTTP/2 connections', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxHttp2Total);
    });
    this.counter('envoy_http_downstream_cx_protocol_error', 'Downstream connections closed for a protocol error', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxProtocolError);
    });
    this.counter('envoy_http_downstream_cx_upgrades_total', 'Upgraded downstream connections (WebSocket)', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxUpgradesTotal);
    });
    this.gauge('envoy_http_downstream_cx_upgrades_active', 'Upgraded downstream connections open now', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamCxUpgradesActive);
    });
    this.counter('envoy_http_downstream_rq_total', 'Downstream requests', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamRqTotal);
    });
    this.gauge('envoy_http_downstream_rq_active', 'Active downstream requests', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.downstreamRqActive);
    });
    this.counter('envoy_http_downstream_rq_xx', 'Downstream responses by code class', [...hcm, 'envoy_response_code_class'], (emit) => {
      for (const s of hcms.values()) {
        for (const c of codeClasses) {
          emit({ envoy_http_conn_manager_prefix: s.prefix, envoy_response_code_class: String(c) }, s.downstreamRqByClass[c]);
        }
      }
    });
    this.counter('envoy_http_no_route', 'Requests with no matching route', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.noRoute);
    });
    this.counter('envoy_http_no_cluster', 'Requests whose route names an unknown cluster', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.noCluster);
    });
    this.counter('envoy_http_mirror_no_cluster', 'Mirror copies not sent because the mirror cluster does not exist', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.mirrorNoCluster);
    });
    this.counter('envoy_http_rq_direct_response', 'Requests answered by a direct_response route', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.rqDirectResponse);
    });
    this.counter('envoy_http_rq_redirect', 'Requests answered by a redirect route', hcm, (emit) => {
      for (const s of hcms.values()) emit(s.labels, s.rqRedirect);
    });

    // The fault filter of HTTP connection managers (Envoy: http.<stat_prefix>.fault.*), only where one is configured.
    this.counter('envoy_http_fault_delays_injected', 'Requests delayed by the fault filter', hcm, (emit) => {
      for (const s of hcms.values()) if (s.fault !== null) emit(s.labels, s.fault.delaysInjected);
    });
    this.counter('envoy_http_fault_aborts_injected', 'Requests aborted by the fault filter', hcm, (emit) => {
      for (const s of hcms.values()) if (s.fault !== null) emit(s.labels, s.fault.abortsInjected);
    });
    this.gauge('envoy_http_fault_active_faults', 'Requests with a fault injected that are not finished', hcm, (emit) => {
      for (const s of hcms.values()) if (s.fault !== null) emit(s.labels, s.fault.activeFaults);
    });
    this.counter('envoy_http_cors_origin_valid', 'Requests whose Origin a CORS policy allowed', hcm, (emit) => {
      for (const s of hcms.values()) if (s.cors !== null) emit(s.labels, s.cors.originValid);
    });
    this.counter('envoy_http_cors_origin_invalid', 'Requests whose Origin no CORS policy allowed', hcm, (emit) => {
      for (const s of hcms.values()) if (s.cors !== null) emit(s.labels, s.cors.originInvalid);
    });
    this.counter('envoy_http_fault_faults_overflow', 'Faults not injected because max_active_faults was reached', hcm, (emit) => {
      for (const s of hcms.values()) if (s.fault !== null) emit(s.labels, s.fault.faultsOverflow);
    });

    // RBAC filters of HTTP connection managers (Envoy: http.<stat_prefix>.rbac.<rules_stat_prefix>allowed, ...):
    // the rules / shadow rules stat prefix is the envoy_rbac_prefix label.
    const rbacCounter = (name: string, help: string, shadow: boolean, read: (s: RbacFilterStats) => number): void => {
      this.counter(`envoy_http_rbac_${name}`, help, [...hcm, 'envoy_rbac_prefix'], (emit) => {
        for (const h of hcms.values()) {
          if (h.rbac === null) continue;
          for (const r of h.rbac) {
            emit({ envoy_http_conn_manager_prefix: h.prefix, envoy_rbac_prefix: shadow ? r.shadowRulesPrefix : r.rulesPrefix }, read(r));
          }
        }
      });
    };
    rbacCounter('allowed', 'Requests the RBAC filter allowed', false, (r) => r.allowed);
    rbacCounter('denied', 'Requests the RBAC filter denied', false, (r) => r.denied);
    rbacCounter('shadow_allowed', 'Requests the RBAC shadow rules would allow', true, (r) => r.shadowAllowed);
    rbacCounter('shadow_denied', 'Requests the RBAC shadow rules would deny', true, (r) => r.shadowDenied);
    // JWT authentication (Envoy: http.<stat_prefix>.jwt_authn.*).
    this.counter('envoy_http_jwt_authn_allowed', 'Requests the JWT filter let through', hcm, (emit) => {
      for (const s of hcms.values()) if (s.jwtAuthn !== null) emit(s.labels, s.jwtAuthn.allowed);
    });
    this.counter('envoy_http_jwt_authn_denied', 'Requests the JWT filter refused (401/403)', hcm, (emit) => {
      for (const s of hcms.values()) if (s.jwtAuthn !== null) emit(s.labels, s.jwtAuthn.denied);
    });
    this.counter('envoy_http_jwt_authn_cors_preflight_bypassed', 'CORS preflights the JWT filter let through unverified', hcm, (emit) => {
      for (const s of hcms.values()) if (s.jwtAuthn !== null) emit(s.labels, s.jwtAuthn.corsPreflightBypassed);
    });
    // External authorization (Envoy: http.<stat_prefix>.ext_authz.[<filter stat_prefix>.]*).
    const extAuthzCounter = (name: string, help: string, read: (s: ExtAuthzStats) => number): void => {
      this.counter(`envoy_http_ext_authz_${name}`, help, [...hcm, 'envoy_ext_authz_prefix'], (emit) => {
        for (const h of hcms.values()) {
          if (h.extAuthz === null) continue;
          for (const x of h.extAuthz.values()) emit({ envoy_http_conn_manager_prefix: h.prefix, envoy_ext_authz_prefix: x.statPrefix }, read(x));
        }
      });
    };
    extAuthzCounter('ok', 'Requests the external authorizer allowed', (x) => x.ok);
    extAuthzCounter('denied', 'Requests the external authorizer denied', (x) => x.denied);
    extAuthzCounter('error', 'External authorization checks that failed', (x) => x.error);
    extAuthzCounter('failure_mode_allowed', 'Failed checks whose request went on (failure_mode_allow)', (x) => x.failureModeAllowed);
    extAuthzCounter('disabled', 'Requests the ext_authz filter did not check', (x) => x.disabled);
    // Network RBAC filters (Envoy: <stat_prefix>.rbac.*).
    const rbacs = this.networkRbac;
    const rbacPrefix = ['envoy_rbac_stat_prefix'];
    this.counter('envoy_rbac_allowed', 'Connections the network RBAC filter allowed', rbacPrefix, (emit) => {
      for (const s of rbacs.values()) emit(s.labels, s.filter.allowed);
    });
    this.counter('envoy_rbac_denied', 'Connections the network RBAC filter denied (closed)', rbacPrefix, (emit) => {
      for (const s of rbacs.values()) emit(s.labels, s.filter.denied);
    });
    this.counter('envoy_rbac_shadow_allowed', 'Connections the network RBAC shadow rules would allow', rbacPrefix, (emit) => {
      for (const s of rbacs.values()) emit(s.labels, s.filter.shadowAllowed);
    });
    this.counter('envoy_rbac_shadow_denied', 'Connections the network RBAC shadow rules would deny', rbacPrefix, (emit) => {
      for (const s of rbacs.values()) emit(s.labels, s.filter.shadowDenied);
    });

    // TCP proxies.
    this.counter('envoy_tcp_downstream_cx_total', 'Downstream connections', ['envoy_tcp_prefix'], (emit) => {
      for (const s of tcps.values()) emit(s.labels, s.downstreamCxTotal);
    });
    this.counter('envoy_tcp_downstream_cx_no_route', 'Connections with no usable cluster or endpoint', ['envoy_tcp_prefix'], (emit) => {
      for (const s of tcps.values()) emit(s.labels, s.downstreamCxNoRoute);
    });
    this.counter('envoy_tcp_downstream_cx_rx_bytes_total', 'Bytes received from downstream', ['envoy_tcp_prefix'], (emit) => {
      for (const s of tcps.values()) emit(s.labels, s.downstreamCxRxBytesTotal);
    });
    this.counter('envoy_tcp_downstream_cx_tx_bytes_total', 'Bytes sent to downstream', ['envoy_tcp_prefix'], (emit) => {
      for (const s of tcps.values()) emit(s.labels, s.downstreamCxTxBytesTotal);
    });
    this.counter('envoy_tcp_idle_timeout', 'Connections closed by the idle timeout', ['envoy_tcp_prefix'], (emit) => {
      for (const s of tcps.values()) emit(s.labels, s.idleTimeout);
    });

    // Listeners.
    this.counter('envoy_listener_downstream_cx_total', 'Accepted connections', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.downstreamCxTotal);
    });
    this.gauge('envoy_listener_downstream_cx_active', 'Open accepted connections', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.downstreamCxActive);
    });
    this.counter('envoy_listener_no_filter_chain_match', 'Connections that matched no filter chain', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.noFilterChainMatch);
    });
    this.gauge('envoy_listener_downstream_pre_cx_active', 'Connections in listener filters', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.downstreamPreCxActive);
    });
    this.counter('envoy_listener_downstream_pre_cx_timeout', 'Connections whose listener filters timed out', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.downstreamPreCxTimeout);
    });
    this.counter('envoy_listener_downstream_listener_filter_error', 'Connections closed by a listener filter error', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.downstreamListenerFilterError);
    });
    this.counter('envoy_listener_downstream_listener_filter_remote_close', 'Connections closed by the peer during listener filters', ['envoy_listener_address'], (emit) => {
      for (const s of listeners.values()) emit(s.labels, s.downstreamListenerFilterRemoteClose);
    });
  }

  /** The stat object of a cluster, created on first use. Resolve once per cluster, not per request. */
  cluster(name: string): ClusterStats {
    let s = this.clusters.get(name);
    if (!s) this.clusters.set(name, (s = new ClusterStats(name)));
    return s;
  }

  /** Forgets a removed cluster's stats (Envoy drops them with the cluster). */
  removeCluster(name: string): void {
    this.clusters.delete(name);
  }

  httpConnectionManager(prefix: string): HttpConnectionManagerStats {
    let s = this.httpConnectionManagers.get(prefix);
    if (!s) this.httpConnectionManagers.set(prefix, (s = new HttpConnectionManagerStats(prefix)));
    return s;
  }

  tcpProxy(prefix: string): TcpProxyStats {
    let s = this.tcpProxies.get(prefix);
    if (!s) this.tcpProxies.set(prefix, (s = new TcpProxyStats(prefix)));
    return s;
  }

  /** A network RBAC filter's stats, created on first use (config time). */
  networkRbacStats(prefix: string, shadowRulesPrefix: string): NetworkRbacStats {
    let s = this.networkRbac.get(prefix);
    if (!s) this.networkRbac.set(prefix, (s = new NetworkRbacStats(prefix, shadowRulesPrefix)));
    return s;
  }

  listener(address: string): ListenerStats {
    let s = this.listeners.get(address);
    if (!s) this.listeners.set(address, (s = new ListenerStats(address)));
    return s;
  }

  private counter(name: string, help: string, labelNames: string[], read: (emit: Emit) => void): void {
    new Counter({
      name, help, labelNames, registers: [this.registry],
      collect(this: Counter<string>) {
        this.reset();
        read((labels, value) => this.inc(labels, value));
      },
    });
  }

  /**
   * `aggregator`: how the workers of --concurrency N merge this gauge (prom-client's aggregation):
   * 'sum' for what each worker counts for itself, 'max' for each worker's view of the same thing
   * (a cluster's endpoints), which must not be counted N times.
   */
  private gauge(name: string, help: string, labelNames: string[], read: (emit: Emit) => void, aggregator: 'sum' | 'max' = 'sum'): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry], aggregator,
      collect(this: Gauge<string>) {
        this.reset();
        read((labels, value) => this.set(labels, value));
      },
    });
  }
}

export { ClusterStats, FaultFilterStats, HttpConnectionManagerStats, ListenerStats, OutlierDetectionStats, TcpProxyStats };
