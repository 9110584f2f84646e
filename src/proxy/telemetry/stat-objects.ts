// The proxy's counters and gauges as plain numeric fields, one object per cluster, per HTTP connection
// manager stat_prefix, per TCP proxy stat_prefix and per listener address. The hot path resolves its
// object once (when a cluster or listener is built) and then only does `stats.field++`; the Prometheus
// view (stats.ts) reads these fields when scraped, as Envoy's own stats sinks do.

/** Response code classes 1xx..5xx are indexes 1..5. */
export const codeClasses = [1, 2, 3, 4, 5] as const;

export class ClusterStats {
  readonly name: string;
  readonly labels: { envoy_cluster_name: string };
  upstreamRqTotal = 0;
  upstreamRqActive = 0;
  upstreamRqPendingActive = 0;
  upstreamRqPendingOverflow = 0;
  upstreamRqTimeout = 0;
  upstreamRqCancelled = 0;
  /** Retries started (the router's retry state said yes). */
  upstreamRqRetry = 0;
  /** A retried request whose next attempt was not retried again (Envoy's loose definition of success). */
  upstreamRqRetrySuccess = 0;
  /** Retries not started because the cluster's max_retries / retry budget was reached. */
  upstreamRqRetryOverflow = 0;
  /** Retriable failures with num_retries used up (response flag URX). */
  upstreamRqRetryLimitExceeded = 0;
  /** Attempts that hit the route's per_try_timeout. */
  upstreamRqPerTryTimeout = 0;
  /** Mirror copies (route request_mirror_policies) sent to this cluster; also counted in upstreamRqTotal, as Envoy does. */
  mirrorRqTotal = 0;
  /** Mirror copies abandoned because the copy of the request body fell too far behind. */
  mirrorRqAbandoned = 0;
  upstreamCxTotal = 0;
  upstreamCxActive = 0;
  upstreamCxConnectFail = 0;
  upstreamCxOverflow = 0;
  upstreamCxNoneHealthy = 0;
  /** tcp_proxy connections that failed max_connect_attempts times in a row. */
  upstreamCxConnectAttemptsExceeded = 0;
  membershipHealthy = 0;
  membershipTotal = 0;
  /** Degraded endpoints (EDS DEGRADED, not ejected). */
  membershipDegraded = 0;
  /** Picks made in panic mode (the chosen priority's healthy share below healthy_panic_threshold). */
  lbHealthyPanic = 0;
  /** outlier_detection.* stats; null when the cluster has no outlier detection. */
  outlierDetection: OutlierDetectionStats | null = null;
  /** Indexed by HTTP status code (100..599). */
  readonly upstreamRqByCode = new Float64Array(600);
  /** Indexed by status class (1..5). */
  readonly upstreamRqByClass = new Float64Array(6);
  /** Response codes of attempts that were retried (Envoy's cluster.<name>.retry.upstream_rq_<code>), by code; allocated on first use. */
  retryUpstreamRqByCode: Float64Array | null = null;

  constructor(name: string) {
    this.name = name;
    this.labels = { envoy_cluster_name: name };
  }

  /** The cluster's outlier detection stats, created on first use (config time). */
  outlierDetectionStats(): OutlierDetectionStats {
    if (this.outlierDetection === null) this.outlierDetection = new OutlierDetectionStats();
    return this.outlierDetection;
  }

  /** Counts the response code of an attempt that is being retried instead of forwarded. */
  recordRetriedCode(status: number): void {
    if (status < 100 || status >= 600) return;
    if (this.retryUpstreamRqByCode === null) this.retryUpstreamRqByCode = new Float64Array(600);
    this.retryUpstreamRqByCode[status]++;
  }

  /** Counts a response code seen from (or charged to) the upstream. */
  recordCode(status: number): void {
    if (status >= 100 && status < 600) {
      this.upstreamRqByCode[status]++;
      this.upstreamRqByClass[(status / 100) | 0]++;
    }
  }
}

/**
 * Envoy's outlier ejection kinds, in the order of OutlierDetectionStats' per-kind arrays: the stats are
 * outlier_detection.ejections_enforced_<kind> and outlier_detection.ejections_detected_<kind>.
 */
export const outlierEjectionKinds = [
  'consecutive_5xx', 'consecutive_gateway_failure', 'consecutive_local_origin_failure', 'success_rate', 'local_origin_success_rate',
  'failure_percentage', 'local_origin_failure_percentage',
] as const;

/** A cluster's outlier_detection.* stats. */
export class OutlierDetectionStats {
  /** Endpoints ejected now (gauge). */
  ejectionsActive = 0;
  /** Ejections not done because of max_ejection_percent. */
  ejectionsOverflow = 0;
  ejectionsEnforcedTotal = 0;
  /** By kind (outlierEjectionKinds). */
  readonly ejectionsEnforced = new Float64Array(outlierEjectionKinds.length);
  /** Outliers detected by kind, whether or not they were ejected. */
  readonly ejectionsDetected = new Float64Array(outlierEjectionKinds.length);
}

export class HttpConnectionManagerStats {
  readonly prefix: string;
  readonly labels: { envoy_http_conn_manager_prefix: string };
  downstreamCxTotal = 0;
  downstreamCxActive = 0;
  /** Connections by the codec that served them (HTTP/1.1 or HTTP/2). */
  downstreamCxHttp1Total = 0;
  downstreamCxHttp2Total = 0;
  /** Upgraded connections (WebSocket) relayed after a 101. */
  downstreamCxUpgradesTotal = 0;
  downstreamCxUpgradesActive = 0;
  /** HTTP/1.1 connections closed for bytes that are not a valid request (a 400, 431 or 501 went back). */
  downstreamCxProtocolError = 0;
  downstreamRqTotal = 0;
  downstreamRqActive = 0;
  /** Indexed by status class (1..5). */
  readonly downstreamRqByClass = new Float64Array(6);
  noRoute = 0;
  noCluster = 0;
  rqDirectResponse = 0;
  /** Requests answered by a redirect route (also counted in rqDirectResponse, as Envoy does). */
  rqRedirect = 0;
  /** Mirror copies not sent because the mirror policy's cluster does not exist. */
  mirrorNoCluster = 0;
  /** The fault filter's stats (`<stat_prefix>.fault.*`), created when a fault filter is configured. */
  fault: FaultFilterStats | null = null;
  /** The CORS filter's stats (`<stat_prefix>.cors.*`), created when a CORS filter is configured. */
  cors: CorsFilterStats | null = null;
  /** The RBAC filters' stats (`<stat_prefix>.rbac.*`), one per pair of rules / shadow rules stat prefixes; null when none is configured. */
  rbac: RbacFilterStats[] | null = null;
  /** The JWT filter's stats (`<stat_prefix>.jwt_authn.*`), created when a jwt_authn filter is configured. */
  jwtAuthn: JwtAuthnStats | null = null;
  /** The ext_authz filters' stats (`<stat_prefix>.ext_authz.[<filter stat_prefix>.]*`) by filter stat_prefix. */
  extAuthz: Map<string, ExtAuthzStats> | null = null;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.labels = { envoy_http_conn_manager_prefix: prefix };
  }

  /** The stats of an RBAC filter with these rules_stat_prefix / shadow_rules_stat_prefix, created on first use (config time). */
  rbacStats(rulesPrefix: string, shadowRulesPrefix: string): RbacFilterStats {
    const list = (this.rbac ??= []);
    for (const s of list) if (s.rulesPrefix === rulesPrefix && s.shadowRulesPrefix === shadowRulesPrefix) return s;
    const s = new RbacFilterStats(rulesPrefix, shadowRulesPrefix);
    list.push(s);
    return s;
  }

  /** The JWT filter's stats of this connection manager, created on first use (config time). */
  jwtAuthnStats(): JwtAuthnStats {
    if (this.jwtAuthn === null) this.jwtAuthn = new JwtAuthnStats();
    return this.jwtAuthn;
  }

  /** The stats of the ext_authz filters with this stat_prefix: the same object across config updates. */
  extAuthzStats(statPrefix: string): ExtAuthzStats {
    const sets = (this.extAuthz ??= new Map());
    let s = sets.get(statPrefix);
    if (s === undefined) sets.set(statPrefix, s = new ExtAuthzStats(statPrefix));
    return s;
  }

  /** The fault filter's stats of this connection manager, created on first use (config time). */
  faultStats(): FaultFilterStats {
    if (this.fault === null) this.fault = new FaultFilterStats();
    return this.fault;
  }

  /** The CORS filter's stats of this connection manager, created on first use (config time). */
  corsStats(): CorsFilterStats {
    if (this.cors === null) this.cors = new CorsFilterStats();
    return this.cors;
  }

  recordResponse(status: number): void {
    if (status >= 100 && status < 600) this.downstreamRqByClass[(status / 100) | 0]++;
  }
}

/** envoy.filters.http.jwt_authn's counters of one connection manager. */
export class JwtAuthnStats {
  /** Requests let through (verified, allowed missing, no requirement, bypassed preflights). */
  allowed = 0;
  /** Requests answered with 401 / 403. */
  denied = 0;
  /** CORS preflights let through without verification (bypass_cors_preflight). */
  corsPreflightBypassed = 0;
}

/** envoy.filters.http.ext_authz's counters of the filters with one stat_prefix in one connection manager. */
export class ExtAuthzStats {
  /** The filter's stat_prefix ('' when unset). */
  readonly statPrefix: string;
  /** Requests the authorization service allowed. */
  ok = 0;
  /** Requests the authorization service denied. */
  denied = 0;
  /** Checks that failed: service unreachable, timed out, answered 5xx. */
  error = 0;
  /** Failed checks whose request went on because of failure_mode_allow. */
  failureModeAllowed = 0;
  /** Requests the filter did not check because filter_enabled / filter_enabled_metadata said so. */
  disabled = 0;

  constructor(statPrefix: string) {
    this.statPrefix = statPrefix;
  }
}

/** envoy.filters.http.cors's counters of one connection manager; requests without Origin are not counted, as in Envoy. */
export class CorsFilterStats {
  /** Requests whose Origin a CORS policy allowed. */
  originValid = 0;
  /** Requests whose Origin no CORS policy allowed. */
  originInvalid = 0;
}

/**
 * An RBAC filter's counters (Envoy: `<rules_stat_prefix>allowed` / `denied` for the enforced rules,
 * `<shadow_rules_stat_prefix>shadow_allowed` / `shadow_denied` for the shadow rules). HTTP filters keep
 * them under their connection manager; network filters by their stat_prefix.
 */
export class RbacFilterStats {
  readonly rulesPrefix: string;
  readonly shadowRulesPrefix: string;
  allowed = 0;
  denied = 0;
  shadowAllowed = 0;
  shadowDenied = 0;

  constructor(rulesPrefix: string, shadowRulesPrefix: string) {
    this.rulesPrefix = rulesPrefix;
    this.shadowRulesPrefix = shadowRulesPrefix;
  }
}

/** A network RBAC filter's stats by its stat_prefix (Envoy: `<stat_prefix>.rbac.*`). */
export class NetworkRbacStats {
  readonly prefix: string;
  readonly labels: { envoy_rbac_stat_prefix: string };
  readonly filter: RbacFilterStats;

  constructor(prefix: string, shadowRulesPrefix: string) {
    this.prefix = prefix;
    this.labels = { envoy_rbac_stat_prefix: prefix };
    this.filter = new RbacFilterStats('', shadowRulesPrefix);
  }
}

/** envoy.filters.http.fault's stats of one connection manager. */
export class FaultFilterStats {
  delaysInjected = 0;
  abortsInjected = 0;
  /** Requests with a fault injected and not finished yet (one per request, delay and abort together). */
  activeFaults = 0;
  /** Faults not injected because max_active_faults was reached. */
  faultsOverflow = 0;
}

export class TcpProxyStats {
  readonly prefix: string;
  readonly labels: { envoy_tcp_prefix: string };
  downstreamCxTotal = 0;
  downstreamCxNoRoute = 0;
  downstreamCxRxBytesTotal = 0;
  downstreamCxTxBytesTotal = 0;
  /** Connections closed by idle_timeout. */
  idleTimeout = 0;

  constructor(prefix: string) {
    this.prefix = prefix;
    this.labels = { envoy_tcp_prefix: prefix };
  }
}

export class ListenerStats {
  /** Envoy's label value: `0.0.0.0_15001`. */
  readonly address: string;
  readonly labels: { envoy_listener_address: string };
  downstreamCxTotal = 0;
  downstreamCxActive = 0;
  /** Connections closed because no filter chain (and no default_filter_chain) matched. */
  noFilterChainMatch = 0;
  /** Connections in their listener filters (inspectors). */
  downstreamPreCxActive = 0;
  /** Connections whose listener filters hit listener_filters_timeout. */
  downstreamPreCxTimeout = 0;
  /** Connections closed by a listener filter (e.g. a ClientHello too large to inspect). */
  downstreamListenerFilterError = 0;
  /** Connections the peer closed while their listener filters were still reading. */
  downstreamListenerFilterRemoteClose = 0;

  constructor(address: string) {
    this.address = address;
    this.labels = { envoy_listener_address: address };
  }
}
